package app

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
	"github.com/gatehouse-dev/gatehouse/token"
)

// uaScript is a User-Agent an attacker signs in with, hoping the sessions
// page renders it raw.
const uaScript = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>{{.}}</td></tr></table><iframe src=//evil.localhost> Chrome/126.0 Windows`

// TestEndToEndSessionsPageAttacks: the sessions page escapes what the
// client sent, is never framed, shows each user only their own sessions,
// and its end-session form refuses forged and cross-site posts and
// sessions that are not the user's.
func TestEndToEndSessionsPageAttacks(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	app := env.url("app", "/hello?format=json")
	a, _ := clientWith(t, false, map[string]string{"User-Agent": uaScript})
	b, _ := clientWith(t, false, map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 </td><script>alert(3)</script>"})
	bob, _ := clientWith(t, false, map[string]string{"User-Agent": "bob-agent <b>bold</b>"})
	for _, c := range []struct {
		c     *http.Client
		email string
	}{{a, "alice@example.com"}, {b, "alice@example.com"}, {bob, "bob@example.com"}} {
		resp := env.signInWithPIN(t, c.c, app, c.email)
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in of %s: %d", c.email, resp.StatusCode)
		}
	}
	page, nonces := env.sessionsPage(t, a)
	if len(nonces) != 2 {
		t.Fatalf("alice sees %d sessions:\n%s", len(nonces), page)
	}
	mine, other := nonces[0], nonces[1]
	bobPage, bobNonces := env.sessionsPage(t, bob)

	t.Run("the User-Agent is never rendered raw", func(t *testing.T) {
		for _, bad := range []string{"<script", "onerror", "<img", "<iframe", "alert(", "evil.localhost", "{{", "<b>"} {
			if strings.Contains(page, bad) || strings.Contains(bobPage, bad) {
				t.Errorf("a sessions page contains %q:\n%s\n%s", bad, page, bobPage)
			}
		}
		if !strings.Contains(page, "Chrome 126 on Windows") || !strings.Contains(page, "Firefox 128 on Linux") {
			t.Errorf("the devices are not named from the agents:\n%s", page)
		}
	})
	t.Run("each user sees only their own sessions", func(t *testing.T) {
		for _, n := range nonces {
			if strings.Contains(bobPage, n) {
				t.Errorf("bob's page shows alice's session %s", n)
			}
		}
		if strings.Contains(bobPage, "alice@") || strings.Contains(page, "bob@") || strings.Contains(page, bobNonces[0]) {
			t.Error("a sessions page shows the other user")
		}
	})
	t.Run("never framed", func(t *testing.T) {
		for _, u := range []string{access.PathSessions, access.PathSessionsEnd, access.PathSignedOut, access.PathLauncher, access.PathGetIdentity, access.PathCerts, "/nope", access.PathLogout} {
			resp, err := noFollow(t, a).Get(env.team + u)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("%s (%d): X-Frame-Options %q, CSP %q", u, resp.StatusCode, resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"))
			}
		}
	})
	// The logout above signed alice out; sign in again and read the page afresh.
	resp := env.signInWithPIN(t, a, app, "alice@example.com")
	readBody(t, resp)
	page, nonces = env.sessionsPage(t, a)
	mine = nonces[0]
	if len(nonces) != 2 || nonces[1] != other {
		t.Fatalf("sessions after signing in again: %v, want a new current one and %s", nonces, other)
	}
	_, vals := parseForm(t, page, "nonce")
	csrf := vals.Get("csrf")
	_, bobVals := parseForm(t, bobPage, "nonce")

	post := func(t *testing.T, c *http.Client, form url.Values, hdr map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, env.team+access.PathSessionsEnd, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := noFollow(t, c).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		return resp.StatusCode
	}
	revoked := env.app.Revocations().SessionRevoked
	for _, tt := range []struct {
		name string
		form url.Values
		hdr  map[string]string
		want int
	}{
		{"no CSRF token", url.Values{"nonce": {other}}, nil, http.StatusForbidden},
		{"a forged CSRF token", url.Values{"nonce": {other}, "csrf": {token.RandomHex(32)}}, nil, http.StatusForbidden},
		{"bob's CSRF token", url.Values{"nonce": {other}, "csrf": {bobVals.Get("csrf")}}, nil, http.StatusForbidden},
		{"Origin null", url.Values{"nonce": {other}, "csrf": {csrf}}, map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"Origin of an app host", url.Values{"nonce": {other}, "csrf": {csrf}}, map[string]string{"Origin": strings.TrimSuffix(env.url("app", "/"), "/")}, http.StatusForbidden},
		{"Origin of another port", url.Values{"nonce": {other}, "csrf": {csrf}}, map[string]string{"Origin": "http://auth.localhost:1"}, http.StatusForbidden},
		{"Origin https of the team host", url.Values{"nonce": {other}, "csrf": {csrf}}, map[string]string{"Origin": strings.Replace(env.team, "http://", "https://", 1)}, http.StatusForbidden},
		{"cross-site text/plain form", url.Values{"nonce": {other}, "csrf": {csrf}}, map[string]string{"Origin": "http://evil.localhost", "Content-Type": "text/plain"}, http.StatusForbidden},
		{"method override header", url.Values{"nonce": {other}}, map[string]string{"X-HTTP-Method-Override": "GET"}, http.StatusForbidden},
		{"bob's session", url.Values{"nonce": {bobNonces[0]}, "csrf": {csrf}}, nil, http.StatusNotFound},
		{"a guessed id", url.Values{"nonce": {token.NewNonce()}, "csrf": {csrf}}, nil, http.StatusNotFound},
		{"an id with SQL in it", url.Values{"nonce": {"' OR '1'='1"}, "csrf": {csrf}}, nil, http.StatusNotFound},
		{"no id", url.Values{"csrf": {csrf}}, nil, http.StatusNotFound},
		{"others=2 is not others", url.Values{"others": {"2"}, "csrf": {csrf}}, nil, http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(t, a, tt.form, tt.hdr); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
			if revoked(other) || revoked(mine) || revoked(bobNonces[0]) {
				t.Fatalf("a session was ended: other %v, mine %v, bob %v", revoked(other), revoked(mine), revoked(bobNonces[0]))
			}
		})
	}
	t.Run("GET of the end-session URL ends nothing", func(t *testing.T) {
		resp, err := noFollow(t, a).Get(env.team + access.PathSessionsEnd + "?" + url.Values{"nonce": {other}, "csrf": {csrf}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusSeeOther || revoked(other) {
			t.Errorf("GET: %d, revoked %v", resp.StatusCode, revoked(other))
		}
	})
	t.Run("bob's others=1 leaves alice alone", func(t *testing.T) {
		if got := post(t, bob, url.Values{"others": {"1"}, "csrf": {bobVals.Get("csrf")}}, nil); got != http.StatusSeeOther {
			t.Fatalf("bob's everywhere else: %d", got)
		}
		if revoked(other) || revoked(mine) || revoked(bobNonces[0]) {
			t.Error("bob's sign out everywhere else ended a session it should not")
		}
	})
	t.Run("a revoked id", func(t *testing.T) {
		if got := post(t, a, url.Values{"nonce": {other}, "csrf": {csrf}}, nil); got != http.StatusSeeOther || !revoked(other) {
			t.Fatalf("ending the other session: %d", got)
		}
		if got := post(t, a, url.Values{"nonce": {other}, "csrf": {csrf}}, nil); got != http.StatusNotFound {
			t.Errorf("ending it again: %d, want 404", got)
		}
	})
	t.Run("a CSRF cookie planted by a sibling and sent first does not break the form", func(t *testing.T) {
		planted := map[string]string{"Cookie": access.CookieCSRF + "=" + token.RandomHex(32)}
		if got := post(t, a, url.Values{"others": {"1"}, "csrf": {csrf}}, planted); got != http.StatusSeeOther {
			t.Errorf("the page's own token beside a planted cookie: %d, want 303", got)
		}
		if got := post(t, a, url.Values{"others": {"1"}, "csrf": {planted["Cookie"][len(access.CookieCSRF)+1:]}}, map[string]string{"Cookie": planted["Cookie"], "Origin": "http://evil.localhost"}); got != http.StatusForbidden {
			t.Errorf("the planted token from another site: %d, want 403", got)
		}
		if revoked(mine) {
			t.Fatal("the current session was ended")
		}
	})
}

// TestEndToEndCountryHeaderFromStranger: with country_header set but the
// loopback peer not a trusted proxy, a client's own CF-IPCountry (and
// X-Forwarded-For) changes neither the country in the tokens and
// get-identity nor the countries decision.
func TestEndToEndCountryHeaderFromStranger(t *testing.T) {
	db := filepath.Join(t.TempDir(), "GeoLite2-Country.mmdb")
	testkit.WriteCountryDB(t, db, map[string]string{"192.0.2.0/24": "PT", "127.0.0.0/8": "US"})
	cfg := e2eHeader(`trusted_proxies = ["10.0.0.0/8"]`) + strings.ReplaceAll(countryConfig, "{{DB}}", filepath.ToSlash(db))
	env := startEnv(t, cfg, "")
	c, hdr := clientWith(t, false, map[string]string{"CF-IPCountry": "PT", "X-Forwarded-For": "192.0.2.9"})
	w := decodeWhoami(t, env.signInWithPIN(t, c, env.url("app", "/?format=json"), "ana@example.com"))
	if got := w.JWTPayload["country"]; got != "US" {
		t.Errorf("app token country = %v, want US (the peer's own address)", got)
	}
	var ident struct {
		Geo struct {
			Country string `json:"country"`
		} `json:"geo"`
	}
	if code := getJSON(t, c, env.team+access.PathGetIdentity, &ident); code != http.StatusOK || ident.Geo.Country != "US" {
		t.Errorf("team get-identity: %d %+v", code, ident)
	}
	for _, v := range []string{"PT", "pt", "PT, PT", " PT"} {
		hdr.Set("CF-IPCountry", v)
		resp, err := noFollow(t, c).Get(env.url("pt", "/?format=json"))
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode == http.StatusOK {
			t.Errorf("the Portugal-only app with a client's CF-IPCountry %q: %d, want refused", v, resp.StatusCode)
		}
	}
}

// TestEndToEndCountryHeaderTwice: behind a trusted proxy that adds its own
// CF-IPCountry instead of replacing the client's, the request carries two;
// neither is believed, so a client in the US cannot claim Portugal.
func TestEndToEndCountryHeaderTwice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "GeoLite2-Country.mmdb")
	testkit.WriteCountryDB(t, db, map[string]string{"192.0.2.0/24": "PT", "198.51.100.0/24": "US"})
	cfg := e2eHeader(`trusted_proxies = ["127.0.0.1/32"]`) + strings.ReplaceAll(countryConfig, "{{DB}}", filepath.ToSlash(db))
	env := startEnv(t, cfg, "")
	c, _ := clientWith(t, false, map[string]string{"X-Forwarded-For": "198.51.100.7"})
	resp := env.signInWithPIN(t, c, env.url("app", "/?format=json"), "ana@example.com")
	readBody(t, resp)
	get := func(cl *http.Client, values ...string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, env.url("pt", "/?format=json"), nil)
		for _, v := range values {
			req.Header.Add("CF-IPCountry", v)
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		return resp.StatusCode
	}
	if code := get(c, "PT"); code != http.StatusOK {
		t.Fatalf("the proxy's one PT: %d, want 200", code)
	}
	if code := get(noFollow(t, c), "PT", "US"); code != http.StatusForbidden {
		t.Errorf("the client's PT before the proxy's US: %d, want 403", code)
	}
	if code := get(noFollow(t, c), "PT", "PT"); code != http.StatusForbidden {
		t.Errorf("two copies, even alike: %d, want 403", code)
	}
}

