// Package proxy serves the protected hosts: it matches the app, checks the
// app token, injects the identity headers of the origin contract and proxies
// to the origin. It also answers the /cdn-cgi/access endpoints of a
// protected host (authorized, get-identity, logout).
package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// OriginWhoami is the app origin that selects the built-in whoami page.
const OriginWhoami = "whoami"

// appSessionMaxAge is the lifetime of the CF_AppSession cookie, in seconds.
const appSessionMaxAge = 3600

// Store is what the proxy needs from storage.
type Store interface {
	// SessionRevoked reports whether the global session nonce is revoked.
	// It is answered from memory (a binary search of the revocation index).
	SessionRevoked(nonce string) bool
	// Session returns the global session with nonce (revoked or not).
	Session(ctx context.Context, nonce string) (access.Session, error)
	// RevokeSession revokes the global session with nonce and every app
	// token minted from it.
	RevokeSession(ctx context.Context, nonce, by string, now time.Time) error
	// ConsumeHandoff returns and burns the single-use hand-off for nonce,
	// bound to host and to the browser whose CF_AppSession cookie hashes to
	// appSessionHash; another browser's attempt fails and burns nothing.
	ConsumeHandoff(ctx context.Context, nonce, host, appSessionHash string, now time.Time) (access.Handoff, error)
	// Audit records an audit event.
	Audit(ctx context.Context, e access.Event) error
	// AppRevocation returns, in O(1) from memory, the latest hard and soft
	// revocation of the app with audience aud.
	AppRevocation(aud string) access.AppRevocation
}

// Pages renders Gatehouse's own pages.
type Pages interface {
	Render(w http.ResponseWriter, status int, name, title string, data any)
	Error(w http.ResponseWriter, r *http.Request, status int, title, msg string)
}

// Options configure a Handler.
type Options struct {
	TeamURL string // https://auth.example.com, no trailing slash
	Secure  bool   // set the Secure attribute on cookies

	Apps func() *access.Table  // the current apps (hot reload swaps them)
	Keys func() *token.Keyring // the current signing keys

	Store  Store
	Pages  Pages
	Whoami http.Handler // the built-in origin for apps whose Origin is "whoami"

	Log *slog.Logger     // nil: slog.Default()
	Now func() time.Time // nil: time.Now

	TrustedProxies []netip.Prefix // peers whose X-Forwarded-* headers are kept
	ClientIPHeader string         // "": X-Forwarded-For

	// Country, when set, is the ISO country of request r whose client
	// address is ip ("" when unknown): for the countries policy selector,
	// judged on every request like ip_ranges.
	Country func(r *http.Request, ip netip.Addr) string

	// Seen, when set, is told of every request of a global session that a
	// valid app token authorized (the session's last-seen time).
	Seen func(r *http.Request, nonce string, ip netip.Addr)

	// Unavailable, when set, is asked before a request is authorized with
	// a credential (an app token, a global session, a service token); an
	// error refuses it with a 503 that says the session store is
	// unreachable. Gatehouse sets it to the node's fail-closed check: a
	// node out of sync with the store may have missed a revocation made on
	// another node. The reserved endpoints (forward auth, the hand-off,
	// get-identity, logout) are refused too; bypass policies and CORS
	// preflights are unaffected.
	Unavailable func() error

	// Transport reaches the origins. nil: a tuned *http.Transport
	// (MaxIdleConnsPerHost 512, IdleConnTimeout 90s, HTTP/1.1).
	Transport http.RoundTripper

	// Observe, when set, is called once each request is done with the app
	// name, the decision (Decision* in observe.go), the user (email, or
	// "service:" and the client ID) and the status; AuthorizeDuration(r)
	// gives the authorize latency. Used for the access log and metrics.
	Observe func(r *http.Request, app, decision, user string, status int, d time.Duration)
}

// Handler is the http.Handler of every protected host.
type Handler struct {
	o          Options
	log        *slog.Logger
	now        func() time.Time
	ipHeader   string
	transport  http.RoundTripper
	proxies    sync.Map // proxyKey → *httputil.ReverseProxy
	transports sync.Map // response timeout → *http.Transport
	verified   verifiedCache
	expired    verifiedCache // signature checks of expired tokens (refresh.go)
	identities identityCache
	refreshed  refreshCache
	errors     web.Adapter // renders every error this handler answers
	live       liveConns   // WebSocket and event-stream requests, closed on revocation
}

