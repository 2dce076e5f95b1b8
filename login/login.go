// Package login serves the team domain: the sign-in pages, the one-time-PIN
// flow, the global session, the hand-off to protected hosts, logout, the
// signing keys, get-identity and the app launcher.
package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// handoffTTL is how long a hand-off nonce may wait for its protected host.
const handoffTTL = 60 * time.Second

// Provider kinds.
const (
	KindOTP  = "otp"
	KindOIDC = "oidc"
	KindSAML = "saml"
)

// idpTypeOTP is the identity's idp.type after a one-time-PIN sign-in.
const idpTypeOTP = "onetimepin"

// Store is what the team domain keeps: users, global sessions, hand-offs
// and the audit log.
type Store interface {
	SignInUser(ctx context.Context, email, idp string, now time.Time) (userID string, err error)
	CreateSession(ctx context.Context, s access.Session) error
	Session(ctx context.Context, nonce string) (access.Session, error)
	SessionRevoked(nonce string) bool
	RevokeSession(ctx context.Context, nonce, by string, now time.Time) error
	CreateHandoff(ctx context.Context, nonce, host string, h access.Handoff, expires time.Time) error
	Audit(ctx context.Context, e access.Event) error
	// AppRevocation returns the latest hard and soft revocation of the app
	// with audience aud.
	AppRevocation(aud string) access.AppRevocation
}

// Pages renders the branded HTML pages.
type Pages interface {
	Render(w http.ResponseWriter, status int, name, title string, data any)
	Error(w http.ResponseWriter, r *http.Request, status int, title, msg string)
}

// OIDCConnector is what the team domain needs of an OpenID Connect
// provider (idp.OIDC). Failures wrap the access.Err* connector verdicts.
type OIDCConnector interface {
	// AuthCodeURL is where to send the browser, with state, nonce and the
	// PKCE verifier's challenge.
	AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error)
	// Exchange redeems the callback's query for the user's identity
	// (Email, Name, Groups and Custom) and the provider's session.
	Exchange(ctx context.Context, q url.Values, verifier, nonce string) (access.Identity, access.IdPSession, error)
	// VerifyLogoutToken verifies a back-channel logout token and remembers
	// its jti; failures wrap access.ErrInvalidToken (or ErrUnreachable).
	VerifyLogoutToken(ctx context.Context, raw string) (access.LogoutClaims, error)
	// EndSessionURL is where the browser ends its session at the provider
	// and comes back to postLogoutRedirect with state; "" when the provider
	// has no end_session_endpoint.
	EndSessionURL(ctx context.Context, idTokenHint, postLogoutRedirect, state string) (string, error)
}

// IdPSessionStore keeps, with each global session started by an OpenID
// provider, the provider's own session, and finds the global sessions that
// the provider's logout names (Store.RevokeSession ends them).
type IdPSessionStore interface {
	SaveIdPSession(ctx context.Context, nonce string, s access.IdPSession) error
	// IdPSession returns the provider session of the global session with
	// nonce; an error when none is recorded.
	IdPSession(ctx context.Context, nonce string) (access.IdPSession, error)
	// IdPSessions returns the active global sessions that a logout of the
	// provider idp by sid, else by sub, names.
	IdPSessions(ctx context.Context, idp, sid, sub string, now time.Time) ([]access.Session, error)
}

// SAMLConnector is what the team domain needs of a SAML identity provider
// (idp.SAML). Failures wrap the access.Err* connector verdicts.
type SAMLConnector interface {
	AuthnRequest(ctx context.Context, relayState string) (redirect, requestID string, err error)
	ParseResponse(r *http.Request, requestID string) (access.Identity, error)
	Metadata() ([]byte, error)
	// FailureReason is the audit reason of a ParseResponse failure.
	FailureReason(err error) string
}

// OTPConnector is what the team domain needs of the one-time-PIN provider
// (idp.OTP). Start fails with access.ErrInvalidEmail for a malformed
// address; Verify with access.ErrPINWrong, ErrPINExpired, ErrPINExhausted or
// ErrPINUnknown (possibly wrapped) for a refused code.
type OTPConnector interface {
	Start(ctx context.Context, email string) (pinID string, err error)
	Verify(ctx context.Context, pinID, code string) (email string, err error)
}

