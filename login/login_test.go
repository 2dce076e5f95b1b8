package login

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

func TestLoginPage(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		status   int
		body     string // substring of the body
		location string // exact Location
	}{
		{name: "email form for one provider", target: loginURL(demoHost, "/x?y=1"), status: http.StatusOK,
			body: `action="/cdn-cgi/access/otp"`},
		{name: "unknown host", target: loginURL("other.example.com", "/"), status: http.StatusNotFound,
			body: "not protected by auth.example.com"},
		{name: "bad redirect_url", target: loginURL(demoHost, "//evil.com/x"), status: http.StatusBadRequest},
		{name: "bad host", target: loginURL("evil.com@demo.example.com", "/"), status: http.StatusBadRequest},
		{name: "kid mismatch", target: access.PathLogin + demoHost + "?kid=" + strings.Repeat("f", 64) + "&app_session=" + appSession,
			status: http.StatusBadRequest},
		{name: "bad app_session", target: access.PathLogin + demoHost + "?redirect_url=/&app_session=nothex", status: http.StatusBadRequest},
		{name: "missing app_session", target: access.PathLogin + demoHost + "?kid=" + demoAUD + "&redirect_url=%2Fa%3Fb%3D1",
			status: http.StatusFound, location: "https://demo.example.com/a?b=1"},
		{name: "app allows no configured provider", target: access.PathLogin + "ops.example.com?redirect_url=/&app_session=" + appSession,
			status: http.StatusForbidden},
		{name: "team domain sign-in", target: access.PathLogin + testTeam + "?redirect_url=/", status: http.StatusOK,
			body: `name="host" value="auth.example.com"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t)
			w := hs.do("GET", tt.target, nil)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body:\n%s", w.Code, tt.status, w.Body)
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("body lacks %q:\n%s", tt.body, w.Body)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			if got := w.Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
				t.Errorf("Cache-Control %q", got)
			}
		})
	}
}

func TestLoginPageHeadersAndFields(t *testing.T) {
	hs := newHarness(t)
	w := hs.do("GET", loginURL(demoHost, "/x?y=1"), nil)
	if got := w.Header().Get(access.HeaderAccessDomain); got != demoHost {
		t.Errorf("%s = %q", access.HeaderAccessDomain, got)
	}
	body := w.Body.String()
	for _, want := range []string{
		`name="host" value="demo.example.com"`,
		`name="redirect_url" value="/x?y=1"`,
		`name="app_session" value="` + appSession + `"`,
		`name="kid" value="` + demoAUD + `"`,
		`type="email"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
}

func TestLoginPickerListsProviders(t *testing.T) {
	hs := newHarness(t,
		Provider{ID: "pin", Name: "Email PIN", Kind: KindOTP},
		Provider{ID: "sso", Name: "Company SSO", Kind: KindOIDC})
	w := hs.do("GET", loginURL(demoHost, "/"), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{"Email PIN", "Company SSO", `href="/cdn-cgi/access/otp?app_session=`, `href="/cdn-cgi/access/start/sso?`} {
		if !strings.Contains(body, want) {
			t.Errorf("picker lacks %q:\n%s", want, body)
		}
	}
	// An app limited to one redirecting provider goes straight to it.
	w = hs.do("GET", access.PathLogin+"ops.example.com?redirect_url=/&app_session="+appSession, nil)
	if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), access.PathIdPStart+"sso?") {
		t.Errorf("ops: %d Location %q", w.Code, w.Header().Get("Location"))
	}
}

