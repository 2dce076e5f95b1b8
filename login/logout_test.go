package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/limit"
	"github.com/gatehouse-dev/gatehouse/token"
)

// logoutOIDC is an OIDCConnector whose logout answers are set by the test.
type logoutOIDC struct {
	logout    access.LogoutClaims
	logoutErr error
	endURL    string // "" : the provider has no end_session_endpoint

	id   access.Identity   // what Exchange establishes
	idps access.IdPSession // and the provider session it reports

	mu        sync.Mutex
	gotHint   string
	gotPost   string
	gotState  string
	authState string // the state of the last AuthCodeURL
}

func (f *logoutOIDC) AuthCodeURL(_ context.Context, state, _, _ string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authState = state
	return "https://idp.example.com/auth?state=" + state, nil
}

func (f *logoutOIDC) Exchange(context.Context, url.Values, string, string) (access.Identity, access.IdPSession, error) {
	if f.id.Email == "" {
		return access.Identity{}, access.IdPSession{}, fmt.Errorf("no identity: %w", access.ErrInvalidToken)
	}
	return f.id, f.idps, nil
}

func (f *logoutOIDC) VerifyLogoutToken(_ context.Context, raw string) (access.LogoutClaims, error) {
	if raw != "good" {
		return access.LogoutClaims{}, fmt.Errorf("bad token: %w", access.ErrInvalidToken)
	}
	return f.logout, f.logoutErr
}

func (f *logoutOIDC) EndSessionURL(_ context.Context, hint, post, state string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gotHint, f.gotPost, f.gotState = hint, post, state
	if f.endURL == "" {
		return "", nil
	}
	return f.endURL + "?state=" + url.QueryEscape(state), nil
}

// memIdPSessions is an in-memory IdPSessionStore over a memStore.
type memIdPSessions struct {
	store *memStore
	mu    sync.Mutex
	idps  map[string]access.IdPSession // by nonce
	fail  error                        // SaveIdPSession's answer when set
}

func (m *memIdPSessions) SaveIdPSession(_ context.Context, nonce string, s access.IdPSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.idps[nonce] = s
	return nil
}

func (m *memIdPSessions) IdPSession(_ context.Context, nonce string) (access.IdPSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.idps[nonce]
	if !ok {
		return access.IdPSession{}, errors.New("not found")
	}
	return s, nil
}

func (m *memIdPSessions) IdPSessions(ctx context.Context, idp, sid, sub string, now time.Time) ([]access.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []access.Session
	for nonce, s := range m.idps {
		if s.IdP != idp || (sid != "" && s.SID != sid) || (sid == "" && s.Subject != sub) || m.store.SessionRevoked(nonce) {
			continue
		}
		sess, err := m.store.Session(ctx, nonce)
		if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	return out, nil
}

// logoutHarness is a team domain with the OIDC provider "corp" (fake
// connector f) that logs out through Gatehouse.
func logoutHarness(t *testing.T, f *logoutOIDC, backchannel Limiter) (*harness, *memIdPSessions) {
	t.Helper()
	var ids *memIdPSessions
	hs := newHarnessWith(t, func(o *Options) {
		ids = &memIdPSessions{store: o.Store.(*memStore), idps: map[string]access.IdPSession{}}
		o.IdPSessions = ids
		o.Limits.Backchannel = backchannel
	}, Provider{ID: "corp", Name: "Corp SSO", Kind: KindOIDC, OIDC: f, BackchannelLogout: true, LogoutAtIdP: true},
		Provider{ID: "plain", Name: "Plain SSO", Kind: KindOIDC, OIDC: f},
		Provider{ID: "bc", Name: "Back-channel SSO", Kind: KindOIDC, OIDC: f, BackchannelLogout: true})
	return hs, ids
}

// corpSession stores a global session of email from corp with the
// provider session sid and returns its cookie and nonce.
func corpSession(t *testing.T, hs *harness, ids *memIdPSessions, email, sid string) (*http.Cookie, string) {
	t.Helper()
	s := access.Session{
		Nonce:     token.NewNonce(),
		Identity:  access.Identity{UserID: "user-" + email, Email: email, IdP: access.IdP{ID: "corp", Type: "oidc"}, IssuedAt: testNow.Unix()},
		CreatedAt: testNow,
		ExpiresAt: testNow.Add(time.Hour),
	}
	if err := hs.store.CreateSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	_ = ids.SaveIdPSession(context.Background(), s.Nonce, access.IdPSession{IdP: "corp", Subject: "sub-" + email, SID: sid, IDToken: "idtoken-" + email})
	raw, err := hs.keys.Sign(token.OrgClaims(s, token.TeamAudience(testTeam), testNow))
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: access.CookieAuthorization, Value: raw}, s.Nonce
}

