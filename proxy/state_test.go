package proxy

import (
	"context"
	"net/http/httptest"
	"net/http/httptrace"
	"net/http/httputil"
	"testing"
)

// TestRequestStateContext checks the context attach gives a request: it
// carries the state, is cancelled with its cause, and passes that on to
// the contexts derived from it.
func TestRequestStateContext(t *testing.T) {
	st := &requestState{}
	r, cancel := st.attach(httptest.NewRequest("GET", "http://app.example.com/", nil))
	if stateOf(r.Context()) != st || planOf(r) != &st.plan {
		t.Fatal("the request's context does not carry its state")
	}
	child, stop := context.WithCancel(r.Context())
	defer stop()
	if got := stateOf(child); got != st {
		t.Fatalf("a derived context carries state %p, want %p", got, st)
	}
	cancel(errRevokedInFlight)
	select {
	case <-child.Done():
	default:
		t.Fatal("cancelling the request did not cancel a context derived from it")
	}
	if got := context.Cause(r.Context()); got != errRevokedInFlight {
		t.Fatalf("cause %v, want %v", got, errRevokedInFlight)
	}
}

// TestTraceOrigin checks that the origin request of a tracked request
// carries its in-flight entry's transport hooks, composed with the
// reverse proxy's own trace, without a copy of the request; that an
// untracked one carries none; and that an inbound context with a trace of
// its own keeps it, composed with the hooks.
func TestTraceOrigin(t *testing.T) {
	if clientTraceKey == nil {
		t.Fatal("httptrace's context key was not found")
	}
	t.Run("tracked", func(t *testing.T) {
		st := &requestState{}
		r, cancel := st.attach(httptest.NewRequest("GET", "http://app.example.com/", nil))
		defer cancel(nil)
		st.live.nonce = nonceA
		out := r.Clone(r.Context()) // as ReverseProxy copies it
		pr := &httputil.ProxyRequest{In: r, Out: out}
		traceOrigin(pr, st)
		if pr.Out != out {
			t.Error("the origin request was copied")
		}
		if got := httptrace.ContextClientTrace(pr.Out.Context()); got != &st.live.hooks {
			t.Fatalf("origin request trace %p, want the entry's hooks %p", got, &st.live.hooks)
		}
		// ReverseProxy adds its own trace on top (for 1xx answers): the
		// hooks must run under it.
		outerRan := false
		rp := &httptrace.ClientTrace{WroteHeaders: func() { outerRan = true }}
		ctx := httptrace.WithClientTrace(pr.Out.Context(), rp)
		httptrace.ContextClientTrace(ctx).WroteHeaders()
		if !outerRan || st.live.phase.Load() != phaseSent {
			t.Errorf("composed trace: outer hook ran %v, phase %d, want %d", outerRan, st.live.phase.Load(), phaseSent)
		}
	})
	t.Run("untracked", func(t *testing.T) {
		st := &requestState{}
		r, cancel := st.attach(httptest.NewRequest("GET", "http://app.example.com/", nil))
		defer cancel(nil)
		pr := &httputil.ProxyRequest{In: r, Out: r.Clone(r.Context())}
		traceOrigin(pr, st)
		if got := httptrace.ContextClientTrace(pr.Out.Context()); got != nil {
			t.Errorf("an untracked request carries a trace %p", got)
		}
	})
	t.Run("inbound_trace", func(t *testing.T) {
		outer := false
		in := httptest.NewRequest("GET", "http://app.example.com/", nil)
		in = in.WithContext(httptrace.WithClientTrace(in.Context(), &httptrace.ClientTrace{WroteHeaders: func() { outer = true }}))
		st := &requestState{}
		r, cancel := st.attach(in)
		defer cancel(nil)
		st.live.nonce = nonceA
		pr := &httputil.ProxyRequest{In: r, Out: r.Clone(r.Context())}
		traceOrigin(pr, st)
		tr := httptrace.ContextClientTrace(pr.Out.Context())
		if tr == nil {
			t.Fatal("no trace on the origin request")
		}
		tr.WroteHeaders()
		if !outer || st.live.phase.Load() != phaseSent {
			t.Errorf("inbound hook ran %v, phase %d, want both", outer, st.live.phase.Load())
		}
		if stateOf(pr.Out.Context()) != st {
			t.Error("the traced copy lost the request's state")
		}
	})
}
