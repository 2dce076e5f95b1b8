package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

var (
	cliSecretRe   = regexp.MustCompile(`Authorization: Bearer (gh_api_[0-9a-f]{64})`)
	cliTokenIDRe  = regexp.MustCompile(`\(id ([0-9a-f]{16}),`)
	shownAPIRe    = regexp.MustCompile(`<code id="api-token-secret">(gh_api_[0-9a-f]{64})</code>`)
	shownAPIIDRe  = regexp.MustCompile(`<code id="api-token-id">([0-9a-f]{16})</code>`)
	apiHTTPClient = &http.Client{Transport: &http.Transport{DialContext: loopbackDialer}, Timeout: 20 * time.Second}
)

// createAPIToken runs `gatehouse api-token create` and returns the token's
// secret and ID.
func createAPITokenCLI(t *testing.T, cfgPath, name, scopes string, extra ...string) (secret, id string) {
	t.Helper()
	out := runCLI(t, append([]string{"api-token", "create", "-config", cfgPath, "--name", name, "--scope", scopes}, extra...)...)
	s, i := cliSecretRe.FindStringSubmatch(out), cliTokenIDRe.FindStringSubmatch(out)
	if s == nil || i == nil {
		t.Fatalf("api-token create output: %q", out)
	}
	return s[1], i[1]
}

// adminAPIResult is one answer of the admin API.
type adminAPIResult struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// callAPI calls the admin API of env with a real HTTP client: method on
// access.PathAPI+path, with the bearer token (none when ""), and body as
// JSON when not nil.
func (e *testEnv) callAPI(t testing.TB, method, path, token string, body any) adminAPIResult {
	t.Helper()
	return e.callAPIWith(t, apiHTTPClient, method, path, token, body)
}

// callAPIWith is callAPI through the HTTP client hc.
func (e *testEnv) callAPIWith(t testing.TB, hc *http.Client, method, path, token string, body any) adminAPIResult {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, e.team+access.PathAPI+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw := readBody(t, resp)
	res := adminAPIResult{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, want application/json\n%s", method, path, ct, raw)
	}
	if err := json.Unmarshal([]byte(raw), &res.Body); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %v\n%s", method, path, resp.StatusCode, err, raw)
	}
	return res
}

// wantError checks that r is the one JSON error shape with status.
func wantError(t *testing.T, what string, r adminAPIResult, status int) {
	t.Helper()
	msg, _ := r.Body["error"].(string)
	if r.Status != status || r.Body["status"] != float64(status) || msg == "" || len(r.Body) != 2 {
		t.Errorf("%s: %d %s, want the JSON error shape with %d", what, r.Status, r.Raw, status)
	}
}

// list returns the array field name of r.
func (r adminAPIResult) list(t *testing.T, name string) []map[string]any {
	t.Helper()
	raw, ok := r.Body[name].([]any)
	if !ok {
		t.Fatalf("no %q array in %s", name, r.Raw)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i], _ = v.(map[string]any)
	}
	return out
}

