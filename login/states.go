package login

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// StateStore keeps the pending sign-ins and sign-outs of the redirecting
// providers where every node finds them (the store), so that a provider's
// callback may land on any node. A value lies under a random single-use
// state of a kind until it expires.
type StateStore interface {
	// PutState stores value under state of kind until expires, purging
	// the expired states of kind; false, storing nothing, when max
	// unexpired states of kind are kept already.
	PutState(ctx context.Context, kind, state string, value []byte, expires, now time.Time, max int) (bool, error)
	// TakeState deletes the value under state of kind, in one step (of two
	// takers exactly one gets it), and returns it with whether it was there
	// and unexpired at now.
	TakeState(ctx context.Context, kind, state string, now time.Time) ([]byte, bool, error)
}

// Kinds of state.
const (
	stateSignIn  = "signin"  // a pending sign-in (pending)
	stateSignOut = "signout" // a pending sign-out (signOut)
)

// expirer is a value kept under a one-time state until it expires.
type expirer interface{ expiry() time.Time }

// states keeps values of type T, as JSON, under random single-use states
// of one kind in a StateStore, at most max of them.
type states[T expirer] struct {
	store StateStore
	kind  string
	max   int
}

// put stores v under state; false when max are pending already.
func (s *states[T]) put(ctx context.Context, state string, v T, now time.Time) (bool, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("login: encode %s state: %w", s.kind, err)
	}
	ok, err := s.store.PutState(ctx, s.kind, state, b, v.expiry(), now, s.max)
	if err != nil {
		return false, fmt.Errorf("login: %w", err)
	}
	return ok, nil
}

// take removes and returns the value of state, and whether it was there
// and unexpired at now.
func (s *states[T]) take(ctx context.Context, state string, now time.Time) (T, bool, error) {
	var v T
	b, ok, err := s.store.TakeState(ctx, s.kind, state, now)
	if err != nil {
		return v, false, fmt.Errorf("login: %w", err)
	}
	if !ok {
		return v, false, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("login: decode %s state: %w", s.kind, err)
	}
	// The store judged the row's expiry; the value's own is the same.
	return v, now.Before(v.expiry()), nil
}
