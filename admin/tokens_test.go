package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

var secretRe = regexp.MustCompile(`<code id="client-secret">([0-9a-f]{64})</code>`)

func TestAdminServiceTokenCreate(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com")
	admin, s := h.signIn("admin@example.com")
	csrf := h.admin.csrfToken(s.Nonce)
	jar := map[string]string{access.CookieAdmin: admin}

	w := h.do(http.MethodGet, "/admin/service-tokens", nil, jar, nil)
	if body := w.Body.String(); w.Code != http.StatusOK || !strings.Contains(body, "No service tokens yet.") ||
		!strings.Contains(body, `<option value="1y" selected>1 year</option>`) || !strings.Contains(body, `class="active" aria-current="page">Service tokens`) {
		t.Fatalf("empty list: %d %s", w.Code, body)
	}

	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{name: "no csrf", form: url.Values{"name": {"ci-bot"}, "duration": {"1y"}}, status: http.StatusForbidden},
		{name: "no name", form: url.Values{"name": {"  "}, "duration": {"1y"}, "csrf": {csrf}}, status: http.StatusBadRequest},
		{name: "unknown duration", form: url.Values{"name": {"ci-bot"}, "duration": {"5s"}, "csrf": {csrf}}, status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.do(http.MethodPost, "/admin/service-tokens/create", tt.form, jar, nil)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d", w.Code, tt.status)
			}
			if list, _ := h.db.ServiceTokens(context.Background()); len(list) != 0 {
				t.Errorf("tokens created: %d", len(list))
			}
		})
	}

	w = h.do(http.MethodPost, "/admin/service-tokens/create", url.Values{"name": {"ci-bot"}, "duration": {"30d"}, "csrf": {csrf}}, jar, nil)
	body := w.Body.String()
	m := secretRe.FindStringSubmatch(body)
	if w.Code != http.StatusOK || m == nil || !strings.Contains(body, "it will not be shown again") {
		t.Fatalf("created page: %d %s", w.Code, body)
	}
	secret := m[1]
	list, err := h.db.ServiceTokens(context.Background())
	if err != nil || len(list) != 1 || list[0].Name != "ci-bot" {
		t.Fatalf("tokens = %+v, %v", list, err)
	}
	id := list[0].ClientID
	if got := list[0].ExpiresAt.Sub(h.now) - 30*24*time.Hour; got < -time.Millisecond || got > time.Millisecond {
		t.Errorf("expires in %v, want 30 days", got)
	}
	if !strings.Contains(body, "CF-Access-Client-Id: "+id+"\nCF-Access-Client-Secret: "+secret) {
		t.Errorf("headers missing from: %s", body)
	}
	if !h.db.checkToken(id, secret, h.now) {
		t.Errorf("shown secret does not check")
	}
	if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control = %q", cc)
	}

	w = h.do(http.MethodGet, "/admin/service-tokens", nil, jar, nil)
	body = w.Body.String()
	if !strings.Contains(body, id) || !strings.Contains(body, "ci-bot") || strings.Contains(body, secret) {
		t.Errorf("list must show the token but never its secret: %s", body)
	}
	events := h.db.kind(access.EventServiceToken)
	if len(events) != 1 || events[0].Email != "admin@example.com" ||
		!strings.Contains(events[0].Detail, "Created service token ci-bot") || strings.Contains(events[0].Detail, secret) {
		t.Errorf("audit = %+v", events)
	}
}

func TestAdminServiceTokenDisableDelete(t *testing.T) {
	h := newAdminHarness(t, "admin@example.com")
	admin, s := h.signIn("admin@example.com")
	csrf := h.admin.csrfToken(s.Nonce)
	jar := map[string]string{access.CookieAdmin: admin}
	ctx := context.Background()
	id, secret, err := h.db.CreateServiceToken(ctx, "deploy", 0, h.now)
	if err != nil {
		t.Fatal(err)
	}
	active := func() bool { return h.db.checkToken(id, secret, h.now) }

	steps := []struct {
		name     string
		path     string
		form     url.Values
		status   int
		body     string
		active   bool
		auditLen int
	}{
		{name: "disable without csrf", path: "disable", form: url.Values{"id": {id}, "confirm": {"1"}}, status: http.StatusForbidden, active: true},
		{name: "disable asks to confirm", path: "disable", form: url.Values{"id": {id}, "csrf": {csrf}}, status: http.StatusOK,
			body: "Disable service token deploy?", active: true},
		{name: "disable confirmed", path: "disable", form: url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"1"}}, status: http.StatusSeeOther,
			active: false, auditLen: 1},
		{name: "enable confirmed", path: "enable", form: url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"1"}}, status: http.StatusSeeOther,
			active: true, auditLen: 1},
		{name: "unknown token", path: "delete", form: url.Values{"id": {"nope.access"}, "csrf": {csrf}}, status: http.StatusNotFound,
			active: true, auditLen: 1},
		{name: "delete asks to confirm", path: "delete", form: url.Values{"id": {id}, "csrf": {csrf}}, status: http.StatusOK,
			body: "cannot be undone", active: true, auditLen: 1},
		{name: "delete confirmed", path: "delete", form: url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"1"}}, status: http.StatusSeeOther,
			active: false, auditLen: 2},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			w := h.do(http.MethodPost, "/admin/service-tokens/"+tt.path, tt.form, jar, nil)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("body lacks %q: %s", tt.body, w.Body)
			}
			if tt.status == http.StatusSeeOther && w.Header().Get("Location") != "/admin/service-tokens" {
				t.Errorf("Location = %q", w.Header().Get("Location"))
			}
			if active() != tt.active {
				t.Errorf("token active = %v, want %v", active(), tt.active)
			}
			events := h.db.kind(access.EventRevoked)
			if len(events) != tt.auditLen {
				t.Fatalf("revoked events = %d; want %d", len(events), tt.auditLen)
			}
			if tt.auditLen > 0 && !strings.Contains(events[0].Detail, "deploy") {
				t.Errorf("audit detail %q does not name the token", events[0].Detail)
			}
		})
	}
	if list, err := h.db.ServiceTokens(ctx); err != nil || len(list) != 0 {
		t.Errorf("tokens after delete = %+v, %v", list, err)
	}

	t.Run("flash after disable", func(t *testing.T) {
		id2, _, err := h.db.CreateServiceToken(ctx, "backup", 0, h.now)
		if err != nil {
			t.Fatal(err)
		}
		w := h.do(http.MethodPost, "/admin/service-tokens/disable", url.Values{"id": {id2}, "csrf": {csrf}, "confirm": {"1"}}, jar, nil)
		var flash string
		for _, c := range w.Result().Cookies() {
			if c.Name == access.CookieAdminFlash {
				flash = c.Value
			}
		}
		w = h.do(http.MethodGet, "/admin/service-tokens", nil, map[string]string{access.CookieAdmin: admin, access.CookieAdminFlash: flash}, nil)
		body := w.Body.String()
		if !strings.Contains(body, "Disabled service token backup") || !strings.Contains(body, `<span class="badge bad">disabled</span>`) ||
			!strings.Contains(body, `action="/admin/service-tokens/enable"`) {
			t.Errorf("list after disable: %s", body)
		}
	})
}
