package admin

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/token"
)

const adminTeam = "auth.example.com"

// adminHarness is a Handler over a fake store with helpers to sign in.
type adminHarness struct {
	t     *testing.T
	admin *Handler
	db    *fakeStore
	keys  *token.Keyring
	now   time.Time
}

func newAdminHarness(t *testing.T, admins ...string) *adminHarness {
	t.Helper()
	now := time.Now()
	k, err := token.NewKey(now)
	if err != nil {
		t.Fatal(err)
	}
	db := newFakeStore(k)
	kr, err := token.NewKeyring("https://"+adminTeam, []token.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := pages.New(adminTeam, log)
	if err != nil {
		t.Fatal(err)
	}
	table := access.NewTable([]*access.App{{Name: "wiki", AUD: strings.Repeat("a", 64), Domains: []string{"wiki.example.com"},
		Policies: []access.Policy{{Name: "staff", Decision: access.Allow, Include: []access.Rule{{EmailDomains: []string{"example.com"}}}}}}})
	a, err := New(Options{
		TeamDomain: adminTeam, TeamURL: "https://" + adminTeam, Admins: admins,
		Apps: func() *access.Table { return table }, Keys: func() *token.Keyring { return kr },
		Store: db, ServiceTokens: db, Pages: rd, Log: log, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &adminHarness{t: t, admin: a, db: db, keys: kr, now: now}
}

// signIn creates a user and global session and returns its org token.
func (h *adminHarness) signIn(email string, groups ...string) (string, access.Session) {
	h.t.Helper()
	u := h.db.signIn(email, h.now)
	s := access.Session{Nonce: token.NewNonce(), CreatedAt: h.now, ExpiresAt: h.now.Add(time.Hour),
		Identity: access.Identity{UserID: u.ID, Email: u.Email, Groups: groups, IdP: access.IdP{ID: "pin"}}}
	h.db.addSession(s)
	raw, err := h.keys.Sign(token.OrgClaims(s, token.TeamAudience(adminTeam), h.now))
	if err != nil {
		h.t.Fatal(err)
	}
	return raw, s
}

// do serves one request with the given cookies (name → value).
func (h *adminHarness) do(method, target string, form url.Values, cookies map[string]string, hdr map[string]string) *httptest.ResponseRecorder {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "https://"+adminTeam+target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.admin.ServeHTTP(w, r)
	return w
}

func TestAdminAccess(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com", "group:ops")
	admin, _ := h.signIn("admin@example.com")
	opsUser, _ := h.signIn("ops@example.com", "ops")
	plain, _ := h.signIn("bob@example.com", "dev")
	tests := []struct {
		name     string
		path     string
		cookies  map[string]string
		status   int
		location string
		body     string
	}{
		{name: "unauthenticated", path: "/admin", status: http.StatusFound,
			location: "/cdn-cgi/access/login/auth.example.com?redirect_url=%2Fadmin"},
		{name: "unauthenticated deep link", path: "/admin/users", status: http.StatusFound,
			location: "/cdn-cgi/access/login/auth.example.com?redirect_url=%2Fadmin%2Fusers"},
		{name: "garbage cookie", path: "/admin", cookies: map[string]string{"CF_Authorization": "x.y.z"}, status: http.StatusFound},
		{name: "non-admin", path: "/admin", cookies: map[string]string{"CF_Authorization": plain}, status: http.StatusForbidden, body: "not an admin"},
		{name: "admin by email", path: "/admin", cookies: map[string]string{"CF_Authorization": admin}, status: http.StatusOK, body: "Overview"},
		{name: "admin by group", path: "/admin/users", cookies: map[string]string{"CF_Authorization": opsUser}, status: http.StatusOK, body: "bob@example.com"},
		{name: "admin cookie alone", path: "/admin/keys", cookies: map[string]string{access.CookieAdmin: admin}, status: http.StatusOK, body: h.keys.CurrentKeyID()},
		{name: "apps", path: "/admin/apps", cookies: map[string]string{access.CookieAdmin: admin}, status: http.StatusOK, body: "wiki.example.com"},
		{name: "audit", path: "/admin/audit?kind=revoked", cookies: map[string]string{access.CookieAdmin: admin}, status: http.StatusOK, body: "No events match."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.do(http.MethodGet, tt.path, nil, tt.cookies, nil)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.location != "" && w.Header().Get("Location") != tt.location {
				t.Errorf("Location = %q, want %q", w.Header().Get("Location"), tt.location)
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("body lacks %q: %s", tt.body, w.Body)
			}
			if tt.status != http.StatusFound && w.Header().Get("X-Frame-Options") != "DENY" {
				t.Errorf("X-Frame-Options = %q", w.Header().Get("X-Frame-Options"))
			}
		})
	}
	t.Run("sets strict admin cookie", func(t *testing.T) {
		w := h.do(http.MethodGet, "/admin", nil, map[string]string{"CF_Authorization": admin}, nil)
		var got *http.Cookie
		for _, c := range w.Result().Cookies() {
			if c.Name == access.CookieAdmin {
				got = c
			}
		}
		if got == nil || got.Value != admin || got.SameSite != http.SameSiteStrictMode || !got.HttpOnly || got.Path != "/admin" {
			t.Errorf("admin cookie = %+v", got)
		}
		if !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("CSP = %q", w.Header().Get("Content-Security-Policy"))
		}
	})
}

func TestAdminPostProtection(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com")
	admin, s := h.signIn("admin@example.com")
	h.signIn("alice@example.com")
	good := h.admin.csrfToken(s.Nonce)
	other := h.admin.csrfToken("another-nonce")
	tests := []struct {
		name    string
		cookies map[string]string
		form    url.Values
		hdr     map[string]string
		status  int
	}{
		{name: "no csrf token", cookies: map[string]string{access.CookieAdmin: admin}, form: url.Values{"email": {"alice@example.com"}}, status: http.StatusForbidden},
		{name: "wrong csrf token", cookies: map[string]string{access.CookieAdmin: admin}, form: url.Values{"email": {"alice@example.com"}, "csrf": {other}}, status: http.StatusForbidden},
		{name: "lax cookie only", cookies: map[string]string{"CF_Authorization": admin}, form: url.Values{"email": {"alice@example.com"}, "csrf": {good}}, status: http.StatusForbidden},
		{name: "foreign origin", cookies: map[string]string{access.CookieAdmin: admin}, form: url.Values{"email": {"alice@example.com"}, "csrf": {good}},
			hdr: map[string]string{"Origin": "https://evil.example.net"}, status: http.StatusForbidden},
		{name: "good, asks to confirm", cookies: map[string]string{access.CookieAdmin: admin}, form: url.Values{"email": {"alice@example.com"}, "csrf": {good}},
			hdr: map[string]string{"Origin": "https://" + adminTeam}, status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.do(http.MethodPost, "/admin/users/revoke", tt.form, tt.cookies, tt.hdr)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if n := h.db.activeSessions(h.now); n != 2 {
				t.Errorf("active sessions = %d; want nothing revoked", n)
			}
		})
	}
}

