package store

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"sync"
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

// TestAddSigningKeyAfter: processes (separate handles) rotating at once
// from the same newest key make one rotation.
func TestAddSigningKeyAfter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, where := be.openTest(t)
		ctx := context.Background()
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		first := testKey(t, t0)
		if ok, err := db.AddSigningKeyAfter(ctx, first, ""); !ok || err != nil {
			t.Fatalf("first key: %v, %v", ok, err)
		}
		if ok, err := db.AddSigningKeyAfter(ctx, testKey(t, t0), ""); ok || err != nil {
			t.Fatalf("a second first key: %v, %v; want false", ok, err)
		}
		const nodes = 4
		keys := make([]token.Key, nodes)
		handles := make([]*DB, nodes)
		for i := range nodes {
			keys[i] = testKey(t, t0.Add(time.Hour))
			handles[i] = be.other(t, where)
		}
		var wg sync.WaitGroup
		added := make(chan bool, nodes)
		for i := range nodes {
			wg.Go(func() {
				ok, err := handles[i].AddSigningKeyAfter(ctx, keys[i], first.ID)
				if err != nil {
					t.Errorf("AddSigningKeyAfter: %v", err)
				}
				added <- ok
			})
		}
		wg.Wait()
		close(added)
		n := 0
		for ok := range added {
			if ok {
				n++
			}
		}
		ids, err := db.SigningKeyIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 || len(ids) != 2 {
			t.Fatalf("%d rotations reported, %d keys stored; want 1 and 2", n, len(ids))
		}
	})
}