func TestPINFlowIssuesSessionAndHandoff(t *testing.T) {
	hs := newHarness(t)
	w := hs.signIn("Ann@Example.com", "")
	if w.Code != http.StatusFound {
		t.Fatalf("verify: %d %s", w.Code, w.Body)
	}
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Scheme != "https" || loc.Host != demoHost || loc.Path != access.PathAuthorized {
		t.Fatalf("Location %s", loc)
	}
	nonce := loc.Query().Get("nonce")
	ho, ok := hs.store.handoffs[nonce]
	if !ok || len(nonce) != 64 {
		t.Fatalf("no hand-off stored for nonce %q", nonce)
	}
	if ho.host != demoHost || ho.h.RedirectURL != "/x?y=1" || ho.h.AppSessionHash != appSession || ho.h.MaxAge != 8*3600 { // the global session's life, not the 2 h token's
		t.Errorf("hand-off %+v for host %q", ho.h, ho.host)
	}
	if !ho.expires.Equal(testNow.Add(handoffTTL)) {
		t.Errorf("hand-off expires %v", ho.expires)
	}
	app, err := hs.keys.Verify(ho.h.Token, demoAUD, token.TypeApp, testNow)
	if err != nil {
		t.Fatalf("app token: %v", err)
	}
	if app.Email != "ann@example.com" || app.Subject != "user-ann@example.com" || app.ExpiresAt != testNow.Add(2*time.Hour).Unix() {
		t.Errorf("app claims %+v", app)
	}
	state, err := base64.RawURLEncoding.DecodeString(loc.Query().Get("state"))
	if err != nil || !strings.Contains(string(state), `"hostname":"demo.example.com"`) {
		t.Errorf("state %q (%v)", state, err)
	}

	c := cookie(w, access.CookieAuthorization)
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 8*3600 {
		t.Errorf("cookie attributes %+v", c)
	}
	org, err := hs.keys.Verify(c.Value, token.TeamAudience(testTeam), token.TypeOrg, testNow)
	if err != nil {
		t.Fatalf("org token: %v", err)
	}
	if org.IdentityNonce != app.IdentityNonce || len(org.IdentityNonce) != 16 {
		t.Errorf("nonces: org %q app %q", org.IdentityNonce, app.IdentityNonce)
	}
	s := hs.store.sessions[org.IdentityNonce]
	if s.Identity.IdP != (access.IdP{ID: "pin", Type: "onetimepin"}) || !s.ExpiresAt.Equal(testNow.Add(8*time.Hour)) {
		t.Errorf("stored session %+v", s)
	}
	if kinds := hs.store.eventKinds(); !slices.Contains(kinds, access.EventSignIn) || !slices.Contains(kinds, access.EventAccess) {
		t.Errorf("audit %v lacks sign-in or access", kinds)
	}
}

func TestPINFlowFailures(t *testing.T) {
	t.Run("wrong code re-renders the form", func(t *testing.T) {
		hs := newHarness(t)
		w := hs.signIn("ann@example.com", "wrong")
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", w.Code)
		}
		if !strings.Contains(w.Body.String(), "That code is not valid. 2 tries left.") || !pinIDPattern.MatchString(w.Body.String()) {
			t.Errorf("body:\n%s", w.Body)
		}
		if cookie(w, access.CookieAuthorization) != nil {
			t.Error("a session cookie was set")
		}
		if kinds := hs.store.eventKinds(); !slices.Equal(kinds, []string{access.EventSignInFailed}) {
			t.Errorf("audit %v", kinds)
		}
	})
	t.Run("unknown pin id shows try again", func(t *testing.T) {
		hs := newHarness(t)
		first := hs.do("GET", loginURL(demoHost, "/"), nil)
		csrf := cookie(first, access.CookieCSRF)
		form := demoFlow("/")
		form.Set("csrf", csrf.Value)
		form.Set("pin_id", strings.Repeat("0", 32))
		form.Set("code", "123456")
		w := hs.do("POST", access.PathOTPVerify, form, csrf)
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Sign in again") {
			t.Fatalf("%d:\n%s", w.Code, w.Body)
		}
		if !strings.Contains(w.Body.String(), access.PathLogin+demoHost+"?") {
			t.Errorf("retry link does not restart the flow:\n%s", w.Body)
		}
		if len(hs.store.events) != 1 || hs.store.events[0].Kind != access.EventSignInFailed ||
			!strings.Contains(hs.store.events[0].Detail, "unknown") {
			t.Errorf("audit %+v", hs.store.events)
		}
	})
	t.Run("missing csrf sends nothing", func(t *testing.T) {
		hs := newHarness(t)
		form := demoFlow("/")
		form.Set("email", "ann@example.com")
		w := hs.do("POST", access.PathOTP, form)
		if w.Code != http.StatusForbidden {
			t.Fatalf("status %d", w.Code)
		}
		if to, _ := hs.mail.get(); to != "" {
			t.Errorf("a PIN was sent to %q", to)
		}
	})
	t.Run("invalid email", func(t *testing.T) {
		hs := newHarness(t)
		first := hs.do("GET", loginURL(demoHost, "/"), nil)
		csrf := cookie(first, access.CookieCSRF)
		form := demoFlow("/")
		form.Set("csrf", csrf.Value)
		form.Set("email", "not an email")
		w := hs.do("POST", access.PathOTP, form, csrf)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "valid email") {
			t.Fatalf("%d:\n%s", w.Code, w.Body)
		}
	})
	t.Run("app refusing the provider", func(t *testing.T) {
		hs := newHarness(t)
		w := hs.do("GET", access.PathOTP+"?host=ops.example.com&redirect_url=/&app_session="+appSession, nil)
		if w.Code != http.StatusForbidden {
			t.Fatalf("status %d", w.Code)
		}
	})
}

