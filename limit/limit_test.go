package limit

import (
	"testing"
	"time"
)

func TestKeyed(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	k := New(3, 10*time.Minute)
	for i := range 3 {
		if ok, _ := k.Take("ann@example.com", now); !ok {
			t.Fatalf("event %d refused", i)
		}
	}
	ok, retry := k.Take("ann@example.com", now)
	if ok || retry <= 0 || retry > 10*time.Minute {
		t.Fatalf("fourth event: ok %v retry %v", ok, retry)
	}
	if ok, _ := k.Take("bob@example.com", now); !ok {
		t.Fatal("another key is limited by ann's events")
	}
	if ok, retry := k.Allowed("ann@example.com", now); ok || retry <= 0 {
		t.Fatalf("Allowed = %v %v while exhausted", ok, retry)
	}
	later := now.Add(retry)
	if ok, _ := k.Allowed("ann@example.com", later); !ok {
		t.Fatalf("still refused after Retry-After %v", retry)
	}
	if ok, _ := k.Take("ann@example.com", later); !ok {
		t.Fatal("refused after the refill")
	}
	if ok, _ := k.Allowed("nobody", now); !ok {
		t.Fatal("an unseen key is refused")
	}
}

func TestKeyedBounded(t *testing.T) {
	now := time.Now()
	k := New(1, time.Minute)
	for i := range maxKeys + 10 {
		k.Take(string(rune(i)), now.Add(time.Duration(i)*time.Millisecond))
	}
	if len(k.m) > maxKeys {
		t.Fatalf("%d keys remembered, bound %d", len(k.m), maxKeys)
	}
}
