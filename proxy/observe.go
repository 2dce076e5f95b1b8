package proxy

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/token"
)

// Decisions reported to Options.Observe.
const (
	DecisionAllow    = "allow"    // credential accepted, proxied to the origin
	DecisionBypass   = "bypass"   // a bypass policy let the request through
	DecisionLogin    = "login"    // no usable credential: 302 or 401 to the login
	DecisionDeny     = "deny"     // credential valid but the policy refused
	DecisionNoApp    = "no_app"   // no app claims the host and path
	DecisionEndpoint = "endpoint" // a /cdn-cgi/access endpoint of the host
)

// observation collects what Observe reports about one request.
type observation struct {
	start    time.Time
	app      string
	decision string
	user     string
	decided  time.Duration // from start to the decision
}

type observationKey struct{}

// note records the decision on the request's observation, if any. The
// request may be a clone: the context is shared.
func note(r *http.Request, app, decision, user string) {
	o, _ := r.Context().Value(observationKey{}).(*observation)
	if o == nil {
		return
	}
	o.app, o.decision, o.user = app, decision, user
	o.decided = time.Since(o.start)
}

// noteApp returns the app name noted for r, "" when none.
func noteApp(r *http.Request) string {
	if o, _ := r.Context().Value(observationKey{}).(*observation); o != nil {
		return o.app
	}
	return ""
}

// AuthorizeDuration returns, inside Options.Observe, how long the proxy took
// to decide about r (the authorize latency, without the origin's time).
func AuthorizeDuration(r *http.Request) time.Duration {
	if o, _ := r.Context().Value(observationKey{}).(*observation); o != nil {
		return o.decided
	}
	return 0
}

// statusWriter remembers the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets streamed responses through.
func (s *statusWriter) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController (hijack for WebSockets, deadlines)
// the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe serves r through serve and reports it to Options.Observe.
func (h *Handler) observe(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	o := &observation{start: time.Now()}
	r = r.WithContext(context.WithValue(r.Context(), observationKey{}, o))
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		status := sw.status
		switch {
		case status == 0 && r.Header.Get("Upgrade") != "":
			status = http.StatusSwitchingProtocols // hijacked by the WebSocket proxy
		case status == 0:
			status = http.StatusOK // nothing written: net/http sends 200
		}
		if o.decision == "" {
			o.decision = DecisionEndpoint
		}
		h.o.Observe(r, o.app, o.decision, o.user, status, time.Since(o.start))
	}()
	serve(sw, r)
}

// claimsUser names the user of claims for the access log: the email, or
// "service:" and the client ID of a service token.
func claimsUser(c *token.Claims) string {
	if c.Email != "" {
		return c.Email
	}
	if c.CommonName != "" {
		return "service:" + c.CommonName
	}
	return ""
}