func TestAdminConfirmFlow(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com")
	admin, s := h.signIn("admin@example.com")
	h.signIn("alice@example.com")
	_, alice2 := h.signIn("alice@example.com")
	csrf := h.admin.csrfToken(s.Nonce)
	jar := map[string]string{access.CookieAdmin: admin}

	w := h.do(http.MethodPost, "/admin/users/revoke", url.Values{"email": {"alice@example.com"}, "csrf": {csrf}}, jar, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "Revoke alice@example.com?") ||
		!strings.Contains(body, `name="confirm" value="1"`) || !strings.Contains(body, "2 active sessions") {
		t.Fatalf("confirm page: %d %s", w.Code, body)
	}
	if h.db.SessionRevoked(alice2.Nonce) {
		t.Fatal("revoked before confirmation")
	}

	w = h.do(http.MethodPost, "/admin/users/revoke", url.Values{"email": {"alice@example.com"}, "csrf": {csrf}, "confirm": {"1"}}, jar, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/users" {
		t.Fatalf("confirm: %d %q", w.Code, w.Header().Get("Location"))
	}
	if !h.db.SessionRevoked(alice2.Nonce) {
		t.Error("alice's session is not revoked")
	}
	if h.db.SessionRevoked(s.Nonce) {
		t.Error("the admin's own session was revoked")
	}
	var flash string
	for _, c := range w.Result().Cookies() {
		if c.Name == access.CookieAdminFlash {
			flash = c.Value
		}
	}
	jar[access.CookieAdminFlash] = flash
	w = h.do(http.MethodGet, "/admin/users", nil, jar, nil)
	if !strings.Contains(w.Body.String(), "Revoked 2 sessions of alice@example.com") {
		t.Errorf("flash missing: %s", w.Body)
	}
	events := h.db.kind(access.EventRevoked)
	if len(events) != 1 || events[0].Email != "admin@example.com" || !strings.Contains(events[0].Detail, "alice@example.com") {
		t.Errorf("audit = %+v", events)
	}

	t.Run("app revoke soft", func(t *testing.T) {
		w := h.do(http.MethodPost, "/admin/apps/revoke", url.Values{"app": {"wiki"}, "mode": {"soft"}, "csrf": {csrf}, "confirm": {"1"}}, jar, nil)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		rev := h.db.AppRevocation(strings.Repeat("a", 64))
		hard, soft := rev.Hard, rev.Soft
		if !hard.IsZero() || soft.IsZero() {
			t.Errorf("revoked at hard=%v soft=%v, want soft only", hard, soft)
		}
	})
	t.Run("one session", func(t *testing.T) {
		_, s3 := h.signIn("carol@example.com")
		w := h.do(http.MethodPost, "/admin/sessions/revoke", url.Values{"nonce": {s3.Nonce}, "csrf": {csrf}}, jar, nil)
		if w.Code != http.StatusOK || h.db.SessionRevoked(s3.Nonce) {
			t.Fatalf("unconfirmed: %d revoked=%v", w.Code, h.db.SessionRevoked(s3.Nonce))
		}
		w = h.do(http.MethodPost, "/admin/sessions/revoke", url.Values{"nonce": {s3.Nonce}, "csrf": {csrf}, "confirm": {"1"}}, jar, nil)
		if w.Code != http.StatusSeeOther || !h.db.SessionRevoked(s3.Nonce) {
			t.Errorf("confirmed: %d revoked=%v", w.Code, h.db.SessionRevoked(s3.Nonce))
		}
	})
}