// New returns the handler for the protected hosts.
func New(o Options) *Handler {
	h := &Handler{o: o, log: o.Log, now: o.Now, ipHeader: o.ClientIPHeader, transport: o.Transport}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.ipHeader == "" {
		h.ipHeader = "X-Forwarded-For"
	}
	if h.transport == nil {
		h.transport = defaultTransport()
	}
	h.errors = web.Adapter{Log: h.log}
	if o.Pages != nil {
		h.errors.Page = o.Pages.Error
	}
	return h
}

// defaultTransport is the origin transport used when Options has none.
func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil, // origins are reached directly, never through an environment proxy
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		ForceAttemptHTTP2:     false,
	}
}

// ServeHTTP matches the app and either answers a reserved endpoint or
// authorizes the request and proxies it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := &requestState{}
	r, cancel := st.attach(r)
	defer cancel(nil)
	if h.o.Observe == nil {
		h.serve(w, r)
		return
	}
	st.start = time.Now()
	st.sw.ResponseWriter = w
	defer h.report(r, st)
	h.serve(&st.sw, r)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	r, ok := canonicalRequest(r)
	if !ok {
		note(r, "", DecisionDeny, "")
		h.fail(w, r, http.StatusBadRequest, "Bad request", "This address is not valid.")
		return
	}
	if access.IsReserved(r.URL.Path) {
		h.serveReserved(w, r)
		return
	}
	var app *access.App
	if t := h.o.Apps(); t != nil {
		app = t.Match(r.Host, r.URL.Path)
	}
	if app == nil {
		note(r, "", DecisionNoApp, "")
		h.notFound(w, r)
		return
	}
	h.authorize(w, r, app)
}

// canonicalRequest returns r with its path in canonical form
// (access.CanonicalPath): the path apps and policies are matched on and the
// origin receives. It reports false for an ambiguous path. r itself is
// returned when its path is already canonical.
func canonicalRequest(r *http.Request) (*http.Request, bool) {
	raw := r.URL.EscapedPath()
	if strings.HasPrefix(r.RequestURI, "/") {
		// The target as the client sent it: a literal backslash is a
		// separator to some origins, while EscapedPath would encode it.
		raw, _, _ = strings.Cut(r.RequestURI, "?")
	}
	canon, err := access.CanonicalPath(raw)
	if err != nil {
		return r, false
	}
	if canon == r.URL.EscapedPath() {
		return r, true
	}
	decoded, err := url.PathUnescape(canon)
	if err != nil {
		return r, false
	}
	r = r.WithContext(r.Context())
	u := *r.URL
	u.Path, u.RawPath = decoded, canon
	r.URL = &u
	return r, true
}

