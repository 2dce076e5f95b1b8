package revocation

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// fakeSource is an in-memory revocation log: what a store backend keeps.
type fakeSource struct {
	mu      sync.Mutex
	log     []access.Revocation
	revoked map[string]time.Time // session nonce -> expiry, for LoadRevoked
	err     error                // returned by RevocationsSince when set
}

func newFakeSource() *fakeSource { return &fakeSource{revoked: map[string]time.Time{}} }

// write appends r to the log as another process would, and returns it with
// its ID.
func (f *fakeSource) write(r access.Revocation) access.Revocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.ID = int64(len(f.log) + 1)
	for _, n := range r.Nonces {
		f.revoked[n] = r.At.Add(time.Hour)
	}
	f.log = append(f.log, r)
	return r
}

func (f *fakeSource) LoadRevoked(_ context.Context, now time.Time, session func([]byte)) (map[string]access.AppRevocation, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, exp := range f.revoked {
		if exp.After(now) {
			session([]byte(n))
		}
	}
	apps := map[string]access.AppRevocation{}
	for _, r := range f.log {
		rev := apps[r.Subject]
		switch r.Kind {
		case access.RevocationApp:
			if r.At.After(rev.Hard) {
				rev.Hard = r.At
			}
		case access.RevocationAppSoft:
			if r.At.After(rev.Soft) {
				rev.Soft = r.At
			}
		default:
			continue
		}
		apps[r.Subject] = rev
	}
	return apps, int64(len(f.log)), nil
}

func (f *fakeSource) RevocationsSince(_ context.Context, after int64) ([]access.Revocation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if after >= int64(len(f.log)) {
		return nil, nil
	}
	return append([]access.Revocation(nil), f.log[after:]...), nil
}

var _ Source = (*fakeSource)(nil)

// t0 is 400 ms into a second, so that the same-second rule matters.
var t0 = time.UnixMilli(1_700_000_000_400)

