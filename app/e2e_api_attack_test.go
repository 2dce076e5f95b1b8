package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// e2eAttackConfig has admins by email and by group, and one app for
// example.com users.
var e2eAttackConfig = e2eHeader(`global_session = "24h"`, `admins = ["admin@example.com", "group:ops"]`) + `
[[apps]]
name = "demo"
domains = ["app.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
`

// rawHTTP sends one request to env's listener byte for byte (the path and
// the headers as given, Connection: close) and returns the answer.
func rawHTTP(t *testing.T, env *testEnv, method, host, path string, hdr []string, body string) (*http.Response, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", env.port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n" + body)
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, readBody(t, resp)
}

// TestAPIAttacks drives the admin API and SCIM of a real serve the way an
// attacker would: credentials anywhere but the bearer header, the admin's
// own cookies, other hosts, path and method tricks, CORS, forged identity
// headers, a SCIM client reaching for admin rights and deactivated users
// signing in under another spelling. Nothing may answer with data or
// change anything.
func TestAPIAttacks(t *testing.T) {
	dataDir := t.TempDir()
	// The clock moves a minute whenever a subtest has spent the failure
	// limit of the test's one address.
	clock := newFakeClock(time.Now())
	env := startEnvWith(t, e2eAttackConfig, dataDir, Options{Now: clock.Now})
	refill := func() { clock.Advance(time.Minute) }
	ctx := context.Background()
	newToken := func(scopes ...string) string {
		_, secret, err := env.app.Store().CreateAPIToken(ctx, "attack "+strings.Join(scopes, ","), scopes, 0, "test", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	all := newToken(access.APIScopes...)
	reader := newToken(access.ScopeRead)
	scimTok := newToken(access.ScopeSCIM)
	team := fmt.Sprintf("auth.localhost:%d", env.port)
	appHost := fmt.Sprintf("app.localhost:%d", env.port)
	api := access.PathAPI

	alice := newClient(t, false)
	aliceNonce := signInBoth2(t, env, alice, "alice@example.com")
	admin := newClient(t, false)
	if resp := env.signInWithPIN(t, admin, env.team+"/admin/api-tokens", "admin@example.com"); readBody(t, resp) == "" || resp.StatusCode != http.StatusOK {
		t.Fatalf("admin sign-in: %d", resp.StatusCode)
	}
	noRevocation := func(t *testing.T) {
		t.Helper()
		if env.app.Revocations().SessionRevoked(aliceNonce) {
			t.Fatal("a refused call revoked alice")
		}
	}

	t.Run("admin cookies never authenticate the API", func(t *testing.T) {
		for _, m := range []string{"GET users", "POST users/revoke"} {
			method, path, _ := strings.Cut(m, " ")
			req, _ := http.NewRequest(method, env.team+api+path, strings.NewReader(`{"email":"alice@example.com"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", "https://evil.example")
			resp, err := admin.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "alice@example.com") {
				t.Errorf("%s with the admin's cookies: %d %s, want 401", m, resp.StatusCode, body)
			}
			if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "" {
				t.Errorf("%s: Access-Control-Allow-Origin %q", m, acao)
			}
		}
		noRevocation(t)
	})

	t.Run("credentials outside the Authorization header", func(t *testing.T) {
		refill()
		var adminJWT string
		for _, ck := range admin.Jar.Cookies(mustURL(t, env.team+"/admin")) {
			if ck.Name == access.CookieAuthorization {
				adminJWT = ck.Value
			}
		}
		if adminJWT == "" {
			t.Fatal("the admin has no team token")
		}
		tests := []struct {
			name, path string
			hdr        []string
		}{
			{"query access_token", api + "users?access_token=" + all, nil},
			{"query token", api + "users?token=" + all, nil},
			{"cookie", api + "users", []string{"Cookie: access_token=" + all + "; token=" + all}},
			{"CF_Authorization cookie", api + "users", []string{"Cookie: CF_Authorization=" + all}},
			{"X-Api-Token", api + "users", []string{"X-Api-Token: " + all}},
			{"forged identity headers", api + "users", []string{"Cf-Access-Authenticated-User-Email: admin@example.com",
				"Cf-Access-Jwt-Assertion: " + all, "cf_access_authenticated_user_email: admin@example.com"}},
			{"two Authorization headers", api + "users", []string{"Authorization: Bearer " + all, "Authorization: Bearer " + all}},
			{"the admin's team token as bearer", api + "users", []string{"Authorization: Bearer " + adminJWT}},
			{"the admin's team token as assertion", api + "users", []string{"Cf-Access-Jwt-Assertion: " + adminJWT, "cf-access-token: " + adminJWT}},
			{"SCIM, the admin's team token as bearer", "/scim/v2/Users", []string{"Authorization: Bearer " + adminJWT}},
			{"SCIM, query", "/scim/v2/Users?access_token=" + scimTok, nil},
			{"SCIM, forged identity headers", "/scim/v2/Users", []string{"Cf-Access-Authenticated-User-Email: admin@example.com"}},
			{"SCIM, admin cookie", "/scim/v2/Users", []string{"Cookie: " + cookieHeader(t, admin, env.team)}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := rawHTTP(t, env, "GET", team, tc.path, tc.hdr, "")
				if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "alice@example.com") {
					t.Errorf("%d %s, want 401", resp.StatusCode, body)
				}
			})
		}
	})

	t.Run("the API and SCIM only on the team domain", func(t *testing.T) {
		refill()
		for _, tc := range []struct{ name, host, path string }{
			{"API on an app host", appHost, api + "users"},
			{"API on an unknown host", "evil.localhost:1", api + "users"},
			{"SCIM on an app host", appHost, "/scim/v2/Users"},
		} {
			for _, extra := range [][]string{nil, {"X-Forwarded-Host: " + team}, {"Forwarded: host=" + team}, {"X-Original-Url: " + api + "users"}} {
				hdr := append([]string{"Authorization: Bearer " + all}, extra...)
				resp, body := rawHTTP(t, env, "GET", tc.host, tc.path, hdr, "")
				if resp.StatusCode == http.StatusOK || strings.Contains(body, "alice@example.com") || strings.Contains(body, "userName") {
					t.Errorf("%s %v: %d %s", tc.name, extra, resp.StatusCode, body)
				}
			}
		}
	})

	t.Run("path and method tricks", func(t *testing.T) {
		// No token: nothing answers with data. The read token on every
		// spelling of a revocation: nothing is revoked.
		paths := []string{
			api + "users", "/" + api + "users", api + "/users", api + "users/", api + "USERS", strings.ToUpper(api) + "users",
			api + "users/../users", api + "x/../users", api + "%75sers", api + "users%2F", api + "users;x", api + "users%00",
			api + "users/revoke", api + "users%2Frevoke", api + "users//revoke", api + "users/revoke/", api + "Users/Revoke",
			api + "users/./revoke", api + "sessions/revoke", api + "apps/revoke", api + "service-tokens",
			api + "service-tokens/x/enable", api + "service-tokens%2Fx%2Fenable", api + "service-tokens/x", api + "service-tokens/..%2f..%2fusers",
			"/scim/v2/Users", "/scim/v2//Users", "/scim/v2/users", "/SCIM/v2/Users", "/scim/v2/../v2/Users", "/scim/v2/%55sers",
		}
		body := `{"email":"alice@example.com","app":"demo","nonce":"` + aliceNonce + `","name":"x"}`
		for _, p := range paths {
			refill()
			for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
				resp, out := rawHTTP(t, env, method, team, p, []string{"Content-Type: application/json"}, body)
				if resp.StatusCode/100 == 2 || strings.Contains(out, "alice@example.com") {
					t.Errorf("no token, %s %s: %d %s", method, p, resp.StatusCode, out)
				}
				resp, out = rawHTTP(t, env, method, team, p, []string{"Content-Type: application/json", "Authorization: Bearer " + reader,
					"X-HTTP-Method-Override: POST", "X-HTTP-Method: POST", "X-Method-Override: POST"}, body)
				if method != "GET" && method != "HEAD" && resp.StatusCode/100 == 2 {
					t.Errorf("read token, %s %s: %d %s", method, p, resp.StatusCode, out)
				}
			}
		}
		noRevocation(t)
		if n := len(mustServiceTokens(t, env)); n != 0 {
			t.Errorf("%d service tokens created by refused calls", n)
		}
	})

	t.Run("CORS", func(t *testing.T) {
		refill()
		for _, p := range []string{api + "users", api + "users/revoke", "/scim/v2/Users"} {
			resp, _ := rawHTTP(t, env, "OPTIONS", team, p, []string{"Origin: https://evil.example",
				"Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization, content-type"}, "")
			resp2, _ := rawHTTP(t, env, "GET", team, p, []string{"Origin: https://evil.example", "Authorization: Bearer " + all}, "")
			for _, r := range []*http.Response{resp, resp2} {
				for k := range r.Header {
					if strings.HasPrefix(strings.ToLower(k), "access-control-") {
						t.Errorf("%s %s: %s: %s", r.Request.Method, p, k, r.Header.Get(k))
					}
				}
			}
			if resp.StatusCode/100 == 2 {
				t.Errorf("preflight of %s: %d", p, resp.StatusCode)
			}
		}
	})

	t.Run("every endpoint with every wrong scope", func(t *testing.T) {
		refill()
		endpoints := []struct{ method, path, scope, body string }{
			{"GET", "users", access.ScopeRead, ""},
			{"POST", "users/revoke", access.ScopeRevoke, `{"email":"alice@example.com"}`},
			{"GET", "sessions", access.ScopeRead, ""},
			{"POST", "sessions/revoke", access.ScopeRevoke, `{"nonce":"` + aliceNonce + `"}`},
			{"GET", "apps", access.ScopeRead, ""},
			{"POST", "apps/revoke", access.ScopeRevoke, `{"app":"demo"}`},
			{"GET", "service-tokens", access.ScopeRead, ""},
			{"POST", "service-tokens", access.ScopeServiceTokens, `{"name":"x"}`},
			{"POST", "service-tokens/x/enable", access.ScopeServiceTokens, ""},
			{"POST", "service-tokens/x/disable", access.ScopeRevoke, ""},
			{"DELETE", "service-tokens/x", access.ScopeRevoke, ""},
		}
		tokens := map[string]string{}
		for _, sc := range access.APIScopes {
			tokens[sc] = newToken(sc)
		}
		for _, ep := range endpoints {
			for sc, tok := range tokens {
				if sc == ep.scope {
					continue
				}
				resp, out := rawHTTP(t, env, ep.method, team, api+ep.path, []string{"Authorization: Bearer " + tok, "Content-Type: application/json"}, ep.body)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s with scope %s: %d %s, want 403", ep.method, ep.path, sc, resp.StatusCode, out)
				}
			}
		}
		for _, sc := range []string{access.ScopeRead, access.ScopeRevoke, access.ScopeServiceTokens} {
			if resp, out := rawHTTP(t, env, "GET", team, "/scim/v2/Users", []string{"Authorization: Bearer " + tokens[sc]}, ""); resp.StatusCode != http.StatusForbidden {
				t.Errorf("SCIM with scope %s: %d %s, want 403", sc, resp.StatusCode, out)
			}
		}
		noRevocation(t)
	})

	t.Run("refused calls are audited, then limited", func(t *testing.T) {
		refill()
		before := env.auditCount(t, access.EventAPI)
		bad := access.APITokenPrefix + strings.Repeat("0", 64)
		var limited *http.Response
		for i := 0; i < 60 && limited == nil; i++ {
			resp, _ := rawHTTP(t, env, "GET", team, api+"users", []string{"Authorization: Bearer " + bad, "X-Forwarded-For: 203.0.113." + fmt.Sprint(i)}, "")
			if resp.StatusCode == http.StatusTooManyRequests {
				limited = resp
			}
		}
		if limited == nil || limited.Header.Get("Retry-After") == "" {
			t.Fatal("60 failures from one address (a forged X-Forwarded-For each time) were never limited")
		}
		if n := env.auditCount(t, access.EventAPI) - before; n == 0 || n > 25 {
			t.Errorf("%d api audit rows for the failures, want one per failure up to the limit", n)
		}
		if resp, _ := rawHTTP(t, env, "GET", team, api+"users", []string{"Authorization: Bearer " + all}, ""); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("a good token from the limited address: %d, want 429", resp.StatusCode)
		}
	})

	t.Run("forged identity headers never reach the origin", func(t *testing.T) {
		forged := []string{
			"Cf-Access-Authenticated-User-Email", "cf-access-authenticated-user-email", "CF-ACCESS-AUTHENTICATED-USER-EMAIL",
			"Cf_Access_Authenticated_User_Email", "Cf-Access-Jwt-Assertion", "cf_access_jwt_assertion", "Cf-Access-Client-Id",
		}
		for _, path := range []string{"/?format=json", api + "users?format=json", "/scim/v2/Users?format=json"} {
			req, _ := http.NewRequest("GET", env.url("app", path), nil)
			for _, h := range forged {
				req.Header[h] = []string{"forged-admin@example.com"}
			}
			req.Header.Set("Authorization", "Bearer "+all)
			resp, err := alice.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if strings.Contains(body, "forged-admin") {
				t.Errorf("GET app%s: a forged header reached the origin: %s", path, body)
			}
			var w whoami
			if path == "/?format=json" && (resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &w) != nil ||
				w.Email != "alice@example.com" || header(w, "Cf-Access-Authenticated-User-Email") != "alice@example.com") {
				t.Errorf("GET app%s: %d %s, want alice at the origin", path, resp.StatusCode, body)
			}
		}
	})

	t.Run("API token secrets are stored hashed only", func(t *testing.T) {
		cfgPath := writeConfigFile(t, e2eAttackConfig, env, dataDir)
		cliSecret, cliID := createAPITokenCLI(t, cfgPath, "cli-made", "read")
		if list := runCLI(t, "api-token", "list", "-config", cfgPath); !strings.Contains(list, cliID) || strings.Contains(list, cliSecret) ||
			strings.Contains(list, strings.TrimPrefix(all, access.APITokenPrefix)) {
			t.Errorf("api-token list shows a secret or lacks the token:\n%s", list)
		}
		var found []string
		_ = filepath.Walk(dataDir, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return nil
			}
			if info.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s has mode %v, want no access for group and others", p, info.Mode().Perm())
			}
			b, err := os.ReadFile(p)
			for _, secret := range []string{all, cliSecret} {
				if err == nil && strings.Contains(string(b), strings.TrimPrefix(secret, access.APITokenPrefix)) {
					found = append(found, p)
				}
			}
			return nil
		})
		if len(found) > 0 {
			t.Fatalf("an API token secret is in %v", found)
		}
	})
}

// cookieHeader is the Cookie header c sends to target.
func cookieHeader(t *testing.T, c *http.Client, target string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", target, nil)
	var parts []string
	for _, ck := range c.Jar.Cookies(req.URL) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) == 0 {
		t.Fatal("no cookies")
	}
	return strings.Join(parts, "; ")
}

// signInBoth2 signs c in as email on the demo app and returns the global
// session's nonce.
func signInBoth2(t *testing.T, env *testEnv, c *http.Client, email string) string {
	t.Helper()
	w := decodeWhoami(t, env.signInWithPIN(t, c, env.url("app", "/?format=json"), email))
	if w.Email != email {
		t.Fatalf("signed in as %q, want %q", w.Email, email)
	}
	return nonceOf(t, w)
}

// mustServiceTokens lists env's service tokens.
func mustServiceTokens(t *testing.T, env *testEnv) []string {
	t.Helper()
	rows, err := env.app.Store().SQL().QueryContext(context.Background(), `SELECT name FROM service_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestSCIMAttacks: what a SCIM client (a token of scope scim) can and
// cannot do: it cannot make anyone an admin through a group that grants
// admin rights, cannot inject into the store's queries, cannot change a
// resource's id, and a user it deactivates stays refused under every
// spelling of the email.
func TestSCIMAttacks(t *testing.T) {
	env := startEnv(t, e2eAttackConfig, "")
	api := scimAPI{t: t, env: env, token: scimToken(t, env, "scim")}

	t.Run("a SCIM group cannot grant admin", func(t *testing.T) {
		eve := api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"eve@example.com","active":true}`).
			want(t, "create eve", http.StatusCreated).str("id")
		api.do("POST", "/Groups", `{"schemas":["`+scimGroupSchema+`"],"displayName":"ops","members":[{"value":"`+eve+`"}]}`).
			want(t, "create group ops", http.StatusCreated)
		c := newClient(t, false)
		resp := env.signInWithPIN(t, c, env.team+"/admin", "eve@example.com")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "API tokens") {
			t.Fatalf("eve, in the SCIM group ops (admins = group:ops), on /admin: %d, want 403\n%s", resp.StatusCode, body)
		}
		// A SCIM user named like an admin is no admin either (the admin is
		// by email; SCIM grants nothing by itself).
		api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"Admin@Example.com ","active":true}`).
			want(t, "create admin look-alike", http.StatusCreated)
		if r := api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"admin@example.com","active":true}`); r.Status != http.StatusConflict {
			t.Errorf("a second admin@example.com: %d, want 409", r.Status)
		}
	})

	t.Run("deactivated under every spelling", func(t *testing.T) {
		for _, tc := range []struct{ userName, signIn string }{
			{"Carol@Example.com", "carol@example.com"},
			{"  dave@example.com\t", "dave@example.com"},
			{"ÅSA@Example.com", "åsa@example.com"},
			{"ÉMILE@EXAMPLE.COM", "émile@example.com"},
		} {
			api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"`+jsonEscape(tc.userName)+`","active":false}`).
				want(t, "create "+tc.userName, http.StatusCreated)
			signInRefused(t, env, tc.signIn)
		}
	})

	t.Run("an update that does not name active never reactivates", func(t *testing.T) {
		id := api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"hank@example.com","active":false}`).
			want(t, "create hank", http.StatusCreated).str("id")
		for _, tc := range []struct{ method, body string }{
			{"PUT", `{"schemas":["` + scimUserSchema + `"],"userName":"hank@example.com","displayName":"Hank"}`},
			{"PUT", `{"schemas":["` + scimUserSchema + `"],"userName":"hank@example.com","active":null}`},
			{"PATCH", `{"schemas":["` + scimPatchSchema + `"],"Operations":[{"op":"remove","path":"active"}]}`},
			{"PATCH", `{"schemas":["` + scimPatchSchema + `"],"Operations":[{"op":"replace","value":{"displayName":"H"}}]}`},
		} {
			r := api.do(tc.method, "/Users/"+id, tc.body)
			if r.Status != http.StatusOK || r.Doc["active"] != false {
				t.Errorf("%s %s: %d active=%v, want 200 and still inactive", tc.method, tc.body, r.Status, r.Doc["active"])
			}
		}
		signInRefused(t, env, "hank@example.com")
		if r := api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"ivy@example.com"}`); r.Doc["active"] != true {
			t.Errorf("a new user without active: %s, want active", r.Raw)
		}
	})

	t.Run("filters are no injection", func(t *testing.T) {
		for _, f := range []string{
			`userName eq "x' OR '1'='1"`, `userName eq "x\" OR \"1\"=\"1"`, `userName eq "%"`, `userName eq "_ve@example.com"`,
			`externalId eq "' OR 1=1 --"`, `id eq "1' UNION SELECT user_name FROM scim_users --"`,
		} {
			r := api.do("GET", "/Users?filter="+q(f), "")
			if r.Status == http.StatusOK && r.Doc["totalResults"] != float64(0) {
				t.Errorf("filter %s: %s, want no user", f, r.Raw)
			}
		}
		for _, f := range []string{`user_name eq "eve@example.com"`, `userName) OR 1=1 -- eq "x"`, `userName eq "x" or 1 eq 1`, `"userName" eq "x"`} {
			r := api.do("GET", "/Users?filter="+q(f), "")
			if r.Status == http.StatusOK && r.Doc["totalResults"] != float64(0) {
				t.Errorf("filter %s: %s, want an error or no user", f, r.Raw)
			}
			if r.Status >= 500 {
				t.Errorf("filter %s: %d %s", f, r.Status, r.Raw)
			}
		}
	})

	t.Run("PATCH cannot change what the server owns", func(t *testing.T) {
		id := api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"frank@example.com","active":true}`).
			want(t, "create frank", http.StatusCreated).str("id")
		for _, op := range []string{
			`{"op":"replace","path":"id","value":"00000000-0000-0000-0000-000000000000"}`,
			`{"op":"replace","path":"meta.created","value":"2000-01-01T00:00:00Z"}`,
			`{"op":"replace","value":{"id":"00000000-0000-0000-0000-000000000000"}}`,
			`{"op":"add","path":"groups","value":[{"value":"x"}]}`,
		} {
			api.do("PATCH", "/Users/"+id, `{"schemas":["`+scimPatchSchema+`"],"Operations":[`+op+`]}`)
		}
		r := api.do("GET", "/Users/"+id, "").want(t, "frank after the patches", http.StatusOK)
		if r.str("id") != id || r.str("userName") != "frank@example.com" || r.Doc["groups"] != nil {
			t.Errorf("frank after the patches: %s", r.Raw)
		}
	})

	t.Run("refused SCIM calls are audited, with the client IP", func(t *testing.T) {
		before := env.auditCount(t, access.EventSCIM)
		bad := scimAPI{t: t, env: env, token: access.APITokenPrefix + strings.Repeat("0", 64)}
		bad.do("GET", "/Users", "").want(t, "unknown token", http.StatusUnauthorized)
		scimAPI{t: t, env: env, token: scimToken(t, env, "read")}.do("DELETE", "/Users/x", "").want(t, "read token", http.StatusForbidden)
		if n := env.auditCount(t, access.EventSCIM) - before; n != 2 {
			t.Errorf("%d scim audit rows for two refused calls, want 2", n)
		}
		var detail, ip string
		if err := env.app.Store().SQL().QueryRowContext(context.Background(),
			`SELECT detail, ip FROM audit WHERE kind = ? ORDER BY rowid DESC LIMIT 1`, access.EventSCIM).Scan(&detail, &ip); err != nil {
			t.Fatal(err)
		}
		if detail != "Refused DELETE /scim/v2/Users/x: 403 Forbidden" || ip != "127.0.0.1" {
			t.Errorf("last scim audit row: %q from %q", detail, ip)
		}
	})

	t.Run("body limit", func(t *testing.T) {
		big := `{"schemas":["` + scimUserSchema + `"],"userName":"gina@example.com","displayName":"` + strings.Repeat("a", 2<<20) + `"}`
		if r := api.do("POST", "/Users", big); r.Status < 400 || r.Status >= 500 {
			t.Errorf("a 2 MiB user: %d, want a 4xx", r.Status)
		}
		if r := api.do("GET", "/Users?filter="+q(`userName eq "gina@example.com"`), ""); r.Doc["totalResults"] != float64(0) {
			t.Errorf("the 2 MiB user was created: %s", r.Raw)
		}
	})
}

// jsonEscape escapes s for a JSON string literal.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