// Provider is a sign-in method offered on the login page.
type Provider struct {
	ID   string
	Name string
	Kind string        // KindOTP, KindOIDC or KindSAML
	OIDC OIDCConnector // the connector of a KindOIDC provider
	SAML SAMLConnector // the connector of a KindSAML provider
	// BackchannelLogout accepts the provider's back-channel logout tokens
	// at access.BackchannelLogoutPath(ID) (KindOIDC).
	BackchannelLogout bool
	// LogoutAtIdP: signing out also ends the provider's session, through
	// its end_session_endpoint (KindOIDC).
	LogoutAtIdP bool
}

// logsOut reports whether Gatehouse keeps p's sessions for logout.
func (p Provider) logsOut() bool {
	return p.Kind == KindOIDC && (p.BackchannelLogout || p.LogoutAtIdP)
}

// Options configure the team-domain handler.
type Options struct {
	TeamDomain     string // host[:port] of the team domain
	TeamURL        string // scheme://TeamDomain; its scheme is used for protected hosts too
	Secure         bool   // Secure cookies
	GlobalSession  time.Duration
	Apps           func() *access.Table
	Keys           func() *token.Keyring
	Store          Store
	States         StateStore      // the pending sign-ins and sign-outs, shared by the nodes
	IdPSessions    IdPSessionStore // required when a provider has BackchannelLogout or LogoutAtIdP
	OTP            OTPConnector    // required when a provider is of KindOTP
	Limits         Limits          // per-IP limits on sign-in requests
	Providers      []Provider
	Pages          Pages
	Log            *slog.Logger
	Now            func() time.Time
	TrustedProxies []netip.Prefix
	ClientIPHeader string
	// Country, when set, is the ISO country of request r whose client
	// address is ip ("" when unknown): recorded with the sign-in (the
	// tokens' country claim, get-identity's geo.country) and judged by the
	// countries policy selector.
	Country func(r *http.Request, ip netip.Addr) string
	// Sessions, when set, serves the self-service sessions page.
	Sessions SessionStore
	// Seen, when set, is told of every request of a valid global session
	// (the session's last-seen time).
	Seen func(r *http.Request, nonce string, ip netip.Addr)
}

// Handler serves the team domain.
type Handler struct {
	o        Options
	scheme   string // of TeamURL
	teamHost string // host[:port] of TeamURL
	teamAud  string
	otp      *Provider // the one-time-PIN provider, if any
	pending  states[pending]
	signOuts states[signOut]
	mux      *http.ServeMux
}