func TestCodePageClaimsCodeSent(t *testing.T) {
	hs := newHarness(t)
	first := hs.do("GET", loginURL(demoHost, "/"), nil)
	csrf := cookie(first, access.CookieCSRF)
	form := demoFlow("/")
	form.Set("csrf", csrf.Value)
	form.Set("email", "Bob@Example.com")
	w := hs.do("POST", access.PathOTP, form, csrf)
	if !strings.Contains(w.Body.String(), "If <strong>bob@example.com</strong> may sign in, we sent a code to it") {
		t.Errorf("body:\n%s", w.Body)
	}
	if to, pin := hs.mail.get(); to != "bob@example.com" || len(pin) != 6 {
		t.Errorf("mail to %q pin %q", to, pin)
	}
}

func TestGlobalSessionSkipsPIN(t *testing.T) {
	hs := newHarness(t)
	c, nonce := hs.orgCookie("ann@example.com")
	w := hs.do("GET", loginURL(demoHost, "/x"), nil, c)
	if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "https://demo.example.com"+access.PathAuthorized+"?nonce=") {
		t.Fatalf("%d Location %q", w.Code, w.Header().Get("Location"))
	}
	if len(hs.store.handoffs) != 1 {
		t.Fatalf("hand-offs %d", len(hs.store.handoffs))
	}
	for _, ho := range hs.store.handoffs {
		app, err := hs.keys.Verify(ho.h.Token, demoAUD, token.TypeApp, testNow)
		if err != nil || app.IdentityNonce != nonce {
			t.Errorf("app token %+v, %v", app, err)
		}
	}

	// Revoked: back to the sign-in form.
	hs.store.revoked[nonce] = true
	w = hs.do("GET", loginURL(demoHost, "/x"), nil, c)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="email"`) {
		t.Errorf("revoked session: %d", w.Code)
	}
}

// TestHardAppRevocationNeedsSignIn: a global session started before a hard
// revocation of the app may not mint tokens for it; one started after may,
// and its token's iat is not refused by the revocation.
func TestHardAppRevocationNeedsSignIn(t *testing.T) {
	hs := newHarness(t)
	c, _ := hs.orgCookie("ann@example.com") // session created at testNow

	hs.store.revokeApp(demoAUD, testNow.Add(1500*time.Millisecond))
	w := hs.do("GET", loginURL(demoHost, "/x"), nil, c)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="email"`) {
		t.Fatalf("session older than the revocation: %d %q, want the sign-in form", w.Code, w.Header().Get("Location"))
	}
	if len(hs.store.handoffs) != 0 {
		t.Fatalf("a hand-off was minted for a session older than the revocation")
	}

	hs.store.revokeApp(demoAUD, testNow.Add(-500*time.Millisecond))
	w = hs.do("GET", loginURL(demoHost, "/x"), nil, c)
	if w.Code != http.StatusFound {
		t.Fatalf("session newer than the revocation: %d, want the hand-off", w.Code)
	}
	for _, ho := range hs.store.handoffs {
		claims, err := hs.keys.Verify(ho.h.Token, demoAUD, token.TypeApp, testNow.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if claims.IssuedAt < testNow.Unix() {
			t.Errorf("iat %d is before the revocation's second", claims.IssuedAt)
		}
	}
}

func TestDeniedIdentity(t *testing.T) {
	t.Run("after PIN", func(t *testing.T) {
		hs := newHarness(t)
		w := hs.signIn("bob@example.com", "")
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "have access to Demo") {
			t.Fatalf("%d:\n%s", w.Code, w.Body)
		}
		if len(hs.store.handoffs) != 0 {
			t.Error("a hand-off was stored for a denied user")
		}
		var denied *access.Event
		for i, e := range hs.store.events {
			if e.Kind == access.EventDenied {
				denied = &hs.store.events[i]
			}
		}
		if denied == nil || denied.App != "Demo" || denied.Email != "bob@example.com" {
			t.Errorf("audit %+v", hs.store.events)
		}
	})
	t.Run("with global session", func(t *testing.T) {
		hs := newHarness(t)
		c, _ := hs.orgCookie("bob@example.com")
		w := hs.do("GET", loginURL(demoHost, "/"), nil, c)
		if w.Code != http.StatusForbidden {
			t.Fatalf("status %d", w.Code)
		}
		if kinds := hs.store.eventKinds(); !slices.Equal(kinds, []string{access.EventDenied}) {
			t.Errorf("audit %v", kinds)
		}
	})
}

