package login

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// memStates is an in-memory StateStore with the store's semantics.
type memStates struct {
	mu   sync.Mutex
	m    map[[2]string]memState // kind, state
	fail error                  // every call fails with it when set
}

type memState struct {
	value   []byte
	expires time.Time
}

func newMemStates() *memStates { return &memStates{m: map[[2]string]memState{}} }

func (s *memStates) PutState(_ context.Context, kind, state string, value []byte, expires, now time.Time, max int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return false, s.fail
	}
	n := 0
	for k, v := range s.m {
		switch {
		case k[0] != kind:
		case !now.Before(v.expires):
			delete(s.m, k)
		default:
			n++
		}
	}
	if n >= max {
		return false, nil
	}
	s.m[[2]string{kind, state}] = memState{value: value, expires: expires}
	return true, nil
}

func (s *memStates) TakeState(_ context.Context, kind, state string, now time.Time) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, false, s.fail
	}
	k := [2]string{kind, state}
	v, ok := s.m[k]
	delete(s.m, k)
	if !ok || !now.Before(v.expires) {
		return nil, false, nil
	}
	return v.value, true, nil
}

func TestStates(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0)
	mem := newMemStates()
	s := states[pending]{store: mem, kind: stateSignIn, max: 2}
	put := func(state string, expires, now time.Time) bool {
		t.Helper()
		ok, err := s.put(ctx, state, pending{Provider: "corp", Flow: flow{Host: demoHost}, RequestID: "id-" + state, Expires: expires}, now)
		if err != nil {
			t.Fatalf("put %s: %v", state, err)
		}
		return ok
	}
	take := func(state string, now time.Time) (pending, bool) {
		t.Helper()
		p, ok, err := s.take(ctx, state, now)
		if err != nil {
			t.Fatalf("take %s: %v", state, err)
		}
		return p, ok
	}
	steps := []struct {
		name string
		run  func() bool
		want bool
	}{
		{"put a", func() bool { return put("a", t0.Add(time.Minute), t0) }, true},
		{"put b", func() bool { return put("b", t0.Add(time.Hour), t0) }, true},
		{"put past the limit", func() bool { return put("c", t0.Add(time.Hour), t0) }, false},
		{"expired a refused", func() bool { _, ok := take("a", t0.Add(2*time.Minute)); return ok }, false},
		{"a taken twice", func() bool { _, ok := take("a", t0); return ok }, false},
		{"room again after a take", func() bool { return put("c", t0.Add(time.Hour), t0.Add(2*time.Minute)) }, true},
		{"b comes back whole", func() bool {
			p, ok := take("b", t0.Add(time.Minute))
			return ok && p.Expires.Equal(t0.Add(time.Hour)) && p.Provider == "corp" && p.Flow.Host == demoHost && p.RequestID == "id-b"
		}, true},
		{"unknown state", func() bool { _, ok := take("unknown", t0); return ok }, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := st.run(); got != st.want {
				t.Fatalf("got %v, want %v", got, st.want)
			}
		})
	}
	t.Run("store failure", func(t *testing.T) {
		mem.fail = errors.New("disk on fire")
		if _, err := s.put(ctx, "d", pending{Expires: t0.Add(time.Hour)}, t0); err == nil {
			t.Error("put hid the store's failure")
		}
		if _, _, err := s.take(ctx, "c", t0); err == nil {
			t.Error("take hid the store's failure")
		}
	})
}

// TestSignInStateSharedByNodes: two handlers over one StateStore (two
// nodes): a sign-in started on one completes on the other, once; a
// failing store refuses to start rather than send the browser off with a
// state nobody kept.
func TestSignInStateSharedByNodes(t *testing.T) {
	f := &logoutOIDC{id: access.Identity{Email: "ann@example.com"}}
	a, _ := logoutHarness(t, f, nil)
	b, _ := logoutHarness(t, f, nil)
	shared := newMemStates()
	a.h.pending.store, b.h.pending.store = shared, shared

	w := a.do("GET", access.PathIdPStart+"plain?"+demoFlow("/x").Encode(), nil)
	if w.Code != http.StatusFound {
		t.Fatalf("start on a: %d %s", w.Code, w.Body)
	}
	bind := cookie(w, access.CookieSignIn)
	callback := access.PathCallback + "?code=c&state=" + f.authState
	tests := []struct {
		name string
		node *harness
		want int
	}{
		{"callback on the other node", b, http.StatusFound},
		{"replayed on the first", a, http.StatusBadRequest},
		{"replayed on the other", b, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := tt.node.do("GET", callback, nil, bind); w.Code != tt.want {
				t.Fatalf("callback: %d, want %d\n%s", w.Code, tt.want, w.Body)
			}
		})
	}
	t.Run("failing store", func(t *testing.T) {
		shared.fail = errors.New("database down")
		w := a.do("GET", access.PathIdPStart+"plain?"+demoFlow("/x").Encode(), nil)
		if w.Code != http.StatusInternalServerError || w.Header().Get("Location") != "" {
			t.Fatalf("start with the store down: %d to %q", w.Code, w.Header().Get("Location"))
		}
	})
}
