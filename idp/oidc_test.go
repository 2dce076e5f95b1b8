package idp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fakeOP is a minimal OpenID provider: discovery, JWKS, a token endpoint
// that answers every code with an ID token holding claims, and userinfo.
type fakeOP struct {
	srv *httptest.Server
	key *rsa.PrivateKey

	mu           sync.Mutex
	noEndSession bool           // leave end_session_endpoint out of discovery
	claims       map[string]any // ID token claims beyond iss, aud, exp, iat
	userinfo     map[string]any
	verifier     string          // the PKCE verifier of the last token request
	jwksHits     int             // requests of the key set
	rotated      *rsa.PrivateKey // a second key, published as k2 when set
}

func startFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{key: key}
	mux := http.NewServeMux()
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	iss := op.srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		doc := map[string]any{
			"issuer":                                iss,
			"authorization_endpoint":                iss + "/auth",
			"token_endpoint":                        iss + "/token",
			"jwks_uri":                              iss + "/jwks",
			"userinfo_endpoint":                     iss + "/userinfo",
			"end_session_endpoint":                  iss + "/session/end?ui=1",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		}
		op.mu.Lock()
		if op.noEndSession {
			delete(doc, "end_session_endpoint")
		}
		op.mu.Unlock()
		writeJSON(w, doc)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		op.mu.Lock()
		op.jwksHits++
		keys := []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}
		if op.rotated != nil {
			keys = append(keys, jose.JSONWebKey{Key: &op.rotated.PublicKey, KeyID: "k2", Algorithm: "RS256", Use: "sig"})
		}
		op.mu.Unlock()
		writeJSON(w, jose.JSONWebKeySet{Keys: keys})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		op.mu.Lock()
		op.verifier = r.PostForm.Get("code_verifier")
		claims := map[string]any{"iss": iss, "aud": "gatehouse", "sub": "u1",
			"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()}
		maps.Copy(claims, op.claims)
		op.mu.Unlock()
		writeJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": op.sign(t, claims)})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		op.mu.Lock()
		defer op.mu.Unlock()
		writeJSON(w, op.userinfo)
	})
	return op
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// sign returns claims as an RS256 JWT.
func (op *fakeOP) sign(t *testing.T, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: op.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	if err != nil {
		t.Error(err)
		return ""
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Error(err)
		return ""
	}
	s, _ := jws.CompactSerialize()
	return s
}

func (op *fakeOP) set(claims, userinfo map[string]any) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.claims, op.userinfo = claims, userinfo
}