func newEngine(t *testing.T, src Source) *Engine {
	t.Helper()
	e, err := New(context.Background(), src, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// recorder subscribes to e and keeps what it is told.
type recorder struct {
	mu  sync.Mutex
	got []access.Revocation
}

func record(e *Engine) *recorder {
	r := &recorder{}
	e.Subscribe(func(rev access.Revocation) { r.mu.Lock(); r.got = append(r.got, rev); r.mu.Unlock() })
	return r
}

func (r *recorder) ids() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, rev := range r.got {
		out = append(out, rev.ID)
	}
	return out
}

func sessionRev(nonce string) access.Revocation {
	return access.Revocation{Kind: access.RevocationSession, Subject: nonce, At: t0, Nonces: []string{nonce}}
}

func TestSessionRevoked(t *testing.T) {
	long := strings.Repeat("n", 40) // hashed into the key
	tests := []struct {
		name    string
		revoke  []access.Revocation // applied locally, in order
		remote  []access.Revocation // written by another process, then polled
		refused []string
		allowed []string
	}{
		{name: "nothing revoked", allowed: []string{"s1", ""}},
		{name: "one session", revoke: []access.Revocation{sessionRev("s1")}, refused: []string{"s1"}, allowed: []string{"s2", "s"}},
		{name: "a user's sessions", revoke: []access.Revocation{{Kind: access.RevocationUser, Subject: "ann@example.com", At: t0, Nonces: []string{"a1", "a2"}}},
			refused: []string{"a1", "a2"}, allowed: []string{"ann@example.com"}},
		{name: "long nonce", revoke: []access.Revocation{sessionRev(long)}, refused: []string{long}, allowed: []string{long[:39], long + "x"}},
		{name: "from another process", remote: []access.Revocation{sessionRev("s1")}, refused: []string{"s1"}},
		{name: "stays refused after more revocations", revoke: []access.Revocation{sessionRev("s1")},
			remote:  []access.Revocation{sessionRev("s2"), {Kind: access.RevocationApp, Subject: "aud", At: t0}},
			refused: []string{"s1", "s2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakeSource()
			e := newEngine(t, src)
			for _, r := range tt.revoke {
				e.Apply(src.write(r))
			}
			for _, r := range tt.remote {
				src.write(r)
			}
			for range 2 { // a second poll changes nothing
				if err := e.Poll(context.Background()); err != nil {
					t.Fatal(err)
				}
				for _, n := range tt.refused {
					if !e.SessionRevoked(n) {
						t.Errorf("session %q not refused", n)
					}
				}
				for _, n := range tt.allowed {
					if e.SessionRevoked(n) {
						t.Errorf("session %q refused", n)
					}
				}
			}
			// A restart loads the same state from the source.
			e2 := newEngine(t, src)
			for _, n := range tt.refused {
				if !e2.SessionRevoked(n) {
					t.Errorf("session %q not refused after a restart", n)
				}
			}
		})
	}
}

func TestAppRevocationSameSecond(t *testing.T) {
	const aud = "aud-wiki"
	hardAt := t0                               // 1_700_000_000.400
	softAt := t0.Add(10 * time.Second)         // 1_700_000_010.400
	whole := time.UnixMilli(1_800_000_000_000) // exactly on a second
	tests := []struct {
		name       string
		revs       []access.Revocation
		aud        string
		iat        int64
		hard, soft bool
	}{
		{"never revoked", nil, aud, 1, false, false},
		{"before hard", []access.Revocation{{Kind: access.RevocationApp, Subject: aud, At: hardAt}}, aud, 1_699_999_999, true, false},
		{"same second as hard", []access.Revocation{{Kind: access.RevocationApp, Subject: aud, At: hardAt}}, aud, 1_700_000_000, true, false},
		{"second after hard", []access.Revocation{{Kind: access.RevocationApp, Subject: aud, At: hardAt}}, aud, 1_700_000_001, false, false},
		{"same second as soft", []access.Revocation{{Kind: access.RevocationAppSoft, Subject: aud, At: softAt}}, aud, 1_700_000_010, false, true},
		{"after soft", []access.Revocation{{Kind: access.RevocationAppSoft, Subject: aud, At: softAt}}, aud, 1_700_000_011, false, false},
		{"hard then soft, between", []access.Revocation{{Kind: access.RevocationApp, Subject: aud, At: hardAt}, {Kind: access.RevocationAppSoft, Subject: aud, At: softAt}},
			aud, 1_700_000_005, false, true},
		{"an older hard revocation does not win", []access.Revocation{{Kind: access.RevocationApp, Subject: aud, At: hardAt}, {Kind: access.RevocationApp, Subject: aud, At: hardAt.Add(-time.Hour)}},
			aud, 1_700_000_000, true, false},
		{"on a whole second", []access.Revocation{{Kind: access.RevocationApp, Subject: aud, At: whole}}, aud, 1_800_000_000, false, false},
		{"just before a whole second", []access.Revocation{{Kind: access.RevocationApp, Subject: aud, At: whole}}, aud, 1_799_999_999, true, false},
		{"other app", []access.Revocation{{Kind: access.RevocationApp, Subject: aud, At: hardAt}}, "aud-other", 1, false, false},
		{"session revocations leave apps alone", []access.Revocation{sessionRev(aud)}, aud, 1, false, false},
	}
	for _, tt := range tests {
		for _, how := range []string{"applied", "polled", "loaded"} {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				src := newFakeSource()
				e := newEngine(t, src)
				for _, r := range tt.revs {
					r = src.write(r)
					if how == "applied" {
						e.Apply(r)
					}
				}
				switch how {
				case "polled":
					if err := e.Poll(context.Background()); err != nil {
						t.Fatal(err)
					}
				case "loaded":
					e = newEngine(t, src)
				}
				hard, soft := e.AppTokenRevoked(tt.aud, tt.iat)
				if hard != tt.hard || soft != tt.soft {
					t.Errorf("AppTokenRevoked(%d) = %v, %v; want %v, %v", tt.iat, hard, soft, tt.hard, tt.soft)
				}
				// A token minted now gets an iat that no revocation refuses.
				rev := e.AppRevocation(tt.aud)
				for _, now := range []time.Time{hardAt, softAt.Add(-time.Millisecond), softAt.Add(100 * time.Millisecond)} {
					if !now.Before(rev.Hard) && !now.Before(rev.Soft) {
						if h, s := e.AppTokenRevoked(tt.aud, access.IssuedAt(now, rev)); h || s {
							t.Errorf("token minted at %v after the revocations is refused", now)
						}
					}
				}
			})
		}
	}
}

