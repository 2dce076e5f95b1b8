package token

import (
	"context"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// memKeys is a KeyStore in memory.
type memKeys struct {
	mu   sync.Mutex
	keys []Key
}

func (s *memKeys) SigningKeys(context.Context) ([]Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.keys)
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

func (s *memKeys) SigningKeyIDs(ctx context.Context) ([]access.KeyInfo, error) {
	keys, _ := s.SigningKeys(ctx)
	out := make([]access.KeyInfo, len(keys))
	for i, k := range keys {
		out[i] = access.KeyInfo{ID: k.ID, CreatedAt: k.CreatedAt}
	}
	return out, nil
}

func (s *memKeys) AddSigningKeyAfter(_ context.Context, k Key, newest string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	top := ""
	for _, old := range s.keys {
		if top == "" || old.CreatedAt.After(s.byID(top).CreatedAt) {
			top = old.ID
		}
	}
	if top != newest {
		return false, nil
	}
	s.keys = append(s.keys, k)
	return true, nil
}

func (s *memKeys) byID(kid string) Key {
	for _, k := range s.keys {
		if k.ID == kid {
			return k
		}
	}
	return Key{}
}

func (s *memKeys) DeleteSigningKey(_ context.Context, kid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = slices.DeleteFunc(s.keys, func(k Key) bool { return k.ID == kid })
	return nil
}

func TestManagerRotation(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	store := &memKeys{}
	var rotations []string
	sched := Schedule{Every: 24 * time.Hour, Lifetime: time.Hour}
	m, err := NewManager(ctx, ManagerOptions{
		Issuer: "https://auth.example.com", Store: store,
		Schedule: func() Schedule { return sched },
		Now:      func() time.Time { return now },
		OnRotate: func(_ context.Context, _ Key, reason string) error { rotations = append(rotations, reason); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	first := m.Load().CurrentKeyID()
	if len(store.keys) != 1 || first != store.keys[0].ID || len(rotations) != 0 {
		t.Fatalf("first start: %d keys, rotations %v", len(store.keys), rotations)
	}

	t.Run("not due", func(t *testing.T) {
		now = t0.Add(23 * time.Hour)
		if err := m.RotateIfDue(ctx); err != nil || m.Load().CurrentKeyID() != first {
			t.Fatalf("rotated early: %v", err)
		}
	})
	var second string
	t.Run("due", func(t *testing.T) {
		now = t0.Add(24 * time.Hour)
		if err := m.RotateIfDue(ctx); err != nil {
			t.Fatal(err)
		}
		second = m.Load().CurrentKeyID()
		if second == first || !slices.Equal(rotations, []string{"schedule"}) {
			t.Fatalf("signing %s, rotations %v", second, rotations)
		}
		if len(m.Load().pubs) != 2 {
			t.Fatalf("the previous key is no longer published")
		}
	})
	t.Run("another process adds a key", func(t *testing.T) {
		now = now.Add(time.Minute)
		k, err := AddKey(ctx, store, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Refresh(ctx); err != nil || m.Load().CurrentKeyID() != k.ID {
			t.Fatalf("refresh: %v, signing %s, want %s", err, m.Load().CurrentKeyID(), k.ID)
		}
	})
	t.Run("expired keys retire", func(t *testing.T) {
		now = now.Add(sched.Lifetime + RetireGrace + time.Second)
		if err := m.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if len(store.keys) != 1 || len(m.Load().pubs) != 1 {
			t.Fatalf("%d keys stored, %d published; want 1", len(store.keys), len(m.Load().pubs))
		}
	})
	t.Run("manual", func(t *testing.T) {
		k, err := m.Rotate(ctx)
		if err != nil || m.Load().CurrentKeyID() != k.ID || rotations[len(rotations)-1] != "manual" {
			t.Fatalf("rotate: %v, rotations %v", err, rotations)
		}
	})
}

// TestManagersRotateOnce: managers of several nodes on one store, due at
// the same moment, make one new key between them, and all sign with it.
func TestManagersRotateOnce(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := &memKeys{}
	sched := Schedule{Every: 24 * time.Hour, Lifetime: time.Hour}
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var rotations atomic.Int32
	managers := make([]*Manager, 4)
	for i := range managers {
		m, err := NewManager(ctx, ManagerOptions{
			Issuer: "https://auth.example.com", Store: store,
			Schedule: func() Schedule { return sched }, Now: clock,
			OnRotate: func(context.Context, Key, string) error { rotations.Add(1); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		managers[i] = m
	}
	if len(store.keys) != 1 {
		t.Fatalf("%d nodes starting on an empty store made %d keys, want 1", len(managers), len(store.keys))
	}
	mu.Lock()
	now = t0.Add(25 * time.Hour)
	mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range managers {
		wg.Go(func() {
			if err := m.RotateIfDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(store.keys) != 2 || rotations.Load() != 1 {
		t.Fatalf("after a due rotation on %d nodes: %d keys, %d rotations; want 2 keys, 1 rotation", len(managers), len(store.keys), rotations.Load())
	}
	for i, m := range managers {
		if err := m.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if got := m.Load().CurrentKeyID(); got != store.keys[1].ID {
			t.Errorf("node %d signs with %s, want the new key %s", i, got, store.keys[1].ID)
		}
	}
}
