package login

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestProviderCodesInWords(t *testing.T) {
	tests := []struct {
		code, sentence, shown string
	}{
		{"access_denied", "The sign-in was cancelled", "access_denied"},
		{"temporarily_unavailable", "Try again in a few minutes.", "temporarily_unavailable"},
		{"invalid_scope", "configured scopes", "invalid_scope"},
		{"urn:oasis:names:tc:SAML:2.0:status:Responder", "could not complete the sign-in", "urn:oasis:names:tc:SAML:2.0:status:Responder"},
		{"urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal", "does not know this account", "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"},
		{"made_up_code", unknownCodeSentence, "made_up_code"},
		{"<script>alert(1)</script>", unknownCodeSentence, ""},
		{strings.Repeat("x", maxShownCode+1), unknownCodeSentence, ""},
		{"", unknownCodeSentence, ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			f := refusedBy(Provider{Name: "Okta", Kind: KindOIDC}, tt.code)
			if !strings.HasPrefix(f.Msg, "Okta did not sign you in. ") || !strings.Contains(f.Msg, tt.sentence) {
				t.Errorf("message %q, want %q", f.Msg, tt.sentence)
			}
			if strings.Contains(f.Msg, "("+tt.code+")") && tt.code != "" {
				t.Errorf("message %q shows the raw code", f.Msg)
			}
			if tt.shown == "" && f.Detail != "" {
				t.Errorf("detail %q, want none", f.Detail)
			}
			if tt.shown != "" && f.Detail != "Code from the identity provider: "+tt.shown {
				t.Errorf("detail %q", f.Detail)
			}
		})
	}
}

// fakeOIDC is an OpenID provider connector that sends the browser to a
// fixed URL and refuses every callback that carries error=.
type fakeOIDC struct{}

func (fakeOIDC) AuthCodeURL(_ context.Context, state, _, _ string) (string, error) {
	return "https://idp.example.com/auth?state=" + state, nil
}

func (fakeOIDC) Exchange(_ context.Context, q url.Values, _, _ string) (access.Identity, access.IdPSession, error) {
	if e := q.Get("error"); e != "" {
		return access.Identity{}, access.IdPSession{}, fmt.Errorf("fake: %s: %w", e, access.ErrAccessDenied)
	}
	return access.Identity{}, access.IdPSession{}, access.ErrInvalidToken
}

func (fakeOIDC) VerifyLogoutToken(context.Context, string) (access.LogoutClaims, error) {
	return access.LogoutClaims{}, access.ErrInvalidToken
}

func (fakeOIDC) EndSessionURL(context.Context, string, string, string) (string, error) {
	return "", nil
}

func TestSignInAgainReturnsToTheApp(t *testing.T) {
	hs := newHarness(t, Provider{ID: "sso", Name: "Company SSO", Kind: KindOIDC, OIDC: fakeOIDC{}})
	opsLogin := access.PathLogin + "ops.example.com?"
	start := hs.do("GET", access.PathIdPStart+"sso?host=ops.example.com&redirect_url=%2Freports&app_session="+appSession, nil)
	if start.Code != http.StatusFound {
		t.Fatalf("start: %d\n%s", start.Code, start.Body)
	}
	back, signIn := cookie(start, access.CookieSignInReturn), cookie(start, access.CookieSignIn)
	if back == nil || signIn == nil || !back.HttpOnly || back.Path != access.PathPrefix {
		t.Fatalf("start set return %+v, sign-in %+v", back, signIn)
	}
	loc, _ := url.Parse(start.Header().Get("Location"))
	state := loc.Query().Get("state")

	t.Run("provider error: words, code in the detail line, back to the app", func(t *testing.T) {
		w := hs.do("GET", access.PathCallback+"?error=access_denied&state="+state, nil, back, signIn)
		body := w.Body.String()
		if w.Code != http.StatusUnauthorized || !strings.Contains(body, "Sign-in cancelled") ||
			!strings.Contains(body, "Company SSO did not sign you in. The sign-in was cancelled") ||
			!strings.Contains(body, `<p class="muted detail">Code from the identity provider: access_denied · Error 401</p>`) {
			t.Fatalf("%d\n%s", w.Code, body)
		}
		if !strings.Contains(body, `href="`+opsLogin) || !strings.Contains(body, "Sign in again") {
			t.Errorf("sign in again does not go back to ops:\n%s", body)
		}
	})

	forged := func(target string) *http.Cookie {
		return &http.Cookie{Name: access.CookieSignInReturn, Value: base64.RawURLEncoding.EncodeToString([]byte(target))}
	}
	for _, tt := range []struct {
		name   string
		cookie *http.Cookie
		want   string
	}{
		{"lost state returns to the app's sign-in", back, `href="` + opsLogin},
		{"no cookie: the launcher", nil, `href="/"`},
		{"another origin: the launcher", forged("https://evil.example.com/cdn-cgi/access/login/x"), `href="/"`},
		{"protocol-relative: the launcher", forged("//evil.example.com/cdn-cgi/access/login/x"), `href="/"`},
		{"not a sign-in page: the launcher", forged("/admin"), `href="/"`},
		{"not base64: the launcher", &http.Cookie{Name: access.CookieSignInReturn, Value: "%%%"}, `href="/"`},
		{"a host no app is on: the launcher", forged(access.PathLogin + "evil.example.com?redirect_url=%2F"), `href="/"`},
		{"a port the app does not name: the launcher", forged(access.PathLogin + "ops.example.com:4444?redirect_url=%2F"), `href="/"`},
		{"an encoded protocol-relative host: the launcher", forged(access.PathLogin + "%2F%2Fevil.example.com"), `href="/"`},
		{"a host with userinfo: the launcher", forged(access.PathLogin + "ops.example.com%40evil.example.com"), `href="/"`},
		{"dot segments out of the sign-in pages: the launcher", forged(access.PathLogin + "ops.example.com/../../../admin"), `href="/"`},
		{"https: without slashes: the launcher", forged("https:evil.example.com" + access.PathLogin), `href="/"`},
		{"backslash: the launcher", forged("/\\evil.example.com" + access.PathLogin), `href="/"`},
		{"javascript: the launcher", forged("javascript:alert(1)//" + access.PathLogin), `href="/"`},
		{"CRLF: the launcher", forged(access.PathLogin + "ops.example.com\r\nSet-Cookie: x=1"), `href="/"`},
		{"the team domain's own sign-in is kept", forged(access.PathLogin + testTeam + "?redirect_url=%2F"), `href="` + access.PathLogin + testTeam + "?"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cs []*http.Cookie
			if tt.cookie != nil {
				cs = append(cs, tt.cookie)
			}
			w := hs.do("GET", access.PathCallback+"?code=x&state="+strings.Repeat("ab", 32), nil, cs...)
			if body := w.Body.String(); w.Code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
				t.Errorf("%d, want a link %s:\n%s", w.Code, tt.want, body)
			}
		})
	}
}

