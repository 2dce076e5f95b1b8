package store

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/token"
)

func testKey(t *testing.T, created time.Time) token.Key {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return token.Key{ID: hex.EncodeToString(sum[:]), Private: priv, CreatedAt: created}
}

func TestSigningKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		keys, err := db.SigningKeys(ctx)
		if err != nil || len(keys) != 0 {
			t.Fatalf("empty SigningKeys = %v, %v", keys, err)
		}
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		older := testKey(t, t0)
		newer := testKey(t, t0.Add(6*7*24*time.Hour))
		for _, k := range []token.Key{older, newer} {
			if err := db.AddSigningKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AddSigningKey(ctx, older); err == nil {
			t.Error("duplicate kid accepted")
		}
		db = be.reopen(t, db, path)
		keys, err = db.SigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 {
			t.Fatalf("keys = %d, want 2", len(keys))
		}
		for i, want := range []token.Key{newer, older} {
			got := keys[i]
			if got.ID != want.ID || !got.CreatedAt.Equal(want.CreatedAt) || !got.Private.Equal(want.Private) {
				t.Errorf("key %d = %s at %v, want %s at %v", i, got.ID, got.CreatedAt, want.ID, want.CreatedAt)
			}
		}
	})
}