func newTestOIDC(t *testing.T, op *fakeOP, mod func(*OIDCConfig)) *OIDC {
	t.Helper()
	cfg := OIDCConfig{ID: "corp", Issuer: op.srv.URL, ClientID: "gatehouse", ClientSecret: "s3cret",
		RedirectURL: "https://auth.example.com/cdn-cgi/access/callback"}
	if mod != nil {
		mod(&cfg)
	}
	o, err := NewOIDC(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOIDCAuthCodeURL(t *testing.T) {
	op := startFakeOP(t)
	o := newTestOIDC(t, op, nil)
	raw, err := o.AuthCodeURL(context.Background(), "st", "nn", NewVerifier())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	want := map[string]string{"state": "st", "nonce": "nn", "client_id": "gatehouse", "response_type": "code",
		"code_challenge_method": "S256", "redirect_uri": "https://auth.example.com/cdn-cgi/access/callback"}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Get("code_challenge") == "" || !strings.HasPrefix(raw, op.srv.URL+"/auth?") {
		t.Errorf("auth URL %s", raw)
	}
	if s := q.Get("scope"); s != "openid email profile" {
		t.Errorf("scope = %q", s)
	}
}

func TestOIDCExchange(t *testing.T) {
	op := startFakeOP(t)
	base := map[string]any{"nonce": "n1", "email": "Alice@Example.com", "email_verified": true,
		"name": "Alice", "groups": []string{"admins", "devs"}, "dept": "eng"}
	with := func(extra map[string]any) map[string]any {
		m := maps.Clone(base)
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name     string
		cfg      func(*OIDCConfig)
		claims   map[string]any
		userinfo map[string]any
		query    url.Values
		want     Identity
		wantErr  error
	}{
		{name: "claims mapped, extra claims to custom", cfg: func(c *OIDCConfig) { c.Claims = []string{"dept", "absent"} },
			claims: base, want: Identity{Email: "alice@example.com", Name: "Alice", Groups: []string{"admins", "devs"}, Custom: map[string]any{"dept": "eng"}}},
		{name: "configured claim names (Entra style)",
			cfg:    func(c *OIDCConfig) { c.EmailClaim, c.NameClaim, c.GroupsClaim = "upn", "preferred_username", "roles" },
			claims: with(map[string]any{"upn": "bob@corp.example", "preferred_username": "bob", "roles": "ops"}),
			want:   Identity{Email: "bob@corp.example", Name: "bob", Groups: []string{"ops"}}},
		{name: "no email_verified claim accepted", claims: with(map[string]any{"email_verified": nil, "groups": nil}),
			want: Identity{Email: "alice@example.com", Name: "Alice"}},
		{name: "email_verified as the string true", claims: with(map[string]any{"email_verified": "true", "groups": nil}),
			want: Identity{Email: "alice@example.com", Name: "Alice"}},
		{name: "unverified email refused", claims: with(map[string]any{"email_verified": false}), wantErr: ErrUnverifiedEmail},
		{name: "unverified email allowed by the operator", cfg: func(c *OIDCConfig) { c.AllowUnverifiedEmail = true },
			claims: with(map[string]any{"email_verified": false, "groups": nil}), want: Identity{Email: "alice@example.com", Name: "Alice"}},
		{name: "no email", claims: with(map[string]any{"email": nil}), wantErr: ErrNoEmail},
		{name: "nonce mismatch", claims: with(map[string]any{"nonce": "other"}), wantErr: ErrNonceMismatch},
		{name: "no nonce", claims: with(map[string]any{"nonce": nil}), wantErr: ErrNonceMismatch},
		{name: "iss mismatch (RFC 9207)", claims: base, query: url.Values{"code": {"c"}, "iss": {"https://evil.example"}}, wantErr: ErrIssuerMismatch},
		{name: "matching iss accepted", claims: with(map[string]any{"groups": nil}), query: url.Values{"code": {"c"}, "iss": {"SELF"}},
			want: Identity{Email: "alice@example.com", Name: "Alice"}},
		{name: "provider error", claims: base, query: url.Values{"error": {"access_denied"}}, wantErr: ErrAccessDenied},
		{name: "no code", claims: base, query: url.Values{"state": {"x"}}, wantErr: ErrInvalidToken},
		{name: "id token for another client", claims: with(map[string]any{"aud": "someone-else"}), wantErr: ErrInvalidToken},
		{name: "id token from another issuer", claims: with(map[string]any{"iss": "https://evil.example"}), wantErr: ErrInvalidToken},
		{name: "expired id token", claims: with(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}), wantErr: ErrInvalidToken},
		{name: "userinfo merged", cfg: func(c *OIDCConfig) { c.Userinfo = true },
			claims:   with(map[string]any{"groups": nil}),
			userinfo: map[string]any{"sub": "u1", "groups": []string{"from-userinfo"}, "nonce": "ignored"},
			want:     Identity{Email: "alice@example.com", Name: "Alice", Groups: []string{"from-userinfo"}}},
		{name: "userinfo of another subject refused", cfg: func(c *OIDCConfig) { c.Userinfo = true },
			claims: base, userinfo: map[string]any{"sub": "u2", "email": "mallory@example.com"}, wantErr: ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOIDC(t, op, tt.cfg)
			op.set(tt.claims, tt.userinfo)
			q := tt.query
			if q == nil {
				q = url.Values{"code": {"c"}, "state": {"s"}}
			}
			if q.Get("iss") == "SELF" {
				q.Set("iss", op.srv.URL)
			}
			verifier := NewVerifier()
			id, sess, err := o.Exchange(context.Background(), q, verifier, "n1")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error leaks the client secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(id, tt.want) {
				t.Errorf("identity = %+v, want %+v", id, tt.want)
			}
			if sess.IdP != "corp" || sess.Subject != "u1" || sess.IDToken == "" {
				t.Errorf("idp session = %+v", sess)
			}
			op.mu.Lock()
			got := op.verifier
			op.mu.Unlock()
			if got != verifier {
				t.Errorf("token request verifier %q, want %q", got, verifier)
			}
		})
	}
}

func TestOIDCUnreachableThenDiscovered(t *testing.T) {
	op := startFakeOP(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	o := newTestOIDC(t, op, func(c *OIDCConfig) { c.Issuer = down.URL })
	if _, err := o.AuthCodeURL(context.Background(), "s", "n", NewVerifier()); !errors.Is(err, ErrUnreachable) {
		t.Errorf("down: err = %v", err)
	}
	// A second attempt at once does not hit the network again.
	if _, err := o.AuthCodeURL(context.Background(), "s", "n", NewVerifier()); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "moments ago") {
		t.Errorf("immediate retry: err = %v", err)
	}
	up := newTestOIDC(t, op, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up.Start(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := up.AuthCodeURL(ctx, "s", "n", NewVerifier()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background discovery never succeeded")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNewOIDCDefaults(t *testing.T) {
	if _, err := NewOIDC(OIDCConfig{ID: "x", ClientID: "c", RedirectURL: "https://a/cb"}); err == nil {
		t.Error("no issuer accepted")
	}
	o, err := NewOIDC(OIDCConfig{ID: "x", Issuer: "https://idp", ClientID: "c", RedirectURL: "https://a/cb", Scopes: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.cfg.Scopes, []string{"openid", "email"}) || o.cfg.EmailClaim != "email" || o.cfg.GroupsClaim != "groups" {
		t.Errorf("defaults: %+v", o.cfg)
	}
}