func TestLauncherSignInReturnsHome(t *testing.T) {
	hs := newHarness(t)
	first := hs.do("GET", access.PathLogin+testTeam+"?redirect_url=/", nil)
	csrf := cookie(first, access.CookieCSRF)
	form := url.Values{"host": {testTeam}, "redirect_url": {"/"}, "csrf": {csrf.Value}, "email": {"carol@example.com"}}
	sent := hs.do("POST", access.PathOTP, form, csrf)
	m := pinIDPattern.FindStringSubmatch(sent.Body.String())
	if m == nil {
		t.Fatalf("code page:\n%s", sent.Body)
	}
	_, pin := hs.mail.get()
	form.Set("pin_id", m[1])
	form.Set("code", pin)
	w := hs.do("POST", access.PathOTPVerify, form, csrf)
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/" {
		t.Fatalf("%d Location %q", w.Code, w.Header().Get("Location"))
	}
	if cookie(w, access.CookieAuthorization) == nil {
		t.Error("no session cookie")
	}
}

func TestLogout(t *testing.T) {
	hs := newHarness(t)
	c, nonce := hs.orgCookie("ann@example.com")
	w := hs.do("POST", access.PathLogout, nil, c)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "signed out") {
		t.Fatalf("%d:\n%s", w.Code, w.Body)
	}
	if !hs.store.revoked[nonce] {
		t.Error("session not revoked")
	}
	if cleared := cookie(w, access.CookieAuthorization); cleared == nil || cleared.MaxAge >= 0 {
		t.Errorf("cookie not cleared: %+v", cleared)
	}
	if kinds := hs.store.eventKinds(); !slices.Equal(kinds, []string{access.EventSignOut}) {
		t.Errorf("audit %v", kinds)
	}
	if w := hs.do("GET", access.PathGetIdentity, nil, c); w.Code != http.StatusUnauthorized {
		t.Errorf("get-identity after logout: %d", w.Code)
	}
	// Without a session, logout still answers.
	if w := hs.do("GET", access.PathLogout, nil); w.Code != http.StatusOK {
		t.Errorf("anonymous logout: %d", w.Code)
	}
}

func TestGetIdentity(t *testing.T) {
	hs := newHarness(t)
	w := hs.do("GET", access.PathGetIdentity, nil)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `"error"`) {
		t.Fatalf("anonymous: %d %s", w.Code, w.Body)
	}
	c, nonce := hs.orgCookie("ann@example.com")
	w = hs.do("GET", access.PathGetIdentity, nil, c)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Content-Type"))
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["email"] != "ann@example.com" || got["identity_nonce"] != nonce || got["user_uuid"] != "user-ann@example.com" {
		t.Errorf("identity %v", got)
	}
	if idp, _ := got["idp"].(map[string]any); idp["type"] != "onetimepin" || idp["id"] != "pin" {
		t.Errorf("idp %v", got["idp"])
	}
	// An app token is not a global session.
	raw, _ := hs.keys.Sign(token.AppClaims(access.Identity{Email: "ann@example.com"}, nonce, demoAUD, access.Grant{IssuedAt: testNow.Unix(), ExpiresAt: testNow.Add(time.Hour).Unix()}))
	if w := hs.do("GET", access.PathGetIdentity, nil, &http.Cookie{Name: access.CookieAuthorization, Value: raw}); w.Code != http.StatusUnauthorized {
		t.Errorf("app token accepted: %d", w.Code)
	}
}

func TestCerts(t *testing.T) {
	hs := newHarness(t)
	w := hs.do("GET", access.PathCerts, nil)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=60" {
		t.Errorf("Cache-Control %q", got)
	}
	if !strings.Contains(w.Body.String(), hs.keys.CurrentKeyID()) {
		t.Error("certs lack the current kid")
	}
}