// TestAPIEndToEnd drives every endpoint of the admin API against a real
// serve with a real HTTP client and tokens made by `gatehouse api-token`:
// authentication and scopes, every error in the one JSON shape, lists,
// revocations in force when the call returns, service tokens, the audit
// rows and the token's last use.
func TestAPIEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnv(t, e2eConfig, dataDir)
	cfgPath := writeConfigFile(t, e2eConfig, env, dataDir)
	ops, opsID := createAPITokenCLI(t, cfgPath, "ops", "read,revoke,service-tokens")
	reader, _ := createAPITokenCLI(t, cfgPath, "reader", "read")
	expiring, _ := createAPITokenCLI(t, cfgPath, "brief", "read", "--expires", "1s")
	revoked, revokedID := createAPITokenCLI(t, cfgPath, "gone", "read")
	runCLI(t, "api-token", "revoke", "-config", cfgPath, revokedID)

	alice, bob := newClient(t, false), newClient(t, false)
	aliceNonce := signInBoth(t, env, alice, "alice@example.com")
	bobNonce := signInBoth(t, env, bob, "bob@example.com")

	t.Run("authentication", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond) // brief expires
		tests := []struct {
			name, method, path, token string
			body                      any
			status                    int
		}{
			{"no token", "GET", "users", "", nil, http.StatusUnauthorized},
			{"unknown token", "GET", "users", access.APITokenPrefix + strings.Repeat("0", 64), nil, http.StatusUnauthorized},
			{"not a token", "GET", "users", "hello", nil, http.StatusUnauthorized},
			{"expired token", "GET", "users", expiring, nil, http.StatusUnauthorized},
			{"revoked token", "GET", "users", revoked, nil, http.StatusUnauthorized},
			{"read scope cannot revoke", "POST", "users/revoke", reader, map[string]string{"email": "alice@example.com"}, http.StatusForbidden},
			{"revoke scope cannot be missing for apps", "POST", "apps/revoke", reader, map[string]string{"app": "demo"}, http.StatusForbidden},
			{"read scope cannot create service tokens", "POST", "service-tokens", reader, map[string]string{"name": "x"}, http.StatusForbidden},
			{"unknown endpoint", "GET", "nothing", ops, nil, http.StatusNotFound},
			{"wrong method", "DELETE", "users", ops, nil, http.StatusNotFound},
			{"unknown field", "POST", "users/revoke", ops, map[string]string{"mail": "alice@example.com"}, http.StatusBadRequest},
			{"unknown user", "POST", "users/revoke", ops, map[string]string{"email": "nobody@example.com"}, http.StatusNotFound},
			{"unknown session", "POST", "sessions/revoke", ops, map[string]string{"nonce": "nope"}, http.StatusNotFound},
			{"no email", "POST", "users/revoke", ops, map[string]string{}, http.StatusBadRequest},
			{"no body, no media type", "POST", "sessions/revoke", ops, nil, http.StatusUnsupportedMediaType},
			{"unknown app", "POST", "apps/revoke", ops, map[string]string{"app": "nope"}, http.StatusNotFound},
			{"bad mode", "POST", "apps/revoke", ops, map[string]string{"app": "demo", "mode": "medium"}, http.StatusBadRequest},
			{"sessions of an unknown user", "GET", "sessions?user=nobody@example.com", ops, nil, http.StatusNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := env.callAPI(t, tc.method, tc.path, tc.token, tc.body)
				wantError(t, tc.name, r, tc.status)
				if tc.status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
		// Nothing was revoked by the refused calls.
		if env.app.Revocations().SessionRevoked(aliceNonce) {
			t.Fatal("a refused call revoked alice")
		}
	})

	t.Run("lists", func(t *testing.T) {
		r := env.callAPI(t, "GET", "users", reader, nil)
		emails := map[string]float64{}
		for _, u := range r.list(t, "users") {
			emails[u["email"].(string)] = u["active_sessions"].(float64)
		}
		if r.Status != http.StatusOK || emails["alice@example.com"] != 1 || emails["bob@example.com"] != 1 {
			t.Fatalf("users: %d %s", r.Status, r.Raw)
		}
		r = env.callAPI(t, "GET", "sessions?user=alice@example.com", reader, nil)
		if s := r.list(t, "sessions"); len(s) != 1 || s[0]["nonce"] != aliceNonce || s[0]["email"] != "alice@example.com" {
			t.Fatalf("alice's sessions: %s", r.Raw)
		}
		if s := env.callAPI(t, "GET", "sessions", reader, nil).list(t, "sessions"); len(s) != 2 {
			t.Fatalf("all sessions: %v", s)
		}
		apps := env.callAPI(t, "GET", "apps", reader, nil).list(t, "apps")
		if len(apps) != 2 || apps[0]["name"] != "demo" || len(apps[0]["aud"].(string)) != 64 {
			t.Fatalf("apps: %v", apps)
		}
	})

	t.Run("revoke one session", func(t *testing.T) {
		r := env.callAPI(t, "POST", "sessions/revoke", ops, map[string]string{"nonce": bobNonce})
		if r.Status != http.StatusOK || r.Body["email"] != "bob@example.com" {
			t.Fatalf("revoke session: %d %s", r.Status, r.Raw)
		}
		if !env.app.Revocations().SessionRevoked(bobNonce) {
			t.Fatal("not in force when the call returned")
		}
		assertRefused(t, env, bob, env.url("app", "/?format=json"))
		assertServed(t, alice, env.url("app", "/?format=json"), "alice@example.com")
	})

	t.Run("revoke user", func(t *testing.T) {
		r := env.callAPI(t, "POST", "users/revoke", ops, map[string]string{"email": "Alice@Example.com"})
		if r.Status != http.StatusOK || r.Body["revoked_sessions"] != float64(1) || r.Body["email"] != "alice@example.com" {
			t.Fatalf("revoke user: %d %s", r.Status, r.Raw)
		}
		if !env.app.Revocations().SessionRevoked(aliceNonce) {
			t.Fatal("not in force when the call returned")
		}
		for _, sub := range []string{"app", "other"} {
			assertRefused(t, env, alice, env.url(sub, "/?format=json"))
		}
		if s := env.callAPI(t, "GET", "sessions", reader, nil).list(t, "sessions"); len(s) != 0 {
			t.Fatalf("sessions after revoking both: %v", s)
		}
	})

	t.Run("revoke app", func(t *testing.T) {
		carol := newClient(t, false)
		signInBoth(t, env, carol, "carol@example.com")
		r := env.callAPI(t, "POST", "apps/revoke", ops, map[string]string{"app": "demo"})
		if r.Status != http.StatusOK || r.Body["mode"] != "hard" {
			t.Fatalf("revoke app: %d %s", r.Status, r.Raw)
		}
		assertRefused(t, env, carol, env.url("app", "/?format=json"))
		assertServed(t, carol, env.url("other", "/?format=json"), "carol@example.com")
		r = env.callAPI(t, "POST", "apps/revoke", ops, map[string]string{"app": "other", "mode": "soft"})
		if r.Status != http.StatusOK || r.Body["mode"] != "soft" {
			t.Fatalf("soft revoke: %d %s", r.Status, r.Raw)
		}
		// Soft: re-issued silently from the live global session.
		assertServed(t, carol, env.url("other", "/?format=json"), "carol@example.com")
		apps := env.callAPI(t, "GET", "apps", reader, nil).list(t, "apps")
		if apps[0]["revoked_at"] == nil || apps[1]["soft_revoked_at"] == nil {
			t.Fatalf("apps after revocations: %v", apps)
		}
	})

	t.Run("service tokens", func(t *testing.T) {
		r := env.callAPI(t, "POST", "service-tokens", ops, map[string]string{"name": "deploy", "duration": "30d"})
		id, _ := r.Body["client_id"].(string)
		secret, _ := r.Body["client_secret"].(string)
		if r.Status != http.StatusCreated || !strings.HasSuffix(id, ".access") || len(secret) != 64 || r.Body["expires_at"] == nil {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		r = env.callAPI(t, "GET", "service-tokens", reader, nil)
		if l := r.list(t, "service_tokens"); len(l) != 1 || l[0]["client_id"] != id || l[0]["state"] != "active" || strings.Contains(r.Raw, secret) {
			t.Fatalf("list: %s", r.Raw)
		}
		for _, step := range []struct {
			method, path, state string
		}{
			{"POST", "/disable", "disabled"},
			{"POST", "/enable", "active"},
		} {
			if r := env.callAPI(t, step.method, "service-tokens/"+id+step.path, ops, nil); r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", step.path, r.Status, r.Raw)
			}
			if l := env.callAPI(t, "GET", "service-tokens", reader, nil).list(t, "service_tokens"); l[0]["state"] != step.state {
				t.Fatalf("after %s: %v", step.path, l[0])
			}
		}
		wantError(t, "reader disables", env.callAPI(t, "POST", "service-tokens/"+id+"/disable", reader, nil), http.StatusForbidden)
		if r := env.callAPI(t, "DELETE", "service-tokens/"+id, ops, nil); r.Status != http.StatusOK {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		wantError(t, "delete again", env.callAPI(t, "DELETE", "service-tokens/"+id, ops, nil), http.StatusNotFound)
	})

	t.Run("audit and last use", func(t *testing.T) {
		rows, err := env.app.Store().SQL().QueryContext(context.Background(),
			`SELECT kind, email, ip, detail FROM audit WHERE email = 'api:ops' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		kinds := map[string]int{}
		for rows.Next() {
			var kind, email, ip, detail string
			if err := rows.Scan(&kind, &email, &ip, &detail); err != nil {
				t.Fatal(err)
			}
			if ip != "127.0.0.1" {
				t.Errorf("audit row %s %q has IP %q, want 127.0.0.1", kind, detail, ip)
			}
			kinds[kind]++
		}
		// 4 revocations (session, user, app hard, app soft) + disable + delete.
		if kinds[access.EventRevoked] != 6 || kinds[access.EventServiceToken] != 2 {
			t.Errorf("audit rows of api:ops by kind: %v, want 6 revoked and 2 service-token", kinds)
		}
		if n := env.auditCount(t, access.EventAPI); n < 16 {
			t.Errorf("%d api audit rows, want one per read and per refused call", n)
		}
		out := runCLI(t, "api-token", "list", "-config", cfgPath)
		var opsLine string
		for line := range strings.SplitSeq(out, "\n") {
			if strings.HasPrefix(line, opsID) {
				opsLine = line
			}
		}
		if !strings.Contains(opsLine, "read,revoke,service-tokens") || strings.HasSuffix(strings.TrimSpace(opsLine), "never") {
			t.Errorf("api-token list shows ops as %q, want its scopes and a last use", opsLine)
		}
		if strings.Contains(out, ops) {
			t.Error("api-token list shows a secret")
		}
	})

	t.Run("failed authentications are limited", func(t *testing.T) {
		var last adminAPIResult
		for range apiFailuresPerIP + 1 {
			last = env.callAPI(t, "GET", "users", "wrong", nil)
		}
		wantError(t, "past the limit", last, http.StatusTooManyRequests)
		if last.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		// The right token is refused too while the IP is limited.
		wantError(t, "good token from a limited IP", env.callAPI(t, "GET", "users", ops, nil), http.StatusTooManyRequests)
		if v, _ := metricValue(scrape(t, env.app), "gatehouse_rate_limited_total", map[string]string{"limit": "api-auth"}); v < 2 {
			t.Errorf("gatehouse_rate_limited_total{limit=api-auth} = %v, want the 429s counted", v)
		}
	})
}

// TestAdminAPITokensPage: an admin creates an API token on the admin page
// (a CSRF-protected form), the secret is shown once and works on the API,
// the list never shows it, a form without the CSRF token changes nothing,
// and revoking on the page refuses the token's next call.
func TestAdminAPITokensPage(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	admin := newClient(t, false)
	resp := env.signInWithPIN(t, admin, env.team+"/admin/api-tokens", "admin@example.com")
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "No API tokens yet.") {
		t.Fatalf("API tokens page: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	action, vals := parseForm(t, page, "name")
	vals.Set("name", "incident-bot")
	vals["scope"] = []string{"read", "revoke"}
	vals.Set("lifetime", "30d")

	forged := urlValues(vals)
	forged.Del("csrf")
	resp, err := admin.PostForm(env.team+action, forged)
	if err != nil {
		t.Fatal(err)
	}
	if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("create without CSRF token: %d, want 403", resp.StatusCode)
	}

	resp, err = admin.PostForm(env.team+action, vals)
	if err != nil {
		t.Fatal(err)
	}
	created := readBody(t, resp)
	secret, id := shownAPIRe.FindStringSubmatch(created), shownAPIIDRe.FindStringSubmatch(created)
	if resp.StatusCode != http.StatusOK || secret == nil || id == nil {
		t.Fatalf("create: %d\n%s", resp.StatusCode, created)
	}
	if r := env.callAPI(t, "GET", "users", secret[1], nil); r.Status != http.StatusOK {
		t.Fatalf("the new token on the API: %d %s", r.Status, r.Raw)
	}
	wantError(t, "scope not granted", env.callAPI(t, "POST", "service-tokens", secret[1], map[string]string{"name": "x"}), http.StatusForbidden)

	resp, err = admin.Get(env.team + "/admin/api-tokens")
	if err != nil {
		t.Fatal(err)
	}
	page = readBody(t, resp)
	if !strings.Contains(page, id[1]) || strings.Contains(page, secret[1]) || !strings.Contains(page, "by admin@example.com") {
		t.Fatalf("list after create:\n%s", page)
	}

	// Revoke: confirm first, then the next call is refused.
	status, confirm := adminPost(t, env, admin, page, "id", nil)
	if status != http.StatusOK || !strings.Contains(confirm, "Revoke API token incident-bot?") {
		t.Fatalf("revoke: %d\n%s", status, confirm)
	}
	if r := env.callAPI(t, "GET", "users", secret[1], nil); r.Status != http.StatusOK {
		t.Fatalf("before confirming: %d", r.Status)
	}
	status, after := adminPost(t, env, admin, confirm, "confirm", nil)
	if status != http.StatusOK || !strings.Contains(after, "Revoked API token incident-bot") || !strings.Contains(after, "revoked</span>") {
		t.Fatalf("confirm revoke: %d\n%s", status, after)
	}
	wantError(t, "revoked token", env.callAPI(t, "GET", "users", secret[1], nil), http.StatusUnauthorized)
	if n := env.auditCount(t, access.EventAPIToken); n != 2 {
		t.Errorf("%d api-token audit rows, want 2 (created, revoked)", n)
	}
}