// authorize strips the request, lets bypass policies, service tokens and
// valid app tokens through to the origin, and sends everyone else to the
// login (or, for an app only machines may use, refuses them).
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, app *access.App) {
	st := stateOf(r.Context())
	if st == nil {
		// Not reached through ServeHTTP: give the request its own state.
		st = &requestState{}
		var cancel context.CancelCauseFunc
		r, cancel = st.attach(r)
		defer cancel(nil)
	}
	now := h.now()
	raw, ambiguous := credential(r)
	if ambiguous {
		raw, ambiguous = h.onlyForApp(r, app.AUD, now)
	}
	ip := web.ClientIP(r, h.o.TrustedProxies, h.ipHeader)
	from := h.client(r, app, ip)
	// What the origin's copy of the request loses (forward applies it).
	st.plan = forwardPlan{trustedPeer: peerTrusted(r, h.o.TrustedProxies), extra: app.ServiceTokenHeader}

	if isPreflight(r) {
		switch {
		case app.CORS.PreflightBypass:
			note(r, app.Name, DecisionBypass, "")
			h.forward(w, r, app)
			return
		case app.CORS.Enabled():
			note(r, app.Name, DecisionBypass, "")
			h.preflight(w, r, app)
			return
		}
	}
	if access.Evaluate(app.Policies, access.Subject{IP: ip, Country: from.Country}).Decision == access.Bypass {
		note(r, app.Name, DecisionBypass, "")
		if longLived(r) {
			// Tracked so that a shutdown can close it; no session to revoke.
			h.live.track(&st.live, st.cancel, "", app.AUD, true)
			defer h.live.untrack(&st.live)
		}
		h.forward(w, r, app)
		return
	}
	if h.unavailable(w, r, app.Name) {
		return
	}
	if id, secret := serviceCredentials(r, app); id != "" || secret != "" {
		if h.serveServiceToken(w, r, &st.plan, app, id, secret, from, now) {
			return
		}
	}
	if ambiguous {
		// Cookie tossing: clear every copy and run the hand-off again, which
		// sets the host's own cookie.
		h.log.Warn("proxy: several CF_Authorization cookies; cleared them all", "app", app.Name, "host", r.Host)
		web.ClearCookieEverywhere(w, r, access.CookieAuthorization, h.o.Secure)
		note(r, app.Name, DecisionLogin, "")
		h.unauthorized(w, r, app)
		return
	}
	claims, err := h.verify(raw, app.AUD, now)
	var fresh *refreshed
	if err != nil {
		// Expired or soft-revoked: mint a fresh app token from the global
		// session when it still may.
		if m, ok := h.refresh(r.Context(), raw, app, from, now); ok {
			claims, raw, err = m.claims, m.raw, nil
			fresh = &m
		}
	}
	if err == nil {
		err = h.checkBound(r, claims, now)
	}
	if err != nil {
		h.log.Debug("proxy: no usable credential", "app", app.Name, "host", r.Host, "err", err)
		note(r, app.Name, DecisionLogin, "")
		if !app.HasAllowPolicy() {
			h.serviceOnly(w, r, app)
			return
		}
		h.unauthorized(w, r, app)
		return
	}
	if fresh != nil {
		// The cookie lives until the global session ends; the token in it
		// ends sooner and is refreshed again then.
		h.setAppCookies(w, app, fresh.raw, "", int(fresh.sessionEnd-now.Unix()))
		st.plan.cookie = fresh.raw
	}
	if !h.stillAllowed(r.Context(), app, claims, from, now) {
		note(r, app.Name, DecisionDeny, claimsUser(claims))
		h.log.Info("proxy: denied by the per-request policy check", "app", app.Name, "email", claims.Email, "ip", ipString(ip), "country", from.Country)
		h.deny(w, r, app)
		return
	}
	note(r, app.Name, DecisionAllow, claimsUser(claims))
	st.plan.allow(raw, claims.Email)
	if claims.IdentityNonce != "" {
		if h.o.Seen != nil {
			h.o.Seen(r, claims.IdentityNonce, ip)
		}
		// Tracked with its session: the reverse proxy gives the origin
		// request the transport hooks of st.live (traceOrigin).
		h.live.track(&st.live, st.cancel, claims.IdentityNonce, app.AUD, longLived(r))
		defer h.live.untrack(&st.live)
		// A revocation applied between verify and track found nothing to
		// cancel; it is in the index by now.
		if h.revokedSince(claims, app.AUD) {
			note(r, app.Name, DecisionLogin, "")
			h.unauthorized(w, r, app)
			return
		}
	}
	h.forward(w, r, app)
}

// maxAuthCookies bounds the CF_Authorization cookies onlyForApp verifies
// (each costs an RSA verification); more is ambiguous outright.
const maxAuthCookies = 4

// onlyForApp picks, among several CF_Authorization cookies, the one genuine
// token for the app with audience aud (expired or not): apps on one host
// with their own cookie paths each send theirs. When none or more than one
// is, the request is ambiguous (cookie tossing) and no cookie may choose
// the identity.
func (h *Handler) onlyForApp(r *http.Request, aud string, now time.Time) (string, bool) {
	keys := h.o.Keys()
	if keys == nil {
		return "", true
	}
	values := web.CookieList(r.Header, access.CookieAuthorization)
	if len(values) > maxAuthCookies {
		return "", true // no signature check per planted cookie
	}
	var found string
	for _, v := range values {
		if _, err := keys.VerifyExpired(v, aud, token.TypeApp, now); err != nil {
			continue
		}
		if found != "" && found != v {
			return "", true
		}
		found = v
	}
	return found, found == ""
}

// revokedSince reports whether the session or app of claims was revoked
// after claims were verified (the in-memory index checks of verify, again).
func (h *Handler) revokedSince(claims *token.Claims, aud string) bool {
	if h.o.Store.SessionRevoked(claims.IdentityNonce) {
		return true
	}
	hard, soft := h.o.Store.AppRevocation(aud).Refuses(claims.IssuedAt)
	return hard || soft
}