func TestLauncher(t *testing.T) {
	tests := []struct {
		name    string
		email   string // "" for no session
		want    []string
		notWant []string
	}{
		{name: "anonymous", want: []string{"Sign in", access.PathLogin + testTeam + "?redirect_url=%2F"}, notWant: []string{"Demo"}},
		{name: "allowed everywhere", email: "ann@example.com",
			want: []string{`href="https://demo.example.com/"`, `href="https://wiki.example.com/docs"`, "Ops"}},
		{name: "only the open app", email: "bob@example.com",
			want: []string{`href="https://wiki.example.com/docs"`}, notWant: []string{"demo.example.com", "Ops"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t)
			var cookies []*http.Cookie
			if tt.email != "" {
				c, _ := hs.orgCookie(tt.email)
				cookies = append(cookies, c)
			}
			w := hs.do("GET", "/", nil, cookies...)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("launcher lacks %q:\n%s", s, body)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(body, s) {
					t.Errorf("launcher shows %q", s)
				}
			}
		})
	}
}

func TestUnknownPath(t *testing.T) {
	hs := newHarness(t)
	w := hs.do("GET", "/nope", nil)
	if w.Code != http.StatusNotFound {
		t.Fatalf("status %d", w.Code)
	}
	if got := w.Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
		t.Errorf("Cache-Control %q", got)
	}
}

func TestCleanHost(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "Demo.Example.com", "demo.example.com", true},
		{"port", "demo.localhost:8080", "demo.localhost:8080", true},
		{"userinfo", "a@b.com", "", false},
		{"bad port", "a.com:0", "", false},
		{"wildcard", "*.example.com", "", false},
		{"empty", "", "", false},
		{"double dot", "a..com", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cleanHost(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("cleanHost(%q) = %q, %v", tt.in, got, ok)
			}
		})
	}
}

// TestTeamCookieTossing: a second CF_Authorization (another user's, planted
// for the parent domain) never chooses the identity on the team domain.
func TestTeamCookieTossing(t *testing.T) {
	hs := newHarness(t)
	mine, _ := hs.orgCookie("ann@example.com")
	planted, _ := hs.orgCookie("mallory@example.com")
	for _, order := range [][]*http.Cookie{{planted, mine}, {mine, planted}} {
		w := hs.do("GET", access.PathGetIdentity, nil, order...)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("ambiguous cookies gave identity: %d %s", w.Code, w.Body)
		}
		cleared := false
		for _, c := range w.Result().Cookies() {
			if c.Name == access.CookieAuthorization && c.MaxAge < 0 && c.Domain == "example.com" {
				cleared = true
			}
		}
		if !cleared {
			t.Errorf("parent-domain copy not cleared")
		}
	}
	if w := hs.do("GET", access.PathGetIdentity, nil, mine); w.Code != http.StatusOK {
		t.Fatalf("the team domain's own cookie alone: %d", w.Code)
	}
}

// TestDeniedOffersAnotherAccount: the deny page says who is signed in and
// offers to sign out and come back to this app's sign-in; the global
// session is kept until the user chooses that.
func TestDeniedOffersAnotherAccount(t *testing.T) {
	hs := newHarness(t)
	c, nonce := hs.orgCookie("bob@example.com")
	w := hs.do("GET", loginURL(demoHost, "/"), nil, c)
	body := w.Body.String()
	if w.Code != http.StatusForbidden || !strings.Contains(body, "bob@example.com") || !strings.Contains(body, "Use another account") {
		t.Fatalf("deny page %d:\n%s", w.Code, body)
	}
	if hs.store.SessionRevoked(nonce) {
		t.Fatal("a refused sign-in ended the global session")
	}
	m := regexp.MustCompile(`name="redirect_url" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no redirect_url in the switch form")
	}
	back := html.UnescapeString(m[1])
	if !strings.HasPrefix(back, access.PathLogin+demoHost) {
		t.Fatalf("switch returns to %q", back)
	}
	w = hs.do("POST", access.PathLogout, url.Values{"redirect_url": {back}}, c)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != back {
		t.Fatalf("use another account: %d Location %q", w.Code, w.Header().Get("Location"))
	}
	if !hs.store.SessionRevoked(nonce) {
		t.Error("use another account kept the session")
	}
	for _, evil := range []string{"https://evil.example.com/", "//evil.example.com/x", "/admin"} {
		c, _ := hs.orgCookie("bob@example.com")
		if w := hs.do("POST", access.PathLogout, url.Values{"redirect_url": {evil}}, c); w.Code != http.StatusOK {
			t.Errorf("logout with redirect_url %q: %d Location %q", evil, w.Code, w.Header().Get("Location"))
		}
	}
}