// New checks o and builds the team-domain handler.
func New(o Options) (*Handler, error) {
	switch {
	case o.TeamDomain == "":
		return nil, errors.New("login: no team domain")
	case o.Apps == nil || o.Keys == nil:
		return nil, errors.New("login: apps and keys are required")
	case o.Store == nil || o.States == nil || o.Pages == nil:
		return nil, errors.New("login: store, states and pages are required")
	}
	u, err := url.Parse(o.TeamURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("login: team URL %q must be an http(s) URL", o.TeamURL)
	}
	if o.GlobalSession <= 0 {
		o.GlobalSession = access.DefaultSessionDuration
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &Handler{
		o:        o,
		scheme:   u.Scheme,
		teamHost: strings.ToLower(u.Host),
		teamAud:  token.TeamAudience(o.TeamDomain),
		pending:  states[pending]{store: o.States, kind: stateSignIn, max: maxPending},
		signOuts: states[signOut]{store: o.States, kind: stateSignOut, max: maxSignOuts},
	}
	seen := map[string]bool{}
	for i, p := range o.Providers {
		if p.ID == "" || seen[p.ID] {
			return nil, fmt.Errorf("login: provider %d: missing or duplicate id %q", i, p.ID)
		}
		seen[p.ID] = true
		if p.logsOut() && (o.IdPSessions == nil || p.OIDC == nil) {
			return nil, fmt.Errorf("login: provider %q: logout needs an OIDC connector and the IdP session store", p.ID)
		}
		if p.Kind == KindOTP {
			if o.OTP == nil {
				return nil, fmt.Errorf("login: provider %q: one-time PIN is not configured", p.ID)
			}
			if h.otp != nil {
				return nil, fmt.Errorf("login: provider %q: only one one-time-PIN provider is supported", p.ID)
			}
			h.otp = &o.Providers[i]
		}
	}
	h.routes()
	return h, nil
}

// routes registers every team-domain path.
func (h *Handler) routes() {
	a := &web.Adapter{Log: h.o.Log, Page: h.o.Pages.Error}
	page := func(f web.HandlerFunc) http.Handler { return web.SecurityHeaders(a.Wrap(f)) }
	m := http.NewServeMux()
	m.Handle("GET "+access.PathLauncher+"{$}", page(h.launcher))
	m.Handle("GET "+access.PathLogin+"{host}", page(h.login))
	m.Handle("GET "+access.PathOTP, page(h.otpEmailPage))
	m.Handle("POST "+access.PathOTP, h.limitSignIns(page(h.otpStart)))
	m.Handle("POST "+access.PathOTPVerify, h.limitSignIns(page(h.otpVerify)))
	m.Handle("GET "+access.PathIdPStart+"{idp}", h.limitSignIns(page(h.idpStart)))
	m.Handle("GET "+access.PathCallback, h.limitSignIns(page(h.callbackGET)))
	m.Handle("POST "+access.PathCallback, h.limitSignIns(page(h.callbackPOST)))
	m.Handle("GET "+access.PathSAMLMetadata, a.Wrap(h.samlMetadata("")))
	for _, p := range h.o.Providers {
		if p.Kind == KindSAML {
			m.Handle("GET "+samlMetadataPath(p.ID), a.Wrap(h.samlMetadata(p.ID)))
		}
	}
	m.Handle("GET "+access.PathCerts, a.Wrap(h.certs))
	m.Handle("GET "+access.PathGetIdentity, a.Wrap(h.getIdentity))
	if h.o.Sessions != nil {
		m.Handle("GET "+access.PathSessions, page(h.sessionsPage))
		m.Handle("POST "+access.PathSessionsEnd, page(h.endSessions))
	}
	m.Handle("GET "+access.PathLogout, page(h.logout))
	m.Handle("POST "+access.PathLogout, page(h.logout))
	m.Handle("GET "+access.PathSignedOut, page(h.signedOut))
	h.backchannelRoutes(m)
	m.Handle("/", page(h.notFound))
	h.mux = m
}

// ServeHTTP serves the team domain. Every response but the certs is
// uncacheable, and every one, whoever writes it (a limit's 429 page, a JSON
// error, the mux's own answers), refuses to be framed and sniffed.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != access.PathCerts {
		web.NoCache(w)
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", web.CSP)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	if _, n := web.CookieValues(r.Header, access.CookieAuthorization); n > 1 {
		// Cookie tossing from a sibling subdomain: no copy may choose the
		// identity. Clear them all and go on as signed out; signing in sets
		// the team domain's own cookie again.
		h.o.Log.Warn("login: several CF_Authorization cookies; cleared them all", "host", r.Host)
		web.ClearCookieEverywhere(w, r, access.CookieAuthorization, h.o.Secure)
		r = r.Clone(r.Context())
		web.DropCookies(r.Header, access.CookieAuthorization)
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) notFound(http.ResponseWriter, *http.Request) error {
	return web.Errorf(http.StatusNotFound, "There is nothing here.", nil)
}

// now is the current time of the handler.
func (h *Handler) now() time.Time { return h.o.Now() }

// clientIP is the client address of r, or the zero Addr.
func (h *Handler) clientIP(r *http.Request) netip.Addr {
	return web.ClientIP(r, h.o.TrustedProxies, h.o.ClientIPHeader)
}

// client is where r comes from: its address and country.
func (h *Handler) client(r *http.Request) access.Client {
	c := access.Client{IP: h.clientIP(r)}
	if h.o.Country != nil {
		c.Country = h.o.Country(r, c.IP)
	}
	return c
}

// ipString is the client address of r as text, "" when unknown.
func (h *Handler) ipString(r *http.Request) string {
	if ip := h.clientIP(r); ip.IsValid() {
		return ip.String()
	}
	return ""
}

// audit records e; a failure is logged, never shown.
func (h *Handler) audit(r *http.Request, e access.Event) {
	e.Time = h.now()
	if e.IP == "" {
		e.IP = h.ipString(r)
	}
	if err := h.o.Store.Audit(r.Context(), e); err != nil {
		h.o.Log.ErrorContext(r.Context(), "login: audit", "kind", e.Kind, "err", err)
	}
}

// isTeamHost reports whether host names the team domain itself.
func (h *Handler) isTeamHost(host string) bool {
	return strings.EqualFold(host, h.o.TeamDomain) || strings.EqualFold(host, h.teamHost)
}

// hostURL is the origin of a protected host: scheme://host.
func (h *Handler) hostURL(host string) string {
	return h.scheme + "://" + host
}
