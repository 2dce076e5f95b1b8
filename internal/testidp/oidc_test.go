package testidp

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// testRP is a minimal OIDC relying party: authorization code flow with PKCE
// and a nonce; its callback verifies the ID token, fetches userinfo and
// answers with both claim sets as JSON.
type testRP struct {
	provider *oidc.Provider
	conf     oauth2.Config
	mu       sync.Mutex
	pending  map[string]rpFlow // by state
}

type rpFlow struct{ verifier, nonce string }

// rpResult is what the test RP's callback answers.
type rpResult struct {
	IDToken  map[string]any `json:"id_token"`
	UserInfo map[string]any `json:"userinfo"`
}

// listenRP binds the test RP's listener on a free port, so that its
// redirect URI is known before the provider starts.
func listenRP(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("rp listen: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// rpCallback is the redirect URI of the test RP serving on ln.
func rpCallback(ln net.Listener) string { return "http://" + ln.Addr().String() + "/callback" }

// startTestRP serves the test RP of op on ln.
func startTestRP(t *testing.T, op *OIDC, ln net.Listener) *testRP {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, op.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	rp := &testRP{
		provider: provider,
		conf: oauth2.Config{
			ClientID:     op.ClientID,
			ClientSecret: op.ClientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  rpCallback(ln),
			Scopes:       []string{oidc.ScopeOpenID, "email", "profile", "groups"},
		},
		pending: map[string]rpFlow{},
	}
	srv := &http.Server{Handler: http.HandlerFunc(rp.callback), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return rp
}

// authURL starts a flow and returns the authorization URL.
func (rp *testRP) authURL(state string) string {
	f := rpFlow{verifier: oauth2.GenerateVerifier(), nonce: "nonce-" + state}
	rp.mu.Lock()
	rp.pending[state] = f
	rp.mu.Unlock()
	return rp.conf.AuthCodeURL(state, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier))
}

func (rp *testRP) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rp.mu.Lock()
	f, ok := rp.pending[q.Get("state")]
	delete(rp.pending, q.Get("state"))
	rp.mu.Unlock()
	if !ok {
		http.Error(w, "unknown state", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	tok, err := rp.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&oidc.Config{ClientID: rp.conf.ClientID}).Verify(ctx, raw)
	if err != nil {
		http.Error(w, "verify: "+err.Error(), http.StatusBadGateway)
		return
	}
	if idt.Nonce != f.nonce {
		http.Error(w, "nonce mismatch", http.StatusBadGateway)
		return
	}
	var res rpResult
	if err := idt.Claims(&res.IDToken); err != nil {
		http.Error(w, "claims: "+err.Error(), http.StatusBadGateway)
		return
	}
	ui, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		http.Error(w, "userinfo: "+err.Error(), http.StatusBadGateway)
		return
	}
	if err := ui.Claims(&res.UserInfo); err != nil {
		http.Error(w, "userinfo claims: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// signIn runs one login through the provider as user and returns the RP's
// verified claims.
func signIn(t *testing.T, op *OIDC, rp *testRP, user string) rpResult {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 15 * time.Second}
	resp, err := c.Get(rp.authURL(user + "-state"))
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	if !strings.HasPrefix(resp.Request.URL.String(), op.Issuer+"/interaction/") {
		t.Fatalf("authorize landed on %s, want the interaction page", resp.Request.URL)
	}
	final := op.Login(t, c, resp, user)
	defer final.Body.Close()
	body, _ := io.ReadAll(final.Body)
	if final.StatusCode != http.StatusOK || final.Request.URL.Path != "/callback" {
		t.Fatalf("login ended at %s with %s: %s", final.Request.URL, final.Status, body)
	}
	var res rpResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("decode rp result %q: %v", body, err)
	}
	return res
}

func groupsOf(claims map[string]any) []string {
	raw, _ := claims["groups"].([]any)
	var out []string
	for _, g := range raw {
		s, _ := g.(string)
		out = append(out, s)
	}
	return out
}

func TestOIDCLogin(t *testing.T) {
	tests := []struct {
		name             string
		opts             []OIDCOption
		user             string
		wantEmail        string
		wantVerified     bool
		wantGroups       []string
		wantIDTokenGroup bool
	}{
		{name: "alice groups in id token", user: "alice",
			wantEmail: "alice@example.com", wantVerified: true, wantGroups: []string{"admins", "devs"}, wantIDTokenGroup: true},
		{name: "alice groups only in userinfo", opts: []OIDCOption{WithUserinfoOnlyGroups()}, user: "alice",
			wantEmail: "alice@example.com", wantVerified: true, wantGroups: []string{"admins", "devs"}, wantIDTokenGroup: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := listenRP(t)
			op := StartOIDC(t, 0, []string{rpCallback(ln)}, tt.opts...)
			rp := startTestRP(t, op, ln)
			res := signIn(t, op, rp, tt.user)

			if got := res.IDToken["sub"]; got != tt.user {
				t.Errorf("id token sub = %v, want %s", got, tt.user)
			}
			if got := res.IDToken["email"]; got != tt.wantEmail {
				t.Errorf("id token email = %v, want %s", got, tt.wantEmail)
			}
			if got := res.IDToken["email_verified"]; got != tt.wantVerified {
				t.Errorf("id token email_verified = %v, want %v", got, tt.wantVerified)
			}
			if got := groupsOf(res.UserInfo); !slices.Equal(got, tt.wantGroups) {
				t.Errorf("userinfo groups = %v, want %v", got, tt.wantGroups)
			}
			_, inIDToken := res.IDToken["groups"]
			if inIDToken != tt.wantIDTokenGroup {
				t.Errorf("groups in id token = %v (%v), want %v", inIDToken, res.IDToken["groups"], tt.wantIDTokenGroup)
			}
			if inIDToken {
				if got := groupsOf(res.IDToken); !slices.Equal(got, tt.wantGroups) {
					t.Errorf("id token groups = %v, want %v", got, tt.wantGroups)
				}
			}
		})
	}
}

func TestOIDCUsers(t *testing.T) {
	ln := listenRP(t)
	op := StartOIDC(t, 0, []string{rpCallback(ln)}, WithClient("other", "other-secret"))
	rp := startTestRP(t, op, ln)
	tests := []struct {
		name         string
		user         string
		wantEmail    string
		wantVerified bool
		wantGroups   []string
	}{
		{name: "bob", user: "bob", wantEmail: "bob@example.com", wantVerified: true, wantGroups: []string{"devs"}},
		{name: "eve unverified without groups", user: "eve", wantEmail: "eve@example.com", wantVerified: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := signIn(t, op, rp, tt.user)
			if got := res.IDToken["aud"]; got != "other" {
				t.Errorf("aud = %v, want other", got)
			}
			if got := res.IDToken["email"]; got != tt.wantEmail {
				t.Errorf("email = %v, want %s", got, tt.wantEmail)
			}
			if got := res.IDToken["email_verified"]; got != tt.wantVerified {
				t.Errorf("email_verified = %v, want %v", got, tt.wantVerified)
			}
			if got := groupsOf(res.IDToken); !slices.Equal(got, tt.wantGroups) {
				t.Errorf("groups = %v, want %v", got, tt.wantGroups)
			}
		})
	}

	t.Run("unknown user is refused", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 15 * time.Second}
		resp, err := c.Get(rp.authURL("mallory-state"))
		if err != nil {
			t.Fatalf("authorize: %v", err)
		}
		final := op.Login(t, c, resp, "mallory")
		defer final.Body.Close()
		if final.Request.URL.Path == "/callback" || final.StatusCode != http.StatusInternalServerError {
			t.Errorf("unknown user ended at %s (%s), want the provider's error page", final.Request.URL, final.Status)
		}
	})
}