// serveServiceToken exchanges valid service-token credentials that a
// service_auth policy of app accepts for an app token (set as the
// CF_Authorization cookie and passed to the origin) and forwards the
// request. It reports false, having written nothing, when the credentials
// are unknown, revoked or not accepted by the app.
func (h *Handler) serveServiceToken(w http.ResponseWriter, r *http.Request, plan *forwardPlan, app *access.App, id, secret string, from access.Client, now time.Time) bool {
	st := h.serviceTokens()
	if st == nil {
		return false
	}
	name, ok := st.CheckServiceToken(id, secret, now)
	if !ok {
		h.log.Info("proxy: refused service token", "app", app.Name, "client_id", id)
		return false
	}
	g, err := app.GrantService(id, name, from, h.o.Store.AppRevocation(app.AUD), now)
	if err != nil {
		h.log.Info("proxy: no service_auth policy admits the service token", "app", app.Name, "client_id", id)
		return false
	}
	claims, raw, err := h.mintService(app, g, id)
	if err != nil {
		h.log.Warn("proxy: sign service token app token", "app", app.Name, "err", err)
		return false
	}
	h.setAppCookies(w, app, raw, "", int(claims.ExpiresAt-now.Unix()))
	note(r, app.Name, DecisionAllow, claimsUser(claims))
	plan.allow(raw, "")
	plan.cookie = raw
	h.forward(w, r, app)
	return true
}

// unavailable answers r with 503 and reports true while Options.Unavailable
// errs: the node is out of sync with the session store.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, app string) bool {
	if h.o.Unavailable == nil {
		return false
	}
	err := h.o.Unavailable()
	if err == nil {
		return false
	}
	note(r, app, DecisionDeny, "")
	w.Header().Set("Retry-After", "5")
	h.failWith(w, r, &web.Error{Status: http.StatusServiceUnavailable, Title: "Service unavailable", Msg: MsgStoreUnreachable, Err: err})
	return true
}

// MsgStoreUnreachable is what a request refused by Options.Unavailable is
// told.
const MsgStoreUnreachable = "session store unreachable"

// errUnbound refuses a bound token without its CF_Binding cookie, and
// errServiceToken a token of a disabled, expired or deleted service token.
var (
	errUnbound      = errors.New("proxy: token binding cookie missing or wrong")
	errServiceToken = errors.New("proxy: service token no longer valid")
)

// checkBound refuses claims whose binding claim the request's CF_Binding
// cookie does not match, and tokens minted for a service token that is no
// longer valid.
func (h *Handler) checkBound(r *http.Request, claims *token.Claims, now time.Time) error {
	if !bindingOK(r, claims.Binding) {
		return errUnbound
	}
	if claims.CommonName != "" {
		st := h.serviceTokens()
		if st == nil {
			return errServiceToken
		}
		if _, ok := st.ServiceTokenActive(claims.CommonName, now); !ok {
			return errServiceToken
		}
	}
	return nil
}

var (
	errNoCredential = errors.New("proxy: no credential")
	errAmbiguous    = errors.New("proxy: several CF_Authorization cookies")
	errNoKeys       = errors.New("proxy: no signing keys loaded")
	errRevoked      = errors.New("proxy: session revoked")
	errAppRevoked   = errors.New("proxy: app tokens revoked")
	errExpired      = errors.New("proxy: app token expired")
)

// verify checks raw as an app token for aud and refuses revoked sessions.
// The returned claims may be shared with other requests: never modify them.
func (h *Handler) verify(raw, aud string, now time.Time) (*token.Claims, error) {
	if raw == "" {
		return nil, errNoCredential
	}
	keys := h.o.Keys()
	if keys == nil {
		return nil, errNoKeys
	}
	k := verifiedKey{keys: keys, aud: aud, raw: raw}
	claims := h.verified.get(k, now)
	if claims == nil {
		if c := h.expired.lookup(k); c != nil && now.Unix() >= c.ExpiresAt {
			// Genuine and expired, as already checked: no second RSA check
			// before the refresh.
			return nil, errExpired
		}
		var err error
		if claims, err = keys.Verify(raw, aud, token.TypeApp, now); err != nil {
			return nil, err
		}
		h.verified.put(k, claims)
	}
	if claims.IdentityNonce != "" && h.o.Store.SessionRevoked(claims.IdentityNonce) {
		return nil, errRevoked
	}
	if hard, soft := h.o.Store.AppRevocation(aud).Refuses(claims.IssuedAt); hard || soft {
		return nil, errAppRevoked
	}
	return claims, nil
}