func TestAdminAuditIP(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com")
	h.admin.o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	h.admin.o.ClientIPHeader = "X-Forwarded-For"
	admin, s := h.signIn("admin@example.com")
	csrf := h.admin.csrfToken(s.Nonce)
	jar := map[string]string{access.CookieAdmin: admin}
	revoke := func(remote, xff string) string {
		t.Helper()
		_, victim := h.signIn("alice@example.com")
		r := httptest.NewRequest(http.MethodPost, "https://"+adminTeam+"/admin/sessions/revoke",
			strings.NewReader(url.Values{"nonce": {victim.Nonce}, "csrf": {csrf}, "confirm": {"1"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Forwarded-For", xff)
		r.RemoteAddr = remote
		for k, v := range jar {
			r.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		w := httptest.NewRecorder()
		h.admin.ServeHTTP(w, r)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		return h.db.kind(access.EventRevoked)[0].IP
	}
	if ip := revoke("192.0.2.10:4242", "203.0.113.7"); ip != "203.0.113.7" {
		t.Errorf("behind a trusted proxy: IP = %q, want the forwarded client", ip)
	}
	if ip := revoke("198.51.100.9:4242", "203.0.113.7"); ip != "198.51.100.9" {
		t.Errorf("from an untrusted peer: IP = %q, want the peer", ip)
	}
}
