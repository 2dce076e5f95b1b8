// Package admin serves the admin pages on the team domain under Prefix:
// the overview, apps, users, service tokens, audit log and signing keys,
// and the revocations and service token changes made from them. Admins
// are named by email or group; GETs are proven by the team session, POSTs
// by a SameSite=Strict admin cookie, an Origin check and a CSRF token.
// The package declares the store it needs (Store, ServiceTokens) over
// access types and its own rows; app adapts the real store to it.
package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// Prefix is where the admin pages live on the team domain.
const Prefix = "/admin"

// The admin cookie (access.CookieAdmin) holds the admin's org token with
// SameSite=Strict, so that no cross-site request carries it; the flash
// cookie (access.CookieAdminFlash) carries the message shown after a
// redirect. Both are scoped to Prefix.

//go:embed templates/*.html
var templateFS embed.FS

// partialsFile is parsed with every admin page: the navigation, the
// "when" helper and the wide card.
const partialsFile = "templates/admin_partials.html"

// templates are the admin pages, each parsed once with the layout and the
// partials. Handlers render through these fields, so every page they can
// name exists by the time New returns.
type templates struct {
	overview, apps, users, audit, keys, confirm, tokens, tokenCreated *pages.Template
	apiTokens, apiTokenCreated                                        *pages.Template
}

// parseTemplates parses every admin page.
func parseTemplates(rd *pages.Renderer) (templates, error) {
	var t templates
	funcs := template.FuncMap{"short": short}
	for _, p := range []struct {
		dst  **pages.Template
		name string
	}{
		{&t.overview, "admin_overview"},
		{&t.apps, "admin_apps"},
		{&t.users, "admin_users"},
		{&t.audit, "admin_audit"},
		{&t.keys, "admin_keys"},
		{&t.confirm, "admin_confirm"},
		{&t.tokens, "admin_tokens"},
		{&t.tokenCreated, "admin_token_created"},
		{&t.apiTokens, "admin_api_tokens"},
		{&t.apiTokenCreated, "admin_api_token_created"},
	} {
		tpl, err := rd.Parse(templateFS, funcs, "templates/"+p.name+".html", partialsFile)
		if err != nil {
			return templates{}, fmt.Errorf("admin: %w", err)
		}
		*p.dst = tpl
	}
	return t, nil
}

// Options configure the admin pages.
type Options struct {
	TeamDomain string // host[:port] of the team domain
	TeamURL    string // https://auth.example.com, no trailing slash
	Secure     bool   // Secure attribute on cookies (TLS)
	// Admins are emails, or "group:NAME" entries matching identity groups.
	Admins []string
	Apps   func() *access.Table
	Keys   func() *token.Keyring
	Store  Store
	// ServiceTokens manages service tokens; nil: the service tokens page
	// answers 404.
	ServiceTokens ServiceTokens
	// APITokens manages the admin API tokens and authenticates the API;
	// nil: the API tokens page and the API answer 404.
	APITokens APITokens
	// APIFailures limits the failed API authentications of one client IP;
	// nil: no limit.
	APIFailures Limiter
	// APILimited, when set, is told of each API call refused by
	// APIFailures (a metric).
	APILimited func()
	Pages      *pages.Renderer
	// CSRFKey signs the CSRF tokens: HMAC-SHA256(key, session nonce). Nil:
	// 32 random bytes drawn at start, so forms open across a restart must
	// be submitted again.
	CSRFKey []byte
	// TrustedProxies and ClientIPHeader find the client address that the
	// audit log records, as web.ClientIP does (login uses the same).
	TrustedProxies []netip.Prefix
	ClientIPHeader string
	Log            *slog.Logger
	Now            func() time.Time
	// Status reports the TLS certificates, the last config reload and the
	// nodes on the store for the overview's System panel; nil hides the
	// panel.
	Status func(ctx context.Context) SystemStatus
}

// Handler serves the admin pages under Prefix.
type Handler struct {
	o    Options
	key  []byte
	tpl  templates
	mux  *http.ServeMux
	auth *Authenticator // the API's token check; nil without Options.APITokens
}

