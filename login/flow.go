package login

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// maxHostLen bounds a protected host name with its port.
const maxHostLen = 253 + 6

// flow is the state a sign-in carries from the login page to the hand-off:
// the protected host, the path to return to, the hash of the binding
// CF_AppSession cookie and the app's AUD.
type flow struct {
	Host        string
	RedirectURL string
	AppSession  string
	Kid         string
}

// flowFrom reads the flow parameters of a query or form.
func flowFrom(v url.Values) flow {
	return flow{
		Host:        v.Get(paramHost),
		RedirectURL: v.Get(paramRedirectURL),
		AppSession:  v.Get(paramAppSession),
		Kid:         v.Get(paramKid),
	}
}

// values encodes f (host included).
func (f flow) values() url.Values {
	v := url.Values{}
	v.Set(paramHost, f.Host)
	v.Set(paramRedirectURL, f.RedirectURL)
	if f.AppSession != "" {
		v.Set(paramAppSession, f.AppSession)
	}
	if f.Kid != "" {
		v.Set(paramKid, f.Kid)
	}
	return v
}

// loginURL is the team-domain path that restarts f from the sign-in page.
func (f flow) loginURL() string {
	v := f.values()
	v.Del(paramHost)
	return access.PathLogin + url.PathEscape(f.Host) + "?" + v.Encode()
}

// target is a validated flow: App is nil when the flow signs in to the team
// domain itself (the launcher).
type target struct {
	flow
	App *access.App
}

// appName is the name shown for t.
func (t target) appName() string {
	if t.App == nil {
		return ""
	}
	return t.App.Name
}

// resolve validates f: a well-formed host, a same-host redirect target, an
// app protecting them (or the team domain itself), a matching kid and a
// well-formed app_session. It returns the flow with its values normalised.
func (h *Handler) resolve(f flow) (target, error) {
	host, ok := cleanHost(f.Host)
	if !ok {
		return target{}, web.Errorf(http.StatusBadRequest, "The sign-in link names an invalid host.", nil)
	}
	f.Host = host
	clean, err := web.CleanPath(f.RedirectURL)
	if err != nil {
		return target{}, web.Errorf(http.StatusBadRequest, "The sign-in link has an invalid redirect_url.", err)
	}
	f.RedirectURL = clean
	if f.AppSession != "" && !isHex64(f.AppSession) {
		return target{}, web.Errorf(http.StatusBadRequest, "The sign-in link has an invalid app_session.", nil)
	}
	if h.isTeamHost(host) {
		if f.Kid != "" {
			return target{}, web.Errorf(http.StatusBadRequest, "The sign-in link has an unexpected kid.", nil)
		}
		f.AppSession = ""
		return target{flow: f}, nil
	}
	pathPart, _, _ := strings.Cut(clean, "?")
	app := h.o.Apps().Match(host, pathPart)
	if access.IsHop(clean) {
		// A hop of a multi-domain cookie chain returns to the host's
		// hand-off endpoint, which no app path covers: the kid names the app.
		app = h.appOnHost(host, f.Kid)
	}
	if app == nil {
		return target{}, web.Errorf(http.StatusNotFound,
			fmt.Sprintf("This application is not protected by %s.", h.o.TeamDomain), nil)
	}
	if !h.portAllowed(host, app) {
		return target{}, web.Errorf(http.StatusBadRequest, "The sign-in link names an invalid host.", nil)
	}
	if f.Kid != "" && f.Kid != app.AUD {
		return target{}, web.Errorf(http.StatusBadRequest, "The sign-in link does not match this application (kid).", nil)
	}
	return target{flow: f, App: app}, nil
}

// appOnHost returns the app with audience aud served on host, or nil.
func (h *Handler) appOnHost(host, aud string) *access.App {
	for _, a := range h.o.Apps().Apps() {
		if a.AUD == aud && h.o.Apps().Match(host, a.EntryPath()) == a {
			return a
		}
	}
	return nil
}

// resolveBound is resolve for the steps after the login page: an app flow
// must carry app_session by then.
func (h *Handler) resolveBound(f flow) (target, error) {
	t, err := h.resolve(f)
	if err != nil {
		return t, err
	}
	if t.App != nil && t.AppSession == "" {
		return t, web.Errorf(http.StatusBadRequest, "The sign-in request is incomplete. Go back to the application and try again.", nil)
	}
	return t, nil
}

// cleanHost lower-cases host and checks it is a DNS name with an optional
// numeric port.
func cleanHost(host string) (string, bool) {
	host = strings.ToLower(host)
	if host == "" || len(host) > maxHostLen {
		return "", false
	}
	name, port, hasPort := strings.Cut(host, ":")
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "", false
		}
	}
	if name == "" || len(name) > 253 || name[0] == '.' || name[0] == '-' {
		return "", false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "", false
		}
	}
	if strings.Contains(name, "..") {
		return "", false
	}
	return host, true
}

