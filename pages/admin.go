package pages

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// Admin paths and cookies.
const (
	// AdminPrefix is where the admin pages live on the team domain.
	AdminPrefix = "/admin"
	// AdminCookie holds the admin's org token with SameSite=Strict, so that
	// no cross-site request carries it.
	AdminCookie = "GH_Admin"
	// adminFlashCookie carries the message shown after a redirect.
	adminFlashCookie = "GH_Flash"
	// teamCookie is the team domain's global session cookie (Lax).
	teamCookie = "CF_Authorization"
	// teamLoginPath is the team sign-in page; the host follows.
	teamLoginPath = "/cdn-cgi/access/login/"
)

// AdminStore is what the admin pages read and write.
type AdminStore interface {
	Session(ctx context.Context, nonce string) (access.Session, error)
	SessionRevoked(nonce string) bool
	UserByEmail(ctx context.Context, email string) (store.User, error)
	UserSessions(ctx context.Context, userID string, now time.Time) ([]access.Session, error)
	UsersSince(ctx context.Context, since, now time.Time) ([]store.UserSummary, error)
	AdminCounts(ctx context.Context, since, now time.Time) (store.Counts, error)
	AppUsers(ctx context.Context, now time.Time) ([]store.AppUser, error)
	AuditSearch(ctx context.Context, f store.AuditFilter) ([]access.Event, bool, error)
	Audit(ctx context.Context, e access.Event) error
	SigningKeys(ctx context.Context) ([]token.Key, error)
	AppRevocation(aud string) access.AppRevocation
	RevokeUser(ctx context.Context, email, by string, now time.Time) (int, error)
	RevokeApp(ctx context.Context, app, aud string, soft bool, by string, now time.Time) error
	RevokeSessionBy(ctx context.Context, nonce, by string, now time.Time) error
}

// AdminOptions configure the admin pages.
type AdminOptions struct {
	TeamDomain string // host[:port] of the team domain
	TeamURL    string // https://auth.example.com, no trailing slash
	Secure     bool   // Secure attribute on cookies (TLS)
	// Admins are emails, or "group:NAME" entries matching identity groups.
	Admins []string
	Apps   func() *access.Table
	Keys   func() *token.Keyring
	Store  AdminStore
	Pages  *Renderer
	// CSRFKey signs the CSRF tokens: HMAC-SHA256(key, session nonce). Nil:
	// 32 random bytes drawn at start, so forms open across a restart must
	// be submitted again.
	CSRFKey []byte
	Log     *slog.Logger
	Now     func() time.Time
	// Status reports the TLS certificates and the last config reload for
	// the overview's System panel; nil hides the panel.
	Status func() SystemStatus
}

// Admin serves the admin pages under AdminPrefix.
type Admin struct {
	o     AdminOptions
	key   []byte
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// adminPages are the admin templates; each is parsed with the layout and
// admin_partials.html.
var adminPages = []string{"admin_overview", "admin_apps", "admin_users", "admin_audit", "admin_keys", "admin_confirm", "admin_tokens", "admin_token_created"}

// NewAdmin builds the admin pages.
func NewAdmin(o AdminOptions) (*Admin, error) {
	if o.Store == nil || o.Pages == nil || o.Keys == nil || o.Apps == nil {
		return nil, fmt.Errorf("ui: new admin: store, pages, keys and apps are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &Admin{o: o, key: o.CSRFKey, pages: map[string]*template.Template{}}
	if len(a.key) == 0 {
		a.key = make([]byte, 32)
		if _, err := rand.Read(a.key); err != nil {
			return nil, fmt.Errorf("ui: new admin: csrf key: %w", err)
		}
	}
	for _, name := range adminPages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/admin_partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("ui: parse %s: %w", name, err)
		}
		a.pages[name] = t
	}
	ad := &web.Adapter{Log: o.Log, Page: o.Pages.Error}
	h := func(f adminFunc) http.Handler { return web.SecurityHeaders(ad.Wrap(a.guard(f))) }
	m := http.NewServeMux()
	m.Handle("GET "+AdminPrefix+"/{$}", http.RedirectHandler(AdminPrefix, http.StatusFound))
	m.Handle("GET "+AdminPrefix, h(a.overview))
	m.Handle("GET "+AdminPrefix+"/apps", h(a.apps))
	m.Handle("POST "+AdminPrefix+"/apps/revoke", h(a.revokeApp))
	m.Handle("GET "+AdminPrefix+"/users", h(a.users))
	m.Handle("POST "+AdminPrefix+"/users/revoke", h(a.revokeUser))
	m.Handle("POST "+AdminPrefix+"/sessions/revoke", h(a.revokeSession))
	m.Handle("GET "+AdminPrefix+"/audit", h(a.audit))
	m.Handle("GET "+AdminPrefix+"/keys", h(a.keys))
	m.Handle("GET "+AdminPrefix+"/service-tokens", h(a.serviceTokens))
	m.Handle("POST "+AdminPrefix+"/service-tokens/create", h(a.createServiceToken))
	m.Handle("POST "+AdminPrefix+"/service-tokens/disable", h(a.changeServiceToken(disableToken)))
	m.Handle("POST "+AdminPrefix+"/service-tokens/enable", h(a.changeServiceToken(enableToken)))
	m.Handle("POST "+AdminPrefix+"/service-tokens/delete", h(a.changeServiceToken(deleteToken)))
	m.Handle(AdminPrefix+"/", web.SecurityHeaders(ad.Wrap(func(http.ResponseWriter, *http.Request) error {
		return web.Errorf(http.StatusNotFound, "There is nothing here.", nil)
	})))
	a.mux = m
	return a, nil
}

// IsAdminPath reports whether path belongs to the admin pages.
func IsAdminPath(path string) bool {
	return path == AdminPrefix || strings.HasPrefix(path, AdminPrefix+"/")
}

// ServeHTTP serves the admin pages.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	web.NoCache(w)
	a.mux.ServeHTTP(w, r)
}