// New builds the admin pages; it fails when a template does not parse.
func New(o Options) (*Handler, error) {
	if o.Store == nil || o.Pages == nil || o.Keys == nil || o.Apps == nil {
		return nil, fmt.Errorf("admin: new: store, pages, keys and apps are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	tpl, err := parseTemplates(o.Pages)
	if err != nil {
		return nil, err
	}
	a := &Handler{o: o, key: o.CSRFKey, tpl: tpl}
	if len(a.key) == 0 {
		a.key = make([]byte, 32)
		if _, err := rand.Read(a.key); err != nil {
			return nil, fmt.Errorf("admin: new: csrf key: %w", err)
		}
	}
	if o.APITokens != nil {
		a.auth = &Authenticator{Tokens: o.APITokens, Failures: o.APIFailures, Limited: o.APILimited, TrustedProxies: o.TrustedProxies,
			ClientIPHeader: o.ClientIPHeader, Now: o.Now, Log: o.Log}
	}
	ad := &web.Adapter{Log: o.Log, Page: o.Pages.Error}
	h := func(f handlerFunc) http.Handler { return web.SecurityHeaders(ad.Wrap(a.guard(f))) }
	m := http.NewServeMux()
	m.Handle("GET "+Prefix+"/{$}", http.RedirectHandler(Prefix, http.StatusFound))
	m.Handle("GET "+Prefix, h(a.overview))
	m.Handle("GET "+Prefix+"/apps", h(a.apps))
	m.Handle("POST "+Prefix+"/apps/revoke", h(a.revokeApp))
	m.Handle("GET "+Prefix+"/users", h(a.users))
	m.Handle("POST "+Prefix+"/users/revoke", h(a.revokeUser))
	m.Handle("POST "+Prefix+"/sessions/revoke", h(a.revokeSession))
	m.Handle("GET "+Prefix+"/audit", h(a.audit))
	m.Handle("GET "+Prefix+"/keys", h(a.keys))
	m.Handle("GET "+Prefix+"/service-tokens", h(a.serviceTokens))
	m.Handle("POST "+Prefix+"/service-tokens/create", h(a.createServiceToken))
	m.Handle("POST "+Prefix+"/service-tokens/disable", h(a.changeServiceToken(disableToken)))
	m.Handle("POST "+Prefix+"/service-tokens/enable", h(a.changeServiceToken(enableToken)))
	m.Handle("POST "+Prefix+"/service-tokens/delete", h(a.changeServiceToken(deleteToken)))
	m.Handle("GET "+Prefix+"/api-tokens", h(a.apiTokens))
	m.Handle("POST "+Prefix+"/api-tokens/create", h(a.createAPIToken))
	m.Handle("POST "+Prefix+"/api-tokens/revoke", h(a.changeAPIToken(false)))
	m.Handle("POST "+Prefix+"/api-tokens/delete", h(a.changeAPIToken(true)))
	a.routeAPI(m)
	m.Handle(Prefix+"/", web.SecurityHeaders(ad.Wrap(func(http.ResponseWriter, *http.Request) error {
		return web.Errorf(http.StatusNotFound, "There is nothing here.", nil)
	})))
	a.mux = m
	return a, nil
}

// IsPath reports whether path belongs to the admin pages or the admin API
// (access.PathAPI).
func IsPath(path string) bool {
	return path == Prefix || strings.HasPrefix(path, Prefix+"/") || strings.HasPrefix(path, access.PathAPI)
}

// ServeHTTP serves the admin pages.
func (a *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	web.NoCache(w)
	a.mux.ServeHTTP(w, r)
}

// adminSession is the verified session of an admin.
type adminSession struct {
	Nonce    string
	Identity access.Identity
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, s adminSession) error

// session verifies the org token in cookie name.
func (a *Handler) session(r *http.Request, name string) (adminSession, string, bool) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return adminSession{}, "", false
	}
	claims, err := a.o.Keys().Verify(c.Value, token.TeamAudience(a.o.TeamDomain), token.TypeOrg, a.o.Now())
	if err != nil || claims.IdentityNonce == "" || a.o.Store.SessionRevoked(claims.IdentityNonce) {
		return adminSession{}, "", false
	}
	if claims.Identity != nil {
		return adminSession{Nonce: claims.IdentityNonce, Identity: *claims.Identity}, c.Value, true
	}
	stored, err := a.o.Store.Session(r.Context(), claims.IdentityNonce)
	if err != nil || !stored.Active(a.o.Now()) {
		return adminSession{}, "", false
	}
	return adminSession{Nonce: stored.Nonce, Identity: stored.Identity}, c.Value, true
}

