package proxy

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"

	"github.com/gatehouse-dev/gatehouse/access"
)

// requestState is everything the proxy keeps about one request, allocated
// once per request: what Observe reports, the writer that records the
// status, the request's in-flight entry (live.go), what the forwarded copy
// of the request must look like, and the request's context, which carries
// the state and is cancellable, so that a revocation can abandon the
// request while it is in flight.
type requestState struct {
	observation
	sw     statusWriter
	cancel context.CancelCauseFunc
	live   liveConn
	plan   forwardPlan
	ctx    stateContext
}

type stateKey struct{}

// stateContext is the request's context: the cancellable context attach
// derives from the inbound one, answering stateKey with the state itself
// (a context.WithValue of its own, without the allocation) and, once
// traceOrigin set traced, httptrace's key with the in-flight entry's
// transport hooks (a httptrace.WithClientTrace of its own).
type stateContext struct {
	context.Context
	st     *requestState
	traced atomic.Bool
}

func (c *stateContext) Value(key any) any {
	if key == (stateKey{}) {
		return c.st
	}
	if c.traced.Load() && key == clientTraceKey {
		return &c.st.live.hooks
	}
	return c.Context.Value(key)
}

// traceable reports whether c can answer httptrace's key itself: the key
// is known and no outer context has a trace of its own (which
// httptrace.WithClientTrace would compose with).
func (c *stateContext) traceable() bool {
	return clientTraceKey != nil && httptrace.ContextClientTrace(c.Context) == nil
}

// clientTraceKey is the context key under which net/http/httptrace keeps
// a request's ClientTrace, read from httptrace itself: the key its
// ContextClientTrace asks a context for. nil if it asks for none.
var clientTraceKey = func() any {
	var p keyProbe
	httptrace.ContextClientTrace(&p)
	return p.key
}()

// keyProbe is a context that remembers the key it was asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// stateOf returns the state of the request whose context is ctx, nil when
// it has none.
func stateOf(ctx context.Context) *requestState {
	if c, ok := ctx.(*stateContext); ok {
		return c.st
	}
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// attach returns r with a cancellable context carrying st, and the cancel
// function to call when the request is done.
func (st *requestState) attach(r *http.Request) (*http.Request, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(r.Context())
	st.ctx = stateContext{Context: ctx, st: st}
	st.cancel = cancel
	return r.WithContext(&st.ctx), cancel
}

// forwardPlan says how the copy of a request that goes to the origin
// differs from the request: what strip removes, and the identity headers
// and cookie an allowed request carries. The reverse proxy applies it to
// its own copy of the request, so that the request is copied once.
type forwardPlan struct {
	trustedPeer bool   // the peer is a trusted proxy: its forwarding headers stay
	extra       string // the app's service-token header, "" when none
	// jwt and email are the values of Cf-Access-Jwt-Assertion and
	// Cf-Access-Authenticated-User-Email (empty: not set); one-element
	// arrays, so that they become header values without an allocation.
	jwt, email [1]string
	cookie     string // a new CF_Authorization value for the origin, "" to keep the client's
}

// The identity headers' canonical names, as keys of an http.Header.
var (
	keyJWTAssertion = http.CanonicalHeaderKey(access.HeaderJWTAssertion)
	keyUserEmail    = http.CanonicalHeaderKey(access.HeaderUserEmail)
)

// allow records the identity an allowed request carries to the origin.
func (p *forwardPlan) allow(raw, email string) {
	p.jwt[0], p.email[0] = raw, email
}

// apply makes out, a copy of the inbound request, what the origin may see:
// stripped of every header a client must not forge (strip), with the new
// CF_Authorization cookie and the identity headers of an allowed request.
// A nil plan strips as for an untrusted peer and adds no identity.
func (p *forwardPlan) apply(out *http.Request) {
	if p == nil {
		strip(out, false, "")
		return
	}
	strip(out, p.trustedPeer, p.extra)
	if p.cookie != "" {
		replaceCookie(out.Header, access.CookieAuthorization, p.cookie)
	}
	if p.jwt[0] != "" {
		out.Header[keyJWTAssertion] = p.jwt[:]
	}
	if p.email[0] != "" {
		out.Header[keyUserEmail] = p.email[:]
	}
}

// planOf returns the forward plan of r, nil when it has none.
func planOf(r *http.Request) *forwardPlan {
	if st := stateOf(r.Context()); st != nil {
		return &st.plan
	}
	return nil
}