// oidcSignIn signs in with provider id through its fake connector and
// returns the callback's response.
func oidcSignIn(t *testing.T, hs *harness, f *logoutOIDC, id string) *httptest.ResponseRecorder {
	t.Helper()
	w := hs.do("GET", access.PathIdPStart+id+"?"+demoFlow("/x").Encode(), nil)
	if w.Code != http.StatusFound {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	bind := cookie(w, access.CookieSignIn)
	if bind == nil {
		t.Fatal("no browser binding cookie")
	}
	return hs.do("GET", access.PathCallback+"?code=c&state="+f.authState, nil, bind)
}

func TestOIDCSignInRecordsProviderSession(t *testing.T) {
	f := &logoutOIDC{id: access.Identity{Email: "ann@example.com"},
		idps: access.IdPSession{Subject: "sub-ann", SID: "sid-9", IDToken: "raw-id-token"}}
	hs, ids := logoutHarness(t, f, nil)
	nonceOf := func(w *httptest.ResponseRecorder) string {
		t.Helper()
		c := cookie(w, access.CookieAuthorization)
		if c == nil {
			t.Fatalf("no session cookie: %d %s", w.Code, w.Body)
		}
		claims, err := hs.keys.Verify(c.Value, token.TeamAudience(testTeam), token.TypeOrg, testNow)
		if err != nil {
			t.Fatal(err)
		}
		return claims.IdentityNonce
	}

	t.Run("a provider that logs out through Gatehouse", func(t *testing.T) {
		w := oidcSignIn(t, hs, f, "corp")
		if w.Code != http.StatusFound {
			t.Fatalf("callback: %d %s", w.Code, w.Body)
		}
		got, err := ids.IdPSession(context.Background(), nonceOf(w))
		if err != nil || got != (access.IdPSession{IdP: "corp", Subject: "sub-ann", SID: "sid-9", IDToken: "raw-id-token"}) {
			t.Errorf("recorded %+v, %v", got, err)
		}
	})
	t.Run("back-channel logout alone keeps no ID token", func(t *testing.T) {
		w := oidcSignIn(t, hs, f, "bc")
		got, err := ids.IdPSession(context.Background(), nonceOf(w))
		if err != nil || got != (access.IdPSession{IdP: "bc", Subject: "sub-ann", SID: "sid-9"}) {
			t.Errorf("recorded %+v, %v", got, err)
		}
	})
	t.Run("a provider that does not", func(t *testing.T) {
		w := oidcSignIn(t, hs, f, "plain")
		if _, err := ids.IdPSession(context.Background(), nonceOf(w)); err == nil {
			t.Error("a provider session was recorded for a provider without logout")
		}
	})
	t.Run("a session whose provider session cannot be recorded is ended", func(t *testing.T) {
		ids.fail = errors.New("disk full")
		defer func() { ids.fail = nil }()
		w := oidcSignIn(t, hs, f, "corp")
		if w.Code != http.StatusInternalServerError {
			t.Errorf("callback: %d, want 500", w.Code)
		}
		if nonce := nonceOf(w); !hs.store.SessionRevoked(nonce) {
			t.Error("the session lives on without its provider session")
		}
	})
}

func TestBackchannelLogout(t *testing.T) {
	f := &logoutOIDC{logout: access.LogoutClaims{IdP: "corp", Subject: "sub-ann@example.com", SID: "sid-1", JTI: "j1"}}
	hs, ids := logoutHarness(t, f, nil)
	_, ann := corpSession(t, hs, ids, "ann@example.com", "sid-1")
	_, other := corpSession(t, hs, ids, "ann@example.com", "sid-2")
	path := access.BackchannelLogoutPath("corp")

	w := hs.do("POST", path, url.Values{"logout_token": {"good"}})
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" || w.Body.Len() != 0 {
		t.Fatalf("valid token: %d, Cache-Control %q, body %q", w.Code, w.Header().Get("Cache-Control"), w.Body)
	}
	if !hs.store.SessionRevoked(ann) || hs.store.revokedBy[ann] != "idp:corp" {
		t.Errorf("session of sid-1: revoked %v by %q", hs.store.SessionRevoked(ann), hs.store.revokedBy[ann])
	}
	if hs.store.SessionRevoked(other) {
		t.Error("the session of another sid was revoked")
	}
	var ev access.Event
	for _, e := range hs.store.events {
		if e.Kind == access.EventRevoked {
			ev = e
		}
	}
	if ev.Email != "ann@example.com" || ev.IdP != "corp" || !strings.Contains(ev.Detail, "Corp SSO") {
		t.Errorf("audit event = %+v", ev)
	}

	tests := []struct {
		name       string
		path       string
		form       url.Values
		ctype      string
		connErr    error
		wantStatus int
	}{
		{name: "invalid token", path: path, form: url.Values{"logout_token": {"bad"}}, wantStatus: http.StatusBadRequest},
		{name: "no token", path: path, form: url.Values{"x": {"1"}}, wantStatus: http.StatusBadRequest},
		{name: "two tokens", path: path, form: url.Values{"logout_token": {"good", "good"}}, wantStatus: http.StatusBadRequest},
		{name: "not form encoded", path: path, form: url.Values{"logout_token": {"good"}}, ctype: "text/plain", wantStatus: http.StatusBadRequest},
		{name: "provider unreachable", path: path, form: url.Values{"logout_token": {"good"}}, connErr: fmt.Errorf("down: %w", access.ErrUnreachable), wantStatus: http.StatusServiceUnavailable},
		{name: "provider without back-channel logout", path: access.BackchannelLogoutPath("plain"), form: url.Values{"logout_token": {"good"}}, wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.logoutErr = tt.connErr
			defer func() { f.logoutErr = nil }()
			r := hs.request("POST", tt.path, tt.form)
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			w := hs.serve(r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantStatus == http.StatusNotFound {
				return
			}
			var e struct {
				Error  string `json:"error"`
				Status int    `json:"status"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Status != tt.wantStatus || e.Error == "" {
				t.Errorf("body %q is not the JSON error shape", w.Body)
			}
		})
	}
}

func TestBackchannelLogoutRateLimited(t *testing.T) {
	f := &logoutOIDC{logout: access.LogoutClaims{IdP: "corp", Subject: "nobody", JTI: "j"}}
	hs, _ := logoutHarness(t, f, limit.New(2, time.Minute))
	path := access.BackchannelLogoutPath("corp")
	for i := range 2 {
		if w := hs.do("POST", path, url.Values{"logout_token": {"bad"}}); w.Code != http.StatusBadRequest {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := hs.do("POST", path, url.Values{"logout_token": {"good"}})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"status":429`) {
		t.Errorf("past the limit: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if k := hs.store.eventKinds(); k[len(k)-1] != access.EventRateLimited {
		t.Errorf("events = %v", k)
	}
}

func TestLogoutAtIdP(t *testing.T) {
	f := &logoutOIDC{endURL: "https://idp.example.com/logout"}
	hs, ids := logoutHarness(t, f, nil)

	t.Run("signing out goes on to the provider and back to the chosen sign-in page", func(t *testing.T) {
		c, nonce := corpSession(t, hs, ids, "ann@example.com", "s1")
		back := loginURL(demoHost, "/x")
		w := hs.do("GET", access.PathLogout+"?redirect_url="+url.QueryEscape(back), nil, c)
		loc := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, f.endURL+"?state=") {
			t.Fatalf("sign-out: %d to %q", w.Code, loc)
		}
		if !hs.store.SessionRevoked(nonce) {
			t.Error("the global session lives on")
		}
		if f.gotHint != "idtoken-ann@example.com" || f.gotPost != testTeamURL+access.PathSignedOut || len(f.gotState) != 64 {
			t.Errorf("end session with hint %q, post-logout %q, state %q", f.gotHint, f.gotPost, f.gotState)
		}
		if kept, _ := ids.IdPSession(context.Background(), nonce); kept.IDToken != "" || kept.SID != "s1" {
			t.Errorf("after sign-out the store keeps %+v, want the ID token forgotten", kept)
		}
		w = hs.do("GET", access.PathSignedOut+"?state="+f.gotState, nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != back {
			t.Errorf("back from the provider: %d to %q, want %q", w.Code, w.Header().Get("Location"), back)
		}
		w = hs.do("GET", access.PathSignedOut+"?state="+f.gotState, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "You are signed out") || strings.Contains(w.Body.String(), "also signed out") {
			t.Errorf("a used state: %d\n%s", w.Code, w.Body)
		}
	})
	t.Run("the signed-out page names the provider", func(t *testing.T) {
		c, _ := corpSession(t, hs, ids, "ann@example.com", "s2")
		hs.do("GET", access.PathLogout, nil, c)
		w := hs.do("GET", access.PathSignedOut+"?state="+f.gotState, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "You are also signed out of Corp SSO") {
			t.Errorf("%d\n%s", w.Code, w.Body)
		}
	})
	t.Run("after a protected host's sign-out, sign in again goes back to its app", func(t *testing.T) {
		c, _ := corpSession(t, hs, ids, "ann@example.com", "s6")
		if w := hs.do("GET", access.PathLogout+"?host="+demoHost, nil, c); w.Code != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", w.Code)
		}
		w := hs.do("GET", access.PathSignedOut+"?state="+f.gotState, nil)
		if body := w.Body.String(); w.Code != http.StatusOK || !strings.Contains(body, `href="https://`+demoHost) {
			t.Errorf("%d\n%s", w.Code, body)
		}
	})
	t.Run("a session a protected host already revoked still signs out at the provider", func(t *testing.T) {
		c, nonce := corpSession(t, hs, ids, "ann@example.com", "s3")
		_ = hs.store.RevokeSession(context.Background(), nonce, "", testNow)
		w := hs.do("GET", access.PathLogout, nil, c)
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), f.endURL) {
			t.Errorf("%d to %q", w.Code, w.Header().Get("Location"))
		}
	})
	t.Run("a redirect_url off the sign-in pages is ignored", func(t *testing.T) {
		c, _ := corpSession(t, hs, ids, "ann@example.com", "s4")
		hs.do("GET", access.PathLogout+"?redirect_url="+url.QueryEscape("//evil.example/"), nil, c)
		w := hs.do("GET", access.PathSignedOut+"?state="+f.gotState, nil)
		if w.Code != http.StatusOK {
			t.Errorf("%d to %q", w.Code, w.Header().Get("Location"))
		}
	})
	t.Run("without an end_session_endpoint the sign-out stays local", func(t *testing.T) {
		f.endURL = ""
		defer func() { f.endURL = "https://idp.example.com/logout" }()
		c, nonce := corpSession(t, hs, ids, "ann@example.com", "s5")
		w := hs.do("GET", access.PathLogout, nil, c)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "You are signed out") || !hs.store.SessionRevoked(nonce) {
			t.Errorf("%d to %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
		}
	})
	t.Run("a PIN session signs out locally", func(t *testing.T) {
		c, _ := hs.orgCookie("ann@example.com")
		if w := hs.do("GET", access.PathLogout, nil, c); w.Code != http.StatusOK {
			t.Errorf("%d to %q", w.Code, w.Header().Get("Location"))
		}
	})
}

// request is a form request to the team domain, as do sends it.
func (hs *harness) request(method, target string, form url.Values) *http.Request {
	r := httptest.NewRequest(method, "https://"+testTeam+target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// serve serves r.
func (hs *harness) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, r)
	return w
}
