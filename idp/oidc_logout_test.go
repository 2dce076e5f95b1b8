package idp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// memJTIs is an in-memory LogoutTokenCache.
type memJTIs struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

var errMemReplay = errors.New("memJTIs: replayed")

func (m *memJTIs) UseLogoutJTI(_ context.Context, idp, jti string, expires, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	k := idp + " " + jti
	if exp, ok := m.seen[k]; ok && now.Before(exp) {
		return errMemReplay
	}
	m.seen[k] = expires
	return nil
}

// logoutToken returns valid logout token claims for the fake provider,
// changed by extra (a nil value deletes the claim).
func logoutToken(op *fakeOP, extra map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": op.srv.URL, "aud": "gatehouse", "sub": "u1", "sid": "sid-1",
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti":    fmt.Sprintf("jti-%d", now.UnixNano()),
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// unsignedJWT is an alg-none JWT of claims.
func unsignedJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "logout+jwt"})
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "."
}

// signedByStranger is claims signed by a key the provider never published,
// under the provider's kid.
func signedByStranger(t *testing.T, claims map[string]any) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	stranger := &fakeOP{key: key}
	return stranger.sign(t, claims)
}

func TestVerifyLogoutToken(t *testing.T) {
	op := startFakeOP(t)
	cache := &memJTIs{}
	o := newTestOIDC(t, op, func(c *OIDCConfig) { c.LogoutReplay = cache })
	ctx := context.Background()

	t.Run("valid token", func(t *testing.T) {
		claims := logoutToken(op, nil)
		got, err := o.VerifyLogoutToken(ctx, op.sign(t, claims))
		if err != nil {
			t.Fatal(err)
		}
		if got.IdP != "corp" || got.Subject != "u1" || got.SID != "sid-1" || got.JTI != claims["jti"] || got.Expires.Before(time.Now().Add(2*time.Minute)) {
			t.Errorf("claims = %+v", got)
		}
	})
	t.Run("sid alone and sub alone are enough", func(t *testing.T) {
		for _, drop := range []string{"sub", "sid"} {
			if _, err := o.VerifyLogoutToken(ctx, op.sign(t, logoutToken(op, map[string]any{drop: nil, "jti": "only-" + drop}))); err != nil {
				t.Errorf("without %s: %v", drop, err)
			}
		}
	})
	t.Run("no exp is accepted while iat is recent", func(t *testing.T) {
		if _, err := o.VerifyLogoutToken(ctx, op.sign(t, logoutToken(op, map[string]any{"exp": nil, "jti": "no-exp"}))); err != nil {
			t.Error(err)
		}
	})

	now := time.Now()
	tests := []struct {
		name    string
		token   func(t *testing.T) string
		wantErr error
		want    string // in the error text
	}{
		{name: "wrong iss", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"iss": "https://evil.example"}))
		}, want: "different provider"},
		{name: "wrong aud", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"aud": "someone-else"}))
		}, want: "audience"},
		{name: "aud list without our client", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"aud": []string{"a", "b"}}))
		}, want: "audience"},
		{name: "nonce present (an ID token)", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"nonce": "n1"}))
		}, want: "nonce"},
		{name: "missing events", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"events": nil}))
		}, want: "events"},
		{name: "events without the back-channel member", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"events": map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}}))
		}, want: "events"},
		{name: "events member not an object", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"events": map[string]any{BackchannelLogoutEvent: "yes"}}))
		}, want: "JSON object"},
		{name: "neither sid nor sub", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"sid": nil, "sub": nil}))
		}, want: "neither sid nor sub"},
		{name: "no jti", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"jti": nil}))
		}, want: "no jti"},
		{name: "bad signature", token: func(t *testing.T) string {
			return signedByStranger(t, logoutToken(op, nil))
		}, want: "signature"},
		{name: "tampered payload", token: func(t *testing.T) string {
			parts := strings.Split(op.sign(t, logoutToken(op, nil)), ".")
			p, _ := json.Marshal(logoutToken(op, map[string]any{"sub": "admin"}))
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
		}, want: "signature"},
		{name: "alg none", token: func(*testing.T) string { return unsignedJWT(logoutToken(op, nil)) }},
		{name: "expired", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"iat": now.Add(-4 * time.Minute).Unix(), "exp": now.Add(-2 * time.Minute).Unix()}))
		}, want: "expired"},
		{name: "iat too old", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"iat": now.Add(-time.Hour).Unix(), "exp": now.Add(time.Hour).Unix()}))
		}, want: "older"},
		{name: "iat in the future", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"iat": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()}))
		}, want: "future"},
		{name: "no iat", token: func(t *testing.T) string {
			return op.sign(t, logoutToken(op, map[string]any{"iat": nil}))
		}, want: "no iat"},
		{name: "not a JWT", token: func(*testing.T) string { return "not-a-jwt" }},
		{name: "replayed jti", token: func(t *testing.T) string {
			tok := op.sign(t, logoutToken(op, map[string]any{"jti": "once"}))
			if _, err := o.VerifyLogoutToken(ctx, tok); err != nil {
				t.Fatalf("first use: %v", err)
			}
			return tok
		}, wantErr: ErrLogoutReplayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := o.VerifyLogoutToken(ctx, tt.token(t))
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}

	t.Run("a refused token does not use up its jti", func(t *testing.T) {
		claims := logoutToken(op, map[string]any{"jti": "kept", "aud": "someone-else"})
		if _, err := o.VerifyLogoutToken(ctx, op.sign(t, claims)); err == nil {
			t.Fatal("wrong aud accepted")
		}
		claims["aud"] = "gatehouse"
		if _, err := o.VerifyLogoutToken(ctx, op.sign(t, claims)); err != nil {
			t.Errorf("the valid token with that jti: %v", err)
		}
	})
	t.Run("without a replay cache every token is refused", func(t *testing.T) {
		plain := newTestOIDC(t, op, nil)
		if _, err := plain.VerifyLogoutToken(ctx, op.sign(t, logoutToken(op, nil))); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestEndSessionURL(t *testing.T) {
	op := startFakeOP(t)
	o := newTestOIDC(t, op, nil)
	raw, err := o.EndSessionURL(context.Background(), "the-id-token", "https://auth.example.com/cdn-cgi/access/signed-out", "st")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"ui": {"1"}, "id_token_hint": {"the-id-token"}, "client_id": {"gatehouse"},
		"post_logout_redirect_uri": {"https://auth.example.com/cdn-cgi/access/signed-out"}, "state": {"st"}}
	if u.Host != strings.TrimPrefix(op.srv.URL, "http://") || u.Path != "/session/end" || !maps.EqualFunc(u.Query(), want, func(a, b []string) bool {
		return strings.Join(a, ",") == strings.Join(b, ",")
	}) {
		t.Errorf("end session URL = %s", raw)
	}
	if raw, err := o.EndSessionURL(context.Background(), "", "https://x/", "st"); err != nil || strings.Contains(raw, "id_token_hint") {
		t.Errorf("without a hint: %s, %v", raw, err)
	}

	t.Run("provider without end_session_endpoint", func(t *testing.T) {
		op := startFakeOP(t)
		op.noEndSession = true
		var logs bytes.Buffer
		o := newTestOIDC(t, op, func(c *OIDCConfig) {
			c.LogoutAtIdP = true
			c.Log = slog.New(slog.NewTextHandler(&logs, nil))
		})
		raw, err := o.EndSessionURL(context.Background(), "tok", "https://x/", "st")
		if err != nil || raw != "" {
			t.Errorf("EndSessionURL = %q, %v; want none", raw, err)
		}
		if !strings.Contains(logs.String(), "no end_session_endpoint") {
			t.Errorf("discovery did not warn:\n%s", logs.String())
		}
	})
}