// stillAllowed judges a granted token by the app's current policies, with
// every selector: a user's token by the identity stored with its session
// (so that a reload adding a block, or dropping the user's group, holds from
// the next request), a service token's by its client ID or name. Both are
// judged from where the request comes from (address and country).
func (h *Handler) stillAllowed(ctx context.Context, app *access.App, claims *token.Claims, from access.Client, now time.Time) bool {
	if claims.CommonName != "" {
		var name string
		if st := h.serviceTokens(); st != nil {
			name, _ = st.ServiceTokenActive(claims.CommonName, now)
		}
		for _, s := range access.ServiceSubjects(claims.CommonName, name, from) {
			if app.Permits(s) {
				return true
			}
		}
		return false
	}
	if claims.IdentityNonce == "" {
		return false
	}
	id, err := h.identities.get(ctx, claims.IdentityNonce, h.o.Store.Session)
	if err != nil {
		h.log.Warn("proxy: read the session's identity", "app", app.Name, "err", err)
		return false
	}
	return app.Permits(access.SubjectOf(id, from))
}

// client is where request r, whose client address is ip, comes from. Its
// country is looked up only when one of app's policies judges it: it
// plays no other part in the request (tokens carry the country of the
// sign-in).
func (h *Handler) client(r *http.Request, app *access.App, ip netip.Addr) access.Client {
	c := access.Client{IP: ip}
	if h.o.Country != nil && app.JudgesCountry() {
		c.Country = h.o.Country(r, ip)
	}
	return c
}

// ForgetIdentities drops the remembered identities of the sessions nonces,
// so that their next request is judged by the identity stored now (after a
// change of the user's groups or attributes).
func (h *Handler) ForgetIdentities(nonces ...string) { h.identities.forget(nonces...) }

// unauthorized answers a request without a usable credential: 401 JSON for
// XHR and fetch, a 302 to the team domain's login for navigations. Both set
// the CF_AppSession cookie the login URL is bound to.
func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, app *access.App) {
	if edgeOf(r.Context()) == edgeNginx && !web.WantsJSON(r) {
		// auth_request passes only 401 and 403, without their cookies: send
		// the browser (through error_page) to this host's sign-in start,
		// which the edge routes to Gatehouse and which sets CF_AppSession.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Location", access.PathSignIn+"?"+url.Values{"redirect_url": {r.URL.RequestURI()}}.Encode())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	session := cookieValue(r.Header, access.CookieAppSession)
	if !validAppSession(session) {
		session = token.RandomHex(16)
	}
	http.SetCookie(w, h.cookie(access.CookieAppSession, session, appSessionMaxAge))
	login := h.loginURL(r, app, session)
	if web.WantsJSON(r) {
		hdr := w.Header()
		hdr.Set("WWW-Authenticate", "Cloudflare-Access")
		if origin := allowedOrigin(r, app); origin != "" {
			hdr.Set("Access-Control-Allow-Origin", origin)
			hdr.Set("Access-Control-Allow-Credentials", "true")
			hdr.Add("Vary", "Origin")
		}
		h.failWith(w, r, &web.Error{Status: http.StatusUnauthorized, Msg: "Sign in to use this application.", LoginURL: login})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", login)
	w.WriteHeader(http.StatusFound)
}

// signIn serves access.PathSignIn on a protected host: the start of a
// sign-in to the app that covers redirect_url, exactly as an unauthenticated
// navigation there would begin it.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	target, err := web.CleanPath(r.URL.Query().Get("redirect_url"))
	if err != nil {
		target = "/"
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "Bad request", "This address is not valid.")
		return
	}
	var app *access.App
	if t := h.o.Apps(); t != nil {
		app = t.Match(r.Host, u.Path)
	}
	if app == nil {
		h.notFound(w, r)
		return
	}
	o := r.Clone(r.Context())
	o.URL, o.RequestURI = u, target
	h.unauthorized(w, o, app)
}

