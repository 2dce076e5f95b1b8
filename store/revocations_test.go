package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// sessionFor creates a session of email with nonce.
func sessionFor(t *testing.T, db *DB, email, nonce string, created time.Time) access.Session {
	t.Helper()
	u, err := db.UpsertUser(context.Background(), email, "pin", created)
	if err != nil {
		t.Fatal(err)
	}
	s := access.Session{
		Nonce:     nonce,
		Identity:  access.Identity{UserID: u.ID, Email: u.Email},
		CreatedAt: created,
		ExpiresAt: created.Add(24 * time.Hour),
	}
	if err := db.CreateSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRevokeUser(t *testing.T) {
	db, path := openTest(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	sessionFor(t, db, "dave@example.com", "d1", now)
	sessionFor(t, db, "dave@example.com", "d2", now)
	sessionFor(t, db, "erin@example.com", "e1", now)

	var (
		mu  sync.Mutex
		got []Revocation
	)
	db.Subscribe(func(r Revocation) { mu.Lock(); got = append(got, r); mu.Unlock() })

	u, _ := db.UserByEmail(ctx, "dave@example.com")
	active, err := db.UserSessions(ctx, u.ID, now)
	if err != nil || len(active) != 2 {
		t.Fatalf("UserSessions = %d, %v; want 2", len(active), err)
	}
	n, err := db.RevokeUser(ctx, "Dave@Example.com", "admin@example.com", now)
	if err != nil || n != 2 {
		t.Fatalf("RevokeUser = %d, %v; want 2", n, err)
	}
	if !db.SessionRevoked("d1") || !db.SessionRevoked("d2") || db.SessionRevoked("e1") {
		t.Error("index does not hold exactly dave's sessions")
	}
	if active, _ := db.UserSessions(ctx, u.ID, now); len(active) != 0 {
		t.Errorf("UserSessions after revoke = %d, want 0", len(active))
	}
	if _, err := db.RevokeUser(ctx, "nobody@example.com", "", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevokeUser(unknown) = %v, want ErrNotFound", err)
	}
	revs, _ := db.Revocations(ctx, 0)
	if len(revs) != 1 || revs[0].Kind != RevocationUser || revs[0].Subject != "dave@example.com" || revs[0].By != "admin@example.com" {
		t.Errorf("revocations = %+v", revs)
	}
	mu.Lock()
	if len(got) != 1 || len(got[0].Nonces) != 2 {
		t.Errorf("subscriber got %+v, want one user revocation of 2 sessions", got)
	}
	mu.Unlock()
	// A new session after the revocation is not revoked.
	sessionFor(t, db, "dave@example.com", "d3", now.Add(time.Second))
	if db.SessionRevoked("d3") {
		t.Error("new session reported revoked")
	}
	db = reopen(t, db, path)
	if !db.SessionRevoked("d1") || db.SessionRevoked("d3") {
		t.Error("user revocation not reloaded")
	}
}

func TestRevokeApp(t *testing.T) {
	db, path := openTest(t)
	ctx := context.Background()
	at := time.UnixMilli(1_700_000_000_400) // 400 ms into a second
	if err := db.RevokeApp(ctx, "wiki", "aud-wiki", false, "", at); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeApp(ctx, "wiki", "aud-wiki", true, "", at.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		aud        string
		iat        int64
		hard, soft bool
	}{
		{"before hard", "aud-wiki", 1_699_999_999, true, true},
		{"same second as hard", "aud-wiki", 1_700_000_000, true, true},
		{"after hard", "aud-wiki", 1_700_000_001, false, true},
		{"after soft", "aud-wiki", 1_700_000_011, false, false},
		{"other app", "aud-other", 1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hard, soft := db.AppRevocation(tt.aud).Refuses(tt.iat)
			if hard != tt.hard || soft != tt.soft {
				t.Errorf("AppTokenRevoked = %v, %v; want %v, %v", hard, soft, tt.hard, tt.soft)
			}
		})
	}
	// A token minted after the revocation, in the same second, is not refused.
	iat := access.IssuedAt(at.Add(10*time.Second+100*time.Millisecond), db.AppRevocation("aud-wiki"))
	if hard, soft := db.AppRevocation("aud-wiki").Refuses(iat); hard || soft {
		t.Errorf("token minted after revocation with iat %d refused", iat)
	}
	if got := access.IssuedAt(at, db.AppRevocation("aud-other")); got != at.Unix() {
		t.Errorf("IssuedAt(unrevoked) = %d, want %d", got, at.Unix())
	}
	db = reopen(t, db, path)
	rev := db.AppRevocation("aud-wiki")
	hard, soft := rev.Hard, rev.Soft
	if !hard.Equal(at) || !soft.Equal(at.Add(10*time.Second)) {
		t.Errorf("AppRevokedAt after reopen = %v, %v", hard, soft)
	}
}

func TestPollRevocations(t *testing.T) {
	db, path := openTest(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	sessionFor(t, db, "fay@example.com", "f1", now)
	sessionFor(t, db, "gus@example.com", "g1", now)

	other, err := Open(ctx, path, nil) // another process, such as `gatehouse revoke`
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.RevokeUser(ctx, "fay@example.com", "cli", now); err != nil {
		t.Fatal(err)
	}
	if err := other.RevokeSession(ctx, "g1", now); err != nil {
		t.Fatal(err)
	}
	if err := other.RevokeApp(ctx, "wiki", "aud-wiki", false, "cli", now); err != nil {
		t.Fatal(err)
	}
	if db.SessionRevoked("f1") {
		t.Fatal("revocation seen before polling")
	}
	events := make(chan Revocation, 10)
	db.Subscribe(func(r Revocation) { events <- r })
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go db.WatchRevocations(wctx, 20*time.Millisecond)
	deadline := time.After(2 * time.Second)
	for i := 0; i < 3; i++ {
		select {
		case r := <-events:
			if r.Kind == RevocationUser && (len(r.Nonces) != 1 || r.Nonces[0] != "f1") {
				t.Errorf("polled user revocation nonces = %v", r.Nonces)
			}
		case <-deadline:
			t.Fatalf("only %d revocations polled", i)
		}
	}
	if !db.SessionRevoked("f1") || !db.SessionRevoked("g1") {
		t.Error("polled session revocations not in index")
	}
	if hard := db.AppRevocation("aud-wiki").Hard; !hard.Equal(now) {
		t.Errorf("polled app revocation = %v", hard)
	}
	// A local revocation is applied once, not again by the watcher.
	if err := db.RevokeApp(ctx, "wiki", "aud-wiki", false, "", now); err != nil {
		t.Fatal(err)
	}
	<-events
	select {
	case r := <-events:
		t.Errorf("local revocation delivered twice: %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
}
