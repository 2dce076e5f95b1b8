package admin

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/token"
)

// The rest of APITokens for fakeAPITokens; the API does not call them.
func (f *fakeAPITokens) CreateAPIToken(context.Context, string, []string, time.Duration, string, time.Time) (access.APIToken, string, error) {
	return access.APIToken{}, "", nil
}
func (f *fakeAPITokens) APITokens(context.Context) ([]access.APIToken, error) { return nil, nil }
func (f *fakeAPITokens) RevokeAPIToken(context.Context, string, time.Time) error {
	return nil
}
func (f *fakeAPITokens) DeleteAPIToken(context.Context, string) error { return nil }

// TestAPIAuditIPAndShape: the API's audit rows carry the client IP by the
// trusted-proxy rule of sign-in, and its errors are JSON even for a client
// that asks for HTML.
func TestAPIAuditIPAndShape(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com")
	h.signIn("alice@example.com")
	secret := access.APITokenPrefix + strings.Repeat("4c", 32)
	tokens := &fakeAPITokens{}
	tokens.add(secret, access.APIToken{ID: "t1", Name: "ops", Scopes: []string{access.ScopeRead, access.ScopeRevoke}})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := pages.New(adminTeam, log)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{
		TeamDomain: adminTeam, TeamURL: "https://" + adminTeam, Admins: []string{"admin@example.com"},
		Apps: h.admin.o.Apps, Keys: func() *token.Keyring { return h.keys },
		Store: h.db, ServiceTokens: h.db, APITokens: tokens, Pages: rd, Log: log, Now: func() time.Time { return h.now },
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, ClientIPHeader: "X-Forwarded-For",
	})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, remote, xff, auth, accept, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "https://"+adminTeam+access.PathAPI+path, strings.NewReader(body))
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		if auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w
	}
	lastIP := func(kind string) string {
		ev := h.db.kind(kind)
		if len(ev) == 0 {
			t.Fatalf("no %s event", kind)
		}
		return ev[0].IP
	}

	tests := []struct {
		name, remote, xff, wantIP string
	}{
		{"behind a trusted proxy", "10.1.2.3:5000", "203.0.113.7", "203.0.113.7"},
		{"forged header from a stranger", "192.0.2.9:5000", "203.0.113.7", "192.0.2.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if w := call("GET", "users", tc.remote, tc.xff, secret, "", ""); w.Code != http.StatusOK {
				t.Fatalf("users: %d %s", w.Code, w.Body)
			}
			if ip := lastIP(access.EventAPI); ip != tc.wantIP {
				t.Errorf("read audited with IP %q, want %q", ip, tc.wantIP)
			}
		})
	}
	w := call("POST", "users/revoke", "10.1.2.3:5000", "198.51.100.4", secret, "", `{"email":"alice@example.com"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if ev := h.db.kind(access.EventRevoked); len(ev) != 1 || ev[0].IP != "198.51.100.4" || ev[0].Email != "api:ops" || ev[0].Detail != "Revoked 1 session of alice@example.com" {
		t.Errorf("revocation audit %+v", ev)
	}
	if n := len(h.db.kind(access.EventAPI)); n != 2 {
		t.Errorf("%d api events after two reads and a change, want 2 (the change has its own event)", n)
	}

	w = call("GET", "users", "192.0.2.9:5000", "", "", "text/html", "")
	var body map[string]any
	if w.Code != http.StatusUnauthorized || w.Header().Get("Content-Type") != "application/json" || json.Unmarshal(w.Body.Bytes(), &body) != nil || body["status"] != float64(401) {
		t.Errorf("401 for a browser: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

// newTestAPI is an admin handler of h whose API knows tokens.
func newTestAPI(t *testing.T, h *adminHarness, tokens *fakeAPITokens) *Handler {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := pages.New(adminTeam, log)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{
		TeamDomain: adminTeam, TeamURL: "https://" + adminTeam, Admins: []string{"admin@example.com"},
		Apps: h.admin.o.Apps, Keys: func() *token.Keyring { return h.keys },
		Store: h.db, ServiceTokens: h.db, APITokens: tokens, Pages: rd, Log: log, Now: func() time.Time { return h.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAPIBodies: a mutating call's body is JSON declared as such, one
// object of the documented fields, bounded; every refusal is the JSON error
// shape, changes nothing, and says nothing of Gatehouse's internals.
func TestAPIBodies(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com")
	h.signIn("alice@example.com")
	secret := access.APITokenPrefix + strings.Repeat("4c", 32)
	tokens := &fakeAPITokens{}
	tokens.add(secret, access.APIToken{ID: "t1", Name: "ops", Scopes: access.APIScopes})
	a := newTestAPI(t, h, tokens)
	good := `{"email":"alice@example.com"}`
	tests := []struct {
		name, ctype, body string
		status            int
	}{
		{"no media type", "", good, http.StatusUnsupportedMediaType},
		{"text/plain (a cross-site form)", "text/plain", good, http.StatusUnsupportedMediaType},
		{"form", "application/x-www-form-urlencoded", "email=alice@example.com", http.StatusUnsupportedMediaType},
		{"multipart", "multipart/form-data; boundary=x", good, http.StatusUnsupportedMediaType},
		{"json look-alike", "application/jsonx", good, http.StatusUnsupportedMediaType},
		{"bad media type", "application/json; ;", good, http.StatusUnsupportedMediaType},
		{"empty body", "application/json", "", http.StatusBadRequest},
		{"not JSON", "application/json", "email=alice", http.StatusBadRequest},
		{"an array", "application/json", "[" + good + "]", http.StatusBadRequest},
		{"a string", "application/json", `"alice@example.com"`, http.StatusBadRequest},
		{"wrong type", "application/json", `{"email":["alice@example.com"]}`, http.StatusBadRequest},
		{"unknown field", "application/json", `{"email":"alice@example.com","admin":true}`, http.StatusBadRequest},
		{"two objects", "application/json", good + good, http.StatusBadRequest},
		{"field in another case", "application/json", `{"EMAIL":"alice@example.com"}`, http.StatusBadRequest},
		{"field in title case", "application/json", `{"Email":"alice@example.com"}`, http.StatusBadRequest},
		{"field given twice", "application/json", `{"email":"bob@example.com","email":"alice@example.com"}`, http.StatusBadRequest},
		{"field twice in two cases", "application/json", `{"email":"bob@example.com","Email":"alice@example.com"}`, http.StatusBadRequest},
		{"escaped key", "application/json", `{"\u0065mail":"alice@example.com","email":"bob@example.com"}`, http.StatusBadRequest},
		{"trailing junk", "application/json", good + " x", http.StatusBadRequest},
		{"truncated", "application/json", good[:10], http.StatusBadRequest},
		{"huge", "application/json", `{"email":"` + strings.Repeat("a", maxAPIBody) + `"}`, http.StatusRequestEntityTooLarge},
		{"huge whitespace", "application/json", good + strings.Repeat(" ", maxAPIBody), http.StatusRequestEntityTooLarge},
		{"deep nesting", "application/json", strings.Repeat("[", 10000), http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "https://"+adminTeam+access.PathAPI+"users/revoke", strings.NewReader(tc.body))
			r.Header.Set("Authorization", "Bearer "+secret)
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			w := httptest.NewRecorder()
			a.ServeHTTP(w, r)
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != tc.status || body["status"] != float64(tc.status) || len(body) != 2 {
				t.Fatalf("%d %s, want the JSON error shape with %d", w.Code, w.Body, tc.status)
			}
			for _, leak := range []string{"admin:", "json:", "store:", "http:", "sql", "goroutine", ".go:"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("error body %s names an internal (%q)", w.Body, leak)
				}
			}
		})
	}
	if n := len(h.db.kind(access.EventRevoked)); n != 0 {
		t.Fatalf("%d revocations by refused calls", n)
	}
	r := httptest.NewRequest("POST", "https://"+adminTeam+access.PathAPI+"users/revoke", strings.NewReader(good))
	r.Header.Set("Authorization", "Bearer "+secret)
	r.Header.Set("Content-Type", "Application/JSON; charset=utf-8")
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("JSON with a charset: %d %s, want 200", w.Code, w.Body)
	}
}

// TestAPIAuditBounded: the audit row of a refused call records a bounded
// path, whatever length the stranger sent.
func TestAPIAuditBounded(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com")
	a := newTestAPI(t, h, &fakeAPITokens{})
	r := httptest.NewRequest("POST", "https://"+adminTeam+access.PathAPI+"service-tokens/x/enable", nil)
	r.URL.Path = access.PathAPI + "service-tokens/" + strings.Repeat("é", 50000) + "/enable"
	r.Header.Set("Authorization", "Bearer nope")
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	ev := h.db.kind(access.EventAPI)
	if w.Code != http.StatusUnauthorized || len(ev) != 1 {
		t.Fatalf("%d, %d api events; want 401 and 1", w.Code, len(ev))
	}
	if len(ev[0].Detail) > 300 || !utf8.ValidString(ev[0].Detail) || !strings.Contains(ev[0].Detail, "401") {
		t.Fatalf("audit detail of %d bytes: %.80q", len(ev[0].Detail), ev[0].Detail)
	}
}
