package store

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSignInStates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		t0 := time.Unix(1_700_000_000, 0)
		put := func(kind, state string, expires, now time.Time) bool {
			t.Helper()
			ok, err := db.PutState(ctx, kind, state, []byte(`{"v":"`+state+`"}`), expires, now, 2)
			if err != nil {
				t.Fatalf("PutState %s/%s: %v", kind, state, err)
			}
			return ok
		}
		steps := []struct {
			name string
			run  func() bool // the step's outcome
			want bool
		}{
			{"put a", func() bool { return put("signin", "a", t0.Add(time.Minute), t0) }, true},
			{"put b", func() bool { return put("signin", "b", t0.Add(time.Hour), t0) }, true},
			{"put past the bound", func() bool { return put("signin", "c", t0.Add(time.Hour), t0) }, false},
			{"another kind has its own bound", func() bool { return put("signout", "c", t0.Add(time.Hour), t0) }, true},
			{"expired a purged as c arrives", func() bool { return put("signin", "c", t0.Add(time.Hour), t0.Add(2*time.Minute)) }, true},
			{"a is gone", func() bool { _, ok := take(t, db, "signin", "a", t0); return ok }, false},
			{"b taken", func() bool { v, ok := take(t, db, "signin", "b", t0.Add(time.Minute)); return ok && v == `{"v":"b"}` }, true},
			{"b taken twice", func() bool { _, ok := take(t, db, "signin", "b", t0.Add(time.Minute)); return ok }, false},
			{"c of the other kind untouched", func() bool { v, ok := take(t, db, "signout", "c", t0); return ok && v == `{"v":"c"}` }, true},
			{"expired c refused", func() bool { _, ok := take(t, db, "signin", "c", t0.Add(2*time.Hour)); return ok }, false},
			{"expired c deleted on the way", func() bool { _, ok := take(t, db, "signin", "c", t0); return ok }, false},
			{"unknown state", func() bool { _, ok := take(t, db, "signin", "unknown", t0); return ok }, false},
			{"empty state", func() bool { _, ok := take(t, db, "signin", "", t0); return ok }, false},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				if got := st.run(); got != st.want {
					t.Fatalf("got %v, want %v", got, st.want)
				}
			})
		}
		if _, err := db.PutState(ctx, "signin", "", nil, t0.Add(time.Hour), t0, 10); err == nil {
			t.Error("empty state stored")
		}
	})
}

// take is TakeState failing the test on error.
func take(t *testing.T, db *DB, kind, state string, now time.Time) (string, bool) {
	t.Helper()
	v, ok, err := db.TakeState(context.Background(), kind, state, now)
	if err != nil {
		t.Fatalf("TakeState %s/%s: %v", kind, state, err)
	}
	return string(v), ok
}

// TestSignInStateKeptHashed: the state itself is nowhere in the table.
func TestSignInStateKeptHashed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		state := strings.Repeat("5e", 32)
		if ok, err := db.PutState(ctx, "signin", state, []byte("{}"), now.Add(time.Minute), now, 10); err != nil || !ok {
			t.Fatalf("PutState = %v, %v", ok, err)
		}
		var stored string
		if err := db.SQL().QueryRowContext(ctx, `SELECT state_hash FROM signin_states`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != hashNonce(state) || strings.Contains(stored, state) {
			t.Errorf("stored key %q, want the SHA-256 of the state", stored)
		}
	})
}

// TestTakeStateOnce: of callbacks racing with one state, exactly one gets
// the pending sign-in.
func TestTakeStateOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		for round := range 20 {
			state := strings.Repeat("a", 60) + string(rune('a'+round%26)) + "xyz"
			if ok, err := db.PutState(ctx, "signin", state, []byte("{}"), now.Add(time.Minute), now, 100); err != nil || !ok {
				t.Fatalf("PutState = %v, %v", ok, err)
			}
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				wins int
			)
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, ok, err := db.TakeState(ctx, "signin", state, now)
					if err != nil {
						t.Errorf("TakeState: %v", err)
					}
					if ok {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("round %d: %d takers got the state, want exactly 1", round, wins)
			}
		}
	})
}