// validAppSession reports whether v looks like a CF_AppSession value we set
// (32 hex characters), so a client cannot choose an arbitrary one.
func validAppSession(v string) bool {
	if len(v) != 32 {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}

// loginURL is the team domain's login URL for this request.
func (h *Handler) loginURL(r *http.Request, app *access.App, appSession string) string {
	redirect, err := web.CleanPath(r.URL.RequestURI())
	if err != nil {
		redirect = "/"
	}
	return h.loginURLFor(r.Host, app, redirect, appSession)
}

// loginURLFor is the team domain's login URL for app on host, returning to
// redirect, bound to the CF_AppSession value appSession.
func (h *Handler) loginURLFor(host string, app *access.App, redirect, appSession string) string {
	return h.o.TeamURL + access.PathLogin + host +
		"?kid=" + app.AUD +
		"&redirect_url=" + url.QueryEscape(redirect) +
		"&app_session=" + hashHex(appSession)
}

// hashHex is the hex SHA-256 of s.
func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// allowedOrigin returns the request's Origin header when its host is the
// request's own host, one of the app's concrete domains or one of its
// configured CORS allowed_origins, else "".
func allowedOrigin(r *http.Request, app *access.App) string {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	if sameHostName(u.Host, r.Host) {
		return origin
	}
	for _, d := range app.Domains {
		if len(d) > 0 && d[0] != '*' && sameHostName(u.Host, d) {
			return origin
		}
	}
	if !app.CORS.PreflightBypass {
		return corsOrigin(app.CORS, origin)
	}
	return ""
}

// sameHostName compares host[:port] values: equal ignoring case, or equal
// host names when b names no port.
func sameHostName(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if _, _, err := net.SplitHostPort(b); err == nil {
		return false
	}
	name, _, err := net.SplitHostPort(a)
	return err == nil && strings.EqualFold(name, b)
}

// cookie returns one of Gatehouse's host-only cookies with the standard
// attributes. maxAge < 0 deletes it.
func (h *Handler) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.o.Secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// forward sends r to the app's origin, as its forward plan says: stripped
// and, when allowed, carrying the identity. The reverse proxy applies the
// plan to its own copy of r.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, app *access.App) {
	plan := planOf(r)
	if edgeOf(r.Context()) != edgeNone {
		h.allowEdge(w, plan)
		return
	}
	if app.Origin == "" {
		// A forward-auth app: its requests come through an edge proxy.
		h.fail(w, r, http.StatusMisdirectedRequest, "Misdirected request", "This application is reached through its edge proxy.")
		return
	}
	if app.Origin == OriginWhoami {
		if h.o.Whoami == nil {
			h.upstreamError(w, r, errors.New("proxy: no whoami handler configured"))
			return
		}
		out := r.Clone(r.Context())
		plan.apply(out)
		setForwarded(out, out, plan != nil && plan.trustedPeer)
		h.o.Whoami.ServeHTTP(w, out)
		return
	}
	rp, err := h.reverseProxy(app.Origin, app.ResponseTimeout())
	if err != nil {
		h.upstreamError(w, r, err)
		return
	}
	rp.ServeHTTP(w, r)
}

// proxyKey names a cached reverse proxy: one per origin and response
// timeout.
type proxyKey struct {
	origin  string
	timeout time.Duration
}

// transportFor returns the origin transport whose response-header timeout
// is d: the configured transport when it is not an *http.Transport (tests),
// else a clone of it, one per distinct d, sharing nothing but settings.
func (h *Handler) transportFor(d time.Duration) http.RoundTripper {
	base, ok := h.transport.(*http.Transport)
	if !ok {
		return h.transport
	}
	if v, ok := h.transports.Load(d); ok {
		return v.(*http.Transport)
	}
	t := base.Clone()
	t.ResponseHeaderTimeout = d
	v, _ := h.transports.LoadOrStore(d, t)
	return v.(*http.Transport)
}

// reverseProxy returns the cached reverse proxy for origin whose origin must
// start answering within timeout, building it on first use. Once the
// response headers are in, nothing times out: downloads, WebSockets and
// event streams last as long as they need.
func (h *Handler) reverseProxy(origin string, timeout time.Duration) (*httputil.ReverseProxy, error) {
	key := proxyKey{origin, timeout}
	if v, ok := h.proxies.Load(key); ok {
		return v.(*httputil.ReverseProxy), nil
	}
	target, err := url.Parse(origin)
	if err != nil {
		return nil, errors.Join(errors.New("proxy: bad origin URL"), err)
	}
	if (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, errors.New("proxy: origin " + origin + " is not an http(s) URL")
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			st := stateOf(pr.In.Context())
			var plan *forwardPlan
			if st != nil {
				plan = &st.plan
				traceOrigin(pr, st)
			}
			plan.apply(pr.Out)
			pr.SetURL(target)
			setForwarded(pr.In, pr.Out, plan != nil && plan.trustedPeer)
		},
		Transport: h.transportFor(timeout),
		// FlushInterval stays 0: ReverseProxy already flushes every write of
		// event streams and of responses without a Content-Length, so
		// streaming works, while sized responses are not flushed per write.
		ModifyResponse: stripUpstreamCookies,
		BufferPool:     copyBuffers,
		ErrorHandler:   h.upstreamError,
		ErrorLog:       slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
	}
	v, _ := h.proxies.LoadOrStore(key, rp)
	return v.(*httputil.ReverseProxy), nil
}