// TestSignInReturnCookieTossing: a CF_SignIn_Return planted beside the
// team domain's own (Domain=parent, from a sibling subdomain) is not
// believed, whichever comes first, and every copy is cleared.
func TestSignInReturnCookieTossing(t *testing.T) {
	hs := newHarness(t, Provider{ID: "sso", Name: "Company SSO", Kind: KindOIDC, OIDC: fakeOIDC{}})
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	own := access.CookieSignInReturn + "=" + enc(access.PathLogin+"ops.example.com?redirect_url=%2Freports")
	tossed := access.CookieSignInReturn + "=" + enc(access.PathLogin+demoHost+"?redirect_url=%2Fattacker")
	for _, order := range [][2]string{{tossed, own}, {own, tossed}} {
		r := hs.request("GET", access.PathCallback+"?code=x&state="+strings.Repeat("ab", 32), nil)
		r.Header.Set("Cookie", order[0]+"; "+order[1])
		w := hs.serve(r)
		body := w.Body.String()
		if w.Code != http.StatusBadRequest || !strings.Contains(body, `href="/"`) || strings.Contains(body, "attacker") || strings.Contains(body, "reports") {
			t.Errorf("%q: %d\n%s", order, w.Code, body)
		}
		cleared := 0
		for _, c := range w.Result().Cookies() {
			if c.Name == access.CookieSignInReturn && c.MaxAge < 0 {
				cleared++
				if c.Domain == "" && c.Path == access.PathPrefix {
					cleared += 100
				}
			}
		}
		if cleared < 100+2 {
			t.Errorf("%q: %d cookies cleared, want the own one and the parent domain's", order, cleared)
		}
	}
}

func TestSignedOutSignInAgain(t *testing.T) {
	hs := newHarness(t)
	for _, tt := range []struct {
		host, want string
	}{
		{"ops.example.com", `href="https://ops.example.com/"`},
		{"wiki.example.com", `href="https://wiki.example.com/docs"`},
		{"team.wiki.example.com", `href="https://team.wiki.example.com/docs"`},
		{"evil.example.com", `href="/"`},
		{"ops.example.com:4444", `href="/"`}, // a port the app does not name
		{"ops.example.com/@evil.example.com", `href="/"`},
		{testTeam, `href="/"`},
		{"", `href="/"`},
	} {
		t.Run(tt.host, func(t *testing.T) {
			w := hs.do("GET", access.PathLogout+"?host="+url.QueryEscape(tt.host), nil)
			if body := w.Body.String(); w.Code != http.StatusOK || !strings.Contains(body, tt.want+">Sign in again</a>") {
				t.Errorf("%d, want %s:\n%s", w.Code, tt.want, body)
			}
		})
	}
}

func TestWaitText(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{time.Second, "1 second"},
		{30 * time.Second, "30 seconds"},
		{55 * time.Second, "a minute"},
		{90 * time.Second, "2 minutes"},
	} {
		if got := waitText(tt.d); got != tt.want {
			t.Errorf("waitText(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