func TestSubscribers(t *testing.T) {
	tests := []struct {
		name   string
		before []access.Revocation // in the log before the engine starts
		run    func(t *testing.T, src *fakeSource, e *Engine)
		want   []int64
	}{
		{"applied", nil, func(t *testing.T, src *fakeSource, e *Engine) {
			e.Apply(src.write(sessionRev("s1")))
			e.Apply(src.write(sessionRev("s2")))
		}, []int64{1, 2}},
		{"applied, then polled: told once", nil, func(t *testing.T, src *fakeSource, e *Engine) {
			e.Apply(src.write(sessionRev("s1")))
			mustPoll(t, e)
			mustPoll(t, e)
		}, []int64{1}},
		{"polled, then applied: told once", nil, func(t *testing.T, src *fakeSource, e *Engine) {
			r := src.write(sessionRev("s1"))
			mustPoll(t, e)
			e.Apply(r)
		}, []int64{1}},
		{"applied twice: told once", nil, func(t *testing.T, src *fakeSource, e *Engine) {
			r := src.write(sessionRev("s1"))
			e.Apply(r)
			e.Apply(r)
		}, []int64{1}},
		{"nothing written: not told", nil, func(t *testing.T, src *fakeSource, e *Engine) {
			e.Apply(access.Revocation{})
		}, nil},
		{"mixed local and remote, in log order", nil, func(t *testing.T, src *fakeSource, e *Engine) {
			src.write(sessionRev("r1"))
			e.Apply(src.write(sessionRev("l2")))
			src.write(access.Revocation{Kind: access.RevocationAppSoft, Subject: "aud", At: t0})
			mustPoll(t, e)
		}, []int64{2, 1, 3}},
		{"written before the start: not told", []access.Revocation{sessionRev("old")}, func(t *testing.T, src *fakeSource, e *Engine) {
			mustPoll(t, e)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakeSource()
			for _, r := range tt.before {
				src.write(r)
			}
			e := newEngine(t, src)
			rec, rec2 := record(e), record(e)
			tt.run(t, src, e)
			for i, r := range []*recorder{rec, rec2} {
				if got := r.ids(); !equalIDs(got, tt.want) {
					t.Errorf("subscriber %d told %v, want %v", i, got, tt.want)
				}
			}
		})
	}
	t.Run("subscriber sees the revocation enforced", func(t *testing.T) {
		src := newFakeSource()
		e := newEngine(t, src)
		var enforced bool
		e.Subscribe(func(r access.Revocation) { enforced = e.SessionRevoked("s1") })
		e.Apply(src.write(sessionRev("s1")))
		if !enforced {
			t.Error("subscriber called before the index was updated")
		}
	})
}

func mustPoll(t *testing.T, e *Engine) {
	t.Helper()
	if err := e.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPollError(t *testing.T) {
	src := newFakeSource()
	e := newEngine(t, src)
	src.write(sessionRev("s1"))
	src.err = errors.New("database is locked")
	if err := e.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("Poll = %v, want the source's error", err)
	}
	src.err = nil
	mustPoll(t, e)
	if !e.SessionRevoked("s1") {
		t.Error("entry lost after a failed poll")
	}
}

func TestWatch(t *testing.T) {
	src := newFakeSource()
	e := newEngine(t, src)
	told := make(chan access.Revocation, 4)
	e.Subscribe(func(r access.Revocation) { told <- r })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Watch(ctx, 10*time.Millisecond) }()
	src.write(sessionRev("s1"))
	select {
	case r := <-told:
		if r.Subject != "s1" || !e.SessionRevoked("s1") {
			t.Errorf("told %+v; revoked %v", r, e.SessionRevoked("s1"))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Watch did not pick up the entry")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Watch did not stop with its context")
	}
}

func TestConcurrentApplyAndPoll(t *testing.T) {
	src := newFakeSource()
	e := newEngine(t, src)
	rec := record(e)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Watch(ctx, time.Millisecond) }()
	const n = 200
	for i := range n {
		r := src.write(sessionRev(string(rune('a'+i%26)) + string(rune('a'+i/26))))
		if i%2 == 0 {
			e.Apply(r)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(rec.ids()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	seen := map[int64]int{}
	for _, id := range rec.ids() {
		seen[id]++
	}
	for id := int64(1); id <= n; id++ {
		if seen[id] != 1 {
			t.Errorf("entry %d told %d times, want once", id, seen[id])
		}
	}
}

// TestWatermark: the watermark is the newest log entry read from the
// source (by the load or a poll), not one applied locally before the log
// was read: it is what the node acknowledges to the revokes of others.
func TestWatermark(t *testing.T) {
	src := newFakeSource()
	src.write(sessionRev("a"))
	src.write(sessionRev("b"))
	e := newEngine(t, src)
	steps := []struct {
		name string
		do   func()
		want int64
	}{
		{"after the load", func() {}, 2},
		{"applied here, not yet polled", func() { e.Apply(src.write(sessionRev("c"))) }, 2},
		{"written elsewhere, not yet polled", func() { src.write(sessionRev("d")) }, 2},
		{"polled", func() {
			if err := e.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, 4},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do()
			if got := e.Watermark(); got != st.want {
				t.Fatalf("Watermark = %d, want %d", got, st.want)
			}
		})
	}
}