// traceOrigin gives pr.Out, the request to the origin, the transport hooks
// of st's in-flight entry when it is a request tracked with its session,
// so that a revocation knows whether the origin was sent it (live.go).
// Only those requests pay for the hooks. pr.Out's context is st's own
// (ReverseProxy copies the request with its context), which from now on
// answers httptrace's key with the hooks: no context or request copy.
func traceOrigin(pr *httputil.ProxyRequest, st *requestState) {
	c := &st.live
	if c.nonce == "" {
		return
	}
	hooks := c.trace()
	if pr.Out.Context() == context.Context(&st.ctx) && st.ctx.traceable() {
		st.ctx.traced.Store(true)
		return
	}
	pr.Out = pr.Out.WithContext(httptrace.WithClientTrace(pr.Out.Context(), hooks))
}

// copyBuffers are the reverse proxies' copy buffers, shared so that a
// response does not allocate its own 32 KiB.
var copyBuffers = &bufferPool{}

// bufferPool is an httputil.BufferPool over sync.Pool.
type bufferPool struct{ p sync.Pool }

// copyBufferSize is the size of each copy buffer (ReverseProxy's own).
const copyBufferSize = 32 << 10

// The pool holds array pointers, so that putting a buffer back allocates
// nothing (a *[]byte would be a new allocation on every Put).
func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[copyBufferSize]byte); ok {
		return v[:]
	}
	return make([]byte, copyBufferSize)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) != copyBufferSize {
		return
	}
	b.p.Put((*[copyBufferSize]byte)(buf[:copyBufferSize]))
}

// upstreamError logs err and shows a 502 without any upstream detail.
func (h *Handler) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	app := noteApp(r)
	host := r.Host
	if host == "" {
		// The outgoing request: its Host is the origin's, the public one is
		// in X-Forwarded-Host.
		host = r.Header.Get("X-Forwarded-Host")
	}
	var ne net.Error
	switch {
	case errors.Is(context.Cause(r.Context()), errRevokedInFlight):
		h.log.Info("proxy: request cancelled by a revocation", "app", app, "host", host, "path", r.URL.Path)
		h.fail(w, r, http.StatusUnauthorized, "Signed out", "Your session was revoked.")
		return
	case errors.Is(err, context.Canceled):
		h.log.Debug("proxy: client went away", "app", app, "host", host, "path", r.URL.Path, "err", err)
		return
	case errors.As(err, &ne) && ne.Timeout():
		h.log.Warn("proxy: origin timed out", "app", app, "host", host, "path", r.URL.Path,
			"request_id", web.RequestID(r), "err", err)
		h.fail(w, r, http.StatusGatewayTimeout, "Gateway timeout", "The application did not answer in time.")
		return
	}
	h.log.Warn("proxy: origin unreachable", "app", app, "host", host, "path", r.URL.Path,
		"request_id", web.RequestID(r), "err", err)
	h.fail(w, r, http.StatusBadGateway, "Bad gateway", "The application is not reachable right now")
}

// notFound answers a host or path no app claims.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusNotFound, "Not found", "There is no application at this address.")
}

// fail answers an error of Gatehouse's own: the branded page, or the one
// JSON error shape for XHR and fetch, with the security headers of
// Gatehouse's pages.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	h.failWith(w, r, &web.Error{Status: status, Title: title, Msg: msg})
}

// failWith is fail for a prepared *web.Error.
func (h *Handler) failWith(w http.ResponseWriter, r *http.Request, e *web.Error) {
	h.own(w, r, func(w http.ResponseWriter) { h.errors.Respond(w, r, e) })
}

// own runs write under web.SecurityHeaders: for responses Gatehouse itself
// produces, never for proxied ones.
func (h *Handler) own(w http.ResponseWriter, r *http.Request, write func(w http.ResponseWriter)) {
	web.SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		write(w)
	})).ServeHTTP(w, r)
}
