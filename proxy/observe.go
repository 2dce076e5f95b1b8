package proxy

import (
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

// note records the decision on the request's observation, if any. The
// request may be a clone: the context is shared.
func note(r *http.Request, app, decision, user string) {
	st := stateOf(r.Context())
	if st == nil {
		return
	}
	o := &st.observation
	o.app, o.decision, o.user = app, decision, user
	if !o.start.IsZero() {
		o.decided = time.Since(o.start)
	}
}

// noteApp returns the app name noted for r, "" when none.
func noteApp(r *http.Request) string {
	if st := stateOf(r.Context()); st != nil {
		return st.app
	}
	return ""
}

// AuthorizeDuration returns, inside Options.Observe, how long the proxy took
// to decide about r (the authorize latency, without the origin's time).
func AuthorizeDuration(r *http.Request) time.Duration {
	if st := stateOf(r.Context()); st != nil {
		return st.decided
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

// report tells Options.Observe about r, served with state st.
func (h *Handler) report(r *http.Request, st *requestState) {
	status := st.sw.status
	switch {
	case status == 0 && r.Header.Get("Upgrade") != "":
		status = http.StatusSwitchingProtocols // hijacked by the WebSocket proxy
	case status == 0:
		status = http.StatusOK // nothing written: net/http sends 200
	}
	if st.decision == "" {
		st.decision = DecisionEndpoint
	}
	h.o.Observe(r, st.app, st.decision, st.user, status, time.Since(st.start))
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
