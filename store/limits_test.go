package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		sends := db.Limit("pin-send", 3, 10*time.Minute) // one event back every 200 s
		steps := []struct {
			name     string
			limit    *Limit
			key      string
			at       time.Duration // after t0
			peek     bool          // Allowed instead of Take
			want     bool
			wantWait time.Duration
		}{
			{name: "first", limit: sends, key: "ann@example.com", want: true},
			{name: "second", limit: sends, key: "ann@example.com", want: true},
			{name: "third", limit: sends, key: "ann@example.com", want: true},
			{name: "peek past the burst", limit: sends, key: "ann@example.com", peek: true, wantWait: 200 * time.Second},
			{name: "fourth refused", limit: sends, key: "ann@example.com", wantWait: 200 * time.Second},
			{name: "other key", limit: sends, key: "bob@example.com", want: true},
			{name: "other limit, same key", limit: db.Limit("pin-failure", 1, time.Hour), key: "ann@example.com", want: true},
			{name: "refused again later", limit: sends, key: "ann@example.com", at: 150 * time.Second, wantWait: 50 * time.Second},
			{name: "one back after the interval", limit: sends, key: "ann@example.com", at: 200 * time.Second, want: true},
			{name: "then refused", limit: sends, key: "ann@example.com", at: 200 * time.Second, wantWait: 200 * time.Second},
			{name: "peek after the window", limit: sends, key: "ann@example.com", at: 20 * time.Minute, peek: true, want: true},
			{name: "full burst after the window", limit: sends, key: "ann@example.com", at: 20 * time.Minute, want: true},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				take := st.limit.Take
				if st.peek {
					take = st.limit.Allowed
				}
				ok, wait := take(st.key, t0.Add(st.at))
				if ok != st.want || wait != st.wantWait {
					t.Fatalf("got %v, %v; want %v, %v", ok, wait, st.want, st.wantWait)
				}
			})
		}
	})
}

// TestLimitRows: keys are kept hashed, and a bucket full again is purged.
func TestLimitRows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		l := db.Limit("pin-send", 2, time.Minute)
		l.Take("ann@example.com", t0)
		var key string
		if err := db.SQL().QueryRowContext(ctx, `SELECT key_hash FROM limit_counters`).Scan(&key); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(key, "ann") || key != hashNonce("ann@example.com") {
			t.Errorf("stored key %q, want the SHA-256 of the address", key)
		}
		l.Take("bob@example.com", t0.Add(2*time.Minute)) // ann's bucket is full again
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM limit_counters`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d counter rows, want only bob's", n)
		}
	})
}

// TestLimitSharedByHandles: two handles of one limit over one database
// (two nodes) count against the same bucket.
func TestLimitSharedByHandles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		other, err := be.open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		a, b := db.Limit("pin-send", 2, time.Minute), other.Limit("pin-send", 2, time.Minute)
		if ok, _ := a.Take("ann@example.com", t0); !ok {
			t.Fatal("first refused")
		}
		if ok, _ := b.Take("ann@example.com", t0); !ok {
			t.Fatal("second refused")
		}
		if ok, _ := a.Take("ann@example.com", t0); ok {
			t.Error("third allowed: the nodes count apart")
		}
		if ok, _ := b.Allowed("ann@example.com", t0); ok {
			t.Error("the other node allows a fourth")
		}
	})
}

// TestLimitFailsClosed: a limit that cannot reach its database refuses.
func TestLimitFailsClosed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		l := db.Limit("pin-send", 3, time.Minute)
		db.SQL().Close()
		for name, f := range map[string]func(string, time.Time) (bool, time.Duration){"Take": l.Take, "Allowed": l.Allowed} {
			t.Run(name, func(t *testing.T) {
				if ok, wait := f("ann@example.com", time.Now()); ok || wait <= 0 {
					t.Errorf("%s on a closed database = %v, %v; want a refusal", name, ok, wait)
				}
			})
		}
	})
}
