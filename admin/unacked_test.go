package admin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestRevokeUnacknowledged: a revoke that some nodes did not acknowledge is
// in force (it redirects like any other), and the page's message and the
// audit row name those nodes.
func TestRevokeUnacknowledged(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com")
	admin, s := h.signIn("admin@example.com")
	_, alice := h.signIn("alice@example.com")
	csrf := h.admin.csrfToken(s.Nonce)
	h.db.mu.Lock()
	h.db.unacked = []string{"node-b", "node-c"}
	h.db.mu.Unlock()
	tests := []struct {
		name, path string
		form       url.Values
		back       string
	}{
		{"user", "/admin/users/revoke", url.Values{"email": {"alice@example.com"}}, "/admin/users"},
		{"session", "/admin/sessions/revoke", url.Values{"nonce": {alice.Nonce}}, "/admin/users?user=alice%40example.com"},
		{"app", "/admin/apps/revoke", url.Values{"app": {"wiki"}, "mode": {"hard"}}, "/admin/apps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.db.kind(access.EventRevoked))
			jar := map[string]string{access.CookieAdmin: admin}
			form := url.Values{"csrf": {csrf}, "confirm": {"1"}}
			for k, v := range tc.form {
				form[k] = v
			}
			w := h.do(http.MethodPost, tc.path, form, jar, nil)
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tc.back {
				t.Fatalf("revoke: %d %q %s", w.Code, w.Header().Get("Location"), w.Body)
			}
			for _, c := range w.Result().Cookies() {
				if c.Name == access.CookieAdminFlash {
					jar[access.CookieAdminFlash] = c.Value
				}
			}
			w = h.do(http.MethodGet, "/admin/users", nil, jar, nil)
			if body := w.Body.String(); !strings.Contains(body, "Not acknowledged by 2 nodes: node-b, node-c") {
				t.Errorf("message naming the nodes missing: %s", body)
			}
			events := h.db.kind(access.EventRevoked)
			if len(events) != before+1 || !strings.Contains(events[len(events)-1].Detail, "node-b, node-c") {
				t.Errorf("audit = %+v", events)
			}
		})
	}
}
