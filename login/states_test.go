package login

import (
	"testing"
	"time"
)

func TestStates(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	s := newStates[pending](2)
	if !s.put("a", pending{Expires: t0.Add(time.Minute)}, t0) || !s.put("b", pending{Expires: t0.Add(time.Hour)}, t0) {
		t.Fatal("put refused below the limit")
	}
	if s.put("c", pending{Expires: t0.Add(time.Hour)}, t0) {
		t.Fatal("put past the limit")
	}
	if _, ok := s.take("a", t0.Add(2*time.Minute)); ok {
		t.Fatal("expired state taken")
	}
	if _, ok := s.take("a", t0); ok {
		t.Fatal("state taken twice")
	}
	// "a" is gone, so there is room again; an expired entry is purged too.
	if !s.put("c", pending{Expires: t0.Add(time.Hour)}, t0.Add(2*time.Minute)) {
		t.Fatal("put refused after a take")
	}
	if p, ok := s.take("b", t0.Add(time.Minute)); !ok || !p.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("take b = %+v, %v", p, ok)
	}
	if _, ok := s.take("unknown", t0); ok {
		t.Fatal("unknown state taken")
	}
}