// portAllowed reports whether the port of host, if any, is one the hand-off
// may be sent to: the team domain's port, the scheme's default port, or a
// port one of app's domains names. An app domain without a port matches any
// port, so without this check a sign-in link naming another port of an app's
// host name would send the nonce (and so the app token) to whatever listens
// there.
func (h *Handler) portAllowed(host string, app *access.App) bool {
	_, port, ok := strings.Cut(host, ":")
	if !ok {
		return true
	}
	_, teamPort, _ := strings.Cut(h.teamHost, ":")
	if port == teamPort || (h.scheme == "https" && port == "443") || (h.scheme == "http" && port == "80") {
		return true
	}
	for _, d := range app.Domains {
		if strings.HasSuffix(strings.TrimSuffix(strings.TrimSpace(d), "."), ":"+port) {
			return true
		}
	}
	return false
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// providersFor returns the providers app allows (all when app is nil or
// lists none), in configuration order.
func (h *Handler) providersFor(app *access.App) []Provider {
	if app == nil || len(app.IdPs) == 0 {
		return h.o.Providers
	}
	var out []Provider
	for _, p := range h.o.Providers {
		if slices.Contains(app.IdPs, p.ID) {
			out = append(out, p)
		}
	}
	return out
}

// providerURL is where the picker sends the user for p.
func providerURL(p Provider, f flow) string {
	q := f.values().Encode()
	if p.Kind == KindOTP {
		return access.PathOTP + "?" + q
	}
	return access.PathIdPStart + url.PathEscape(p.ID) + "?" + q
}

// pickData is the data of the login_pick page.
type pickData struct {
	App       string
	Providers []providerLink
}

type providerLink struct {
	Name string
	URL  string
}

// login serves /cdn-cgi/access/login/{host}.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	t, err := h.resolve(flow{
		Host:        r.PathValue("host"),
		RedirectURL: q.Get(paramRedirectURL),
		AppSession:  q.Get(paramAppSession),
		Kid:         q.Get(paramKid),
	})
	if err != nil {
		return err
	}
	if t.App != nil && t.AppSession == "" {
		// A login URL built without the protected host: send the user there
		// so that it starts the flow again with a bound CF_AppSession.
		http.Redirect(w, r, h.hostURL(t.Host)+t.RedirectURL, http.StatusFound)
		return nil
	}
	if s, ok := h.globalSession(r); ok && h.mayReuse(t.App, &s) {
		return h.finish(w, r, t, s)
	}
	return h.signInPage(w, r, t)
}

// signInPage renders the provider picker, or the only allowed provider's
// first page.
func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request, t target) error {
	w.Header().Set(access.HeaderAccessDomain, t.Host)
	providers := h.providersFor(t.App)
	switch {
	case len(providers) == 0:
		return web.Errorf(http.StatusForbidden, "No sign-in method is available for this application.", nil)
	case len(providers) == 1 && providers[0].Kind == KindOTP:
		return h.renderEmail(w, r, t, http.StatusOK, "", "")
	case len(providers) == 1:
		http.Redirect(w, r, providerURL(providers[0], t.flow), http.StatusFound)
		return nil
	}
	data := pickData{App: t.appName()}
	for _, p := range providers {
		data.Providers = append(data.Providers, providerLink{Name: p.Name, URL: providerURL(p, t.flow)})
	}
	h.o.Pages.Render(w, http.StatusOK, pages.PageLoginPick, "Sign in", data)
	return nil
}

// finish ends a sign-in: back to the team domain's own page, or on to the
// protected host through authorize.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, t target, s session) error {
	if t.App == nil {
		http.Redirect(w, r, t.RedirectURL, http.StatusFound)
		return nil
	}
	return h.authorize(w, r, t, s)
}

// authorize checks the app's policies for the session's identity and, when
// they allow it, leaves an app token behind a single-use nonce for the
// protected host and redirects there.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, t target, s session) error {
	now := h.now()
	app := t.App
	id := s.Identity
	g, err := app.GrantSession(&s, access.SubjectOf(id, h.client(r)), h.o.Store.AppRevocation(app.AUD), now)
	if err != nil {
		h.o.Log.InfoContext(r.Context(), "login: sign-in refused", "app", app.Name, "email", id.Email, "idp", id.IdP.ID, "reason", err)
		h.audit(r, access.Event{Kind: access.EventDenied, Email: id.Email, App: app.Name, IdP: id.IdP.ID,
			Detail: strings.TrimPrefix(err.Error(), "access: ")})
		h.denied(w, r, t, s)
		return nil
	}
	claims := token.AppClaims(id, s.Nonce, app.AUD, g)
	binding := bind(app, claims) // CF_Binding, when the app uses one (deny.go)
	raw, err := h.o.Keys().Sign(claims)
	if err != nil {
		return fmt.Errorf("login: sign app token: %w", err)
	}
	nonce := token.RandomHex(32)
	handoff := access.Handoff{
		Token:          raw,
		RedirectURL:    t.RedirectURL,
		AppSessionHash: t.AppSession,
		// The cookie lives as long as the global session, while the token
		// in it may end sooner: the browser then still sends the expired
		// token, and the protected host refreshes it silently, for fetch
		// and XHR too.
		MaxAge:  int(s.ExpiresAt.Unix() - now.Unix()),
		Binding: binding,
	}
	if !access.IsHop(t.RedirectURL) {
		handoff.Next = h.cookieChain(t)
	}
	if err := h.o.Store.CreateHandoff(r.Context(), nonce, t.Host, handoff, now.Add(handoffTTL)); err != nil {
		return fmt.Errorf("login: create hand-off: %w", err)
	}
	h.audit(r, access.Event{Kind: access.EventAccess, Email: id.Email, App: app.Name, IdP: id.IdP.ID, IP: h.ipString(r)})
	v := url.Values{}
	v.Set("nonce", nonce)
	v.Set("state", handoffState(t.Host, t.RedirectURL, now.Unix()))
	http.Redirect(w, r, h.hostURL(t.Host)+access.PathAuthorized+"?"+v.Encode(), http.StatusFound)
	return nil
}

// handoffState is the informational state parameter of the hand-off:
// base64url of {"hostname","redirectURL","iat"}.
func handoffState(host, redirectURL string, iat int64) string {
	b, _ := json.Marshal(struct {
		Hostname    string `json:"hostname"`
		RedirectURL string `json:"redirectURL"`
		IAT         int64  `json:"iat"`
	}{host, redirectURL, iat})
	return base64.RawURLEncoding.EncodeToString(b)
}