// TestEndToEndDeactivatedPageAttacks: a SCIM user provisioned with markup
// in every name field, then deactivated, gets the static "Account
// deactivated" page: nothing of what the provisioning client sent, never
// framed.
func TestEndToEndDeactivatedPageAttacks(t *testing.T) {
	env, api := startSCIMEnv(t)
	const email = "mal@example.com"
	id := api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"`+email+`",
		"displayName":"<script>alert(1)</script>","externalId":"\"><img src=x onerror=alert(2)>",
		"name":{"givenName":"<svg onload=alert(3)>","familyName":"{{.}}"},
		"emails":[{"primary":true,"type":"work","value":"`+email+`"}],"active":true}`).
		want(t, "create", http.StatusCreated).str("id")
	api.do("PATCH", "/Users/"+id, `{"schemas":["`+scimPatchSchema+`"],
		"Operations":[{"op":"replace","path":"active","value":false}]}`).want(t, "deactivate", http.StatusOK)
	c := newClient(t, false)
	resp := env.signInWithPIN(t, c, env.url("app", "/?format=json"), email)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Account deactivated") {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	for _, bad := range []string{"<script", "<img", "<svg", "onerror", "onload", "alert(", "{{"} {
		if strings.Contains(body, bad) {
			t.Errorf("the deactivated page contains %q:\n%s", bad, body)
		}
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("headers: %v", resp.Header)
	}
}