// guard admits admins only. GETs prove the user with the team session
// (Lax) or the admin cookie and (re)set the Strict admin cookie; POSTs need
// the admin cookie, an Origin of the team URL when one is sent, and the
// CSRF token.
func (a *Handler) guard(f handlerFunc) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		// Same-origin referrers let the browser send a real Origin on the
		// pages' form posts (no-referrer makes it "null").
		w.Header().Set("Referrer-Policy", "same-origin")
		post := r.Method == http.MethodPost
		var (
			s   adminSession
			raw string
			ok  bool
		)
		if post {
			s, _, ok = a.session(r, access.CookieAdmin)
			if !ok {
				return web.Errorf(http.StatusForbidden, "Your admin session has ended. Open the admin page again.", nil)
			}
			if o := r.Header.Get("Origin"); o != "" && o != a.o.TeamURL {
				return web.Errorf(http.StatusForbidden, "This request came from another site.", fmt.Errorf("admin: origin %q", o))
			}
			if !a.csrfOK(s.Nonce, r.PostFormValue("csrf")) {
				return web.Errorf(http.StatusForbidden, "The form has expired. Open the page again and retry.", fmt.Errorf("admin: bad csrf token"))
			}
		} else {
			s, raw, ok = a.session(r, access.CookieAuthorization)
			if !ok {
				s, _, ok = a.session(r, access.CookieAdmin)
			}
			if !ok {
				target := Prefix
				if r.URL.Path != Prefix && IsPath(r.URL.Path) {
					target = r.URL.Path
				}
				http.Redirect(w, r, access.PathLogin+a.o.TeamDomain+"?redirect_url="+url.QueryEscape(target), http.StatusFound)
				return nil
			}
		}
		if !a.isAdmin(r.Context(), s) {
			return web.Errorf(http.StatusForbidden, "You are signed in as "+s.Identity.Email+", which is not an admin.", nil)
		}
		if raw != "" {
			if c, err := r.Cookie(access.CookieAdmin); err != nil || c.Value != raw {
				http.SetCookie(w, a.cookie(access.CookieAdmin, raw, 0))
			}
		}
		return f(w, r, s)
	}
}

// isAdmin reports whether the session's user is named in Admins, by email
// or by group. A group counts by the identity provider's word
// (access.Identity.InIdPGroup) as the stored session has it, not by a
// token's snapshot of the identity: the groups of the provisioning
// directory (one API token with the scim scope) may take admin rights away
// but never give them.
func (a *Handler) isAdmin(ctx context.Context, s adminSession) bool {
	var groups []string
	for _, entry := range a.o.Admins {
		if g, ok := strings.CutPrefix(entry, "group:"); ok {
			groups = append(groups, g)
			continue
		}
		if s.Identity.Email != "" && strings.EqualFold(strings.TrimSpace(entry), s.Identity.Email) {
			return true
		}
	}
	if len(groups) == 0 {
		return false
	}
	stored, err := a.o.Store.Session(ctx, s.Nonce)
	if err != nil || !strings.EqualFold(stored.Identity.Email, s.Identity.Email) {
		return false
	}
	for _, g := range groups {
		if stored.Identity.InIdPGroup(g) {
			return true
		}
	}
	return false
}

// csrfToken is hex HMAC-SHA256(key, nonce).
func (a *Handler) csrfToken(nonce string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// csrfOK compares got with the expected token in constant time.
func (a *Handler) csrfOK(nonce, got string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(a.csrfToken(nonce)))
}

// cookie builds an admin-path, HttpOnly, Strict cookie; maxAge 0 makes a
// session cookie, negative deletes it.
func (a *Handler) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     Prefix,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   a.o.Secure,
		SameSite: http.SameSiteStrictMode,
	}
}

// flashAndRedirect stores msg for the next page and answers 303 to target.
func (a *Handler) flashAndRedirect(w http.ResponseWriter, r *http.Request, target, msg string) error {
	http.SetCookie(w, a.cookie(access.CookieAdminFlash, base64.RawURLEncoding.EncodeToString([]byte(msg)), 60))
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// takeFlash returns the pending message, if any, and clears it.
func (a *Handler) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(access.CookieAdminFlash)
	if err != nil {
		return ""
	}
	http.SetCookie(w, a.cookie(access.CookieAdminFlash, "", -1))
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return ""
	}
	return string(b)
}

// recordEvent writes e with r's client IP (the trusted-proxy rule of
// sign-in, web.ClientIP) to the audit log.
func (a *Handler) recordEvent(r *http.Request, e access.Event) {
	if ip := web.ClientIP(r, a.o.TrustedProxies, a.o.ClientIPHeader); ip.IsValid() {
		e.IP = ip.String()
	}
	if err := a.o.Store.Audit(r.Context(), e); err != nil {
		a.o.Log.ErrorContext(r.Context(), "admin: audit", "err", err)
	}
}

// short abbreviates a long identifier for display (the full value goes in a
// title attribute).
func short(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}