// adminSession is the verified session of an admin.
type adminSession struct {
	Nonce    string
	Identity access.Identity
}

type adminFunc func(w http.ResponseWriter, r *http.Request, s adminSession) error

// session verifies the org token in cookie name.
func (a *Admin) session(r *http.Request, name string) (adminSession, string, bool) {
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
func (a *Admin) guard(f adminFunc) web.HandlerFunc {
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
			s, _, ok = a.session(r, AdminCookie)
			if !ok {
				return web.Errorf(http.StatusForbidden, "Your admin session has ended. Open the admin page again.", nil)
			}
			if o := r.Header.Get("Origin"); o != "" && o != a.o.TeamURL {
				return web.Errorf(http.StatusForbidden, "This request came from another site.", fmt.Errorf("ui: admin: origin %q", o))
			}
			if !a.csrfOK(s.Nonce, r.PostFormValue("csrf")) {
				return web.Errorf(http.StatusForbidden, "The form has expired. Open the page again and retry.", fmt.Errorf("ui: admin: bad csrf token"))
			}
		} else {
			s, raw, ok = a.session(r, teamCookie)
			if !ok {
				s, _, ok = a.session(r, AdminCookie)
			}
			if !ok {
				target := AdminPrefix
				if r.URL.Path != AdminPrefix && IsAdminPath(r.URL.Path) {
					target = r.URL.Path
				}
				http.Redirect(w, r, teamLoginPath+a.o.TeamDomain+"?redirect_url="+url.QueryEscape(target), http.StatusFound)
				return nil
			}
		}
		if !a.isAdmin(s.Identity) {
			return web.Errorf(http.StatusForbidden, "You are signed in as "+s.Identity.Email+", which is not an admin.", nil)
		}
		if raw != "" {
			if c, err := r.Cookie(AdminCookie); err != nil || c.Value != raw {
				http.SetCookie(w, a.cookie(AdminCookie, raw, 0))
			}
		}
		return f(w, r, s)
	}
}

// isAdmin reports whether id is named in Admins, by email or by group.
func (a *Admin) isAdmin(id access.Identity) bool {
	for _, entry := range a.o.Admins {
		if g, ok := strings.CutPrefix(entry, "group:"); ok {
			if slices.Contains(id.Groups, g) {
				return true
			}
			continue
		}
		if id.Email != "" && strings.EqualFold(strings.TrimSpace(entry), id.Email) {
			return true
		}
	}
	return false
}

// csrfToken is hex HMAC-SHA256(key, nonce).
func (a *Admin) csrfToken(nonce string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// csrfOK compares got with the expected token in constant time.
func (a *Admin) csrfOK(nonce, got string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(a.csrfToken(nonce)))
}

// cookie builds an admin-path, HttpOnly, Strict cookie; maxAge 0 makes a
// session cookie, negative deletes it.
func (a *Admin) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     AdminPrefix,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   a.o.Secure,
		SameSite: http.SameSiteStrictMode,
	}
}

// flashAndRedirect stores msg for the next page and answers 303 to target.
func (a *Admin) flashAndRedirect(w http.ResponseWriter, r *http.Request, target, msg string) error {
	http.SetCookie(w, a.cookie(adminFlashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), 60))
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// takeFlash returns the pending message, if any, and clears it.
func (a *Admin) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(adminFlashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, a.cookie(adminFlashCookie, "", -1))
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return ""
	}
	return string(b)
}

// render writes an admin page.
func (a *Admin) render(w http.ResponseWriter, status int, name, title string, data any) error {
	t, ok := a.pages[name]
	if !ok {
		return fmt.Errorf("ui: unknown admin page %q", name)
	}
	var buf bytes.Buffer
	err := t.Execute(&buf, Page{Title: title, Team: a.o.Pages.teamName, CSS: a.o.Pages.cssURL, Data: data, Status: status})
	if err != nil {
		return fmt.Errorf("ui: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// recordRevocation writes the audit event of a revocation by the admin.
func (a *Admin) recordRevocation(r *http.Request, s adminSession, app, detail string) {
	e := access.Event{Time: a.o.Now(), Kind: access.EventRevoked, Email: s.Identity.Email, App: app, Detail: detail}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		e.IP = host
	}
	if err := a.o.Store.Audit(r.Context(), e); err != nil {
		a.o.Log.ErrorContext(r.Context(), "ui: admin: audit", "err", err)
	}
}

// init adds the admin helpers to the shared template functions, since
// New parses every template (the admin ones too) with them.
func init() {
	funcs["short"] = short
}

// short abbreviates a long identifier for display (the full value goes in a
// title attribute).
func short(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}
