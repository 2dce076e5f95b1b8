package store

import (
	"context"
	"errors"
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
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		sessionFor(t, db, "dave@example.com", "d1", now)
		sessionFor(t, db, "dave@example.com", "d2", now)
		sessionFor(t, db, "erin@example.com", "e1", now)

		u, _ := db.UserByEmail(ctx, "dave@example.com")
		active, err := db.UserSessions(ctx, u.ID, now)
		if err != nil || len(active) != 2 {
			t.Fatalf("UserSessions = %d, %v; want 2", len(active), err)
		}
		r, err := db.RevokeUser(ctx, "Dave@Example.com", "admin@example.com", now)
		if err != nil || len(r.Nonces) != 2 {
			t.Fatalf("RevokeUser = %+v, %v; want 2 sessions", r, err)
		}
		if r.ID == 0 || r.Kind != access.RevocationUser || r.Subject != "dave@example.com" || r.By != "admin@example.com" {
			t.Errorf("RevokeUser entry = %+v", r)
		}
		if nonces, _, _ := loaded(t, db, now); !nonces["d1"] || !nonces["d2"] || nonces["e1"] || len(nonces) != 2 {
			t.Errorf("revoked sessions = %v, want exactly dave's", nonces)
		}
		if active, _ := db.UserSessions(ctx, u.ID, now); len(active) != 0 {
			t.Errorf("UserSessions after revoke = %d, want 0", len(active))
		}
		if _, err := db.RevokeUser(ctx, "nobody@example.com", "", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("RevokeUser(unknown) = %v, want ErrNotFound", err)
		}
		revs, _ := db.Revocations(ctx, 0)
		if len(revs) != 1 || revs[0].ID != r.ID || revs[0].Kind != access.RevocationUser || revs[0].Subject != "dave@example.com" || revs[0].By != "admin@example.com" {
			t.Errorf("revocations = %+v", revs)
		}
		// A new session after the revocation is not revoked.
		sessionFor(t, db, "dave@example.com", "d3", now.Add(time.Second))
		db = be.reopen(t, db, path)
		if nonces, _, _ := loaded(t, db, now); !nonces["d1"] || nonces["d3"] {
			t.Errorf("revoked sessions after reopen = %v", nonces)
		}
	})
}

func TestRevokeApp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		at := time.UnixMilli(1_700_000_000_400) // 400 ms into a second
		tests := []struct {
			name string
			soft bool
			at   time.Time
			kind string
		}{
			{"hard", false, at, access.RevocationApp},
			{"soft", true, at.Add(10 * time.Second), access.RevocationAppSoft},
			{"older hard", false, at.Add(-time.Hour), access.RevocationApp},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r, err := db.RevokeApp(ctx, "wiki", "aud-wiki", tt.soft, "ops", tt.at)
				if err != nil {
					t.Fatal(err)
				}
				if r.ID == 0 || r.Kind != tt.kind || r.Subject != "aud-wiki" || !r.At.Equal(tt.at) || r.By != "ops" || r.Nonces != nil {
					t.Errorf("RevokeApp = %+v", r)
				}
			})
		}
		if _, err := db.RevokeApp(ctx, "wiki", "", false, "", at); err == nil {
			t.Error("RevokeApp with an empty audience succeeded")
		}
		db = be.reopen(t, db, path)
		_, apps, _ := loaded(t, db, at)
		if rev := apps["aud-wiki"]; !rev.Hard.Equal(at) || !rev.Soft.Equal(at.Add(10*time.Second)) {
			t.Errorf("loaded app revocation = %+v, want the latest hard and soft", rev)
		}
		if rev, ok := apps["aud-other"]; ok {
			t.Errorf("unrevoked app loaded: %+v", rev)
		}
	})
}

func TestRevocationsSince(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		sessionFor(t, db, "fay@example.com", "f1", now)
		sessionFor(t, db, "fay@example.com", "f2", now)
		sessionFor(t, db, "gus@example.com", "g1", now)
		_, _, start := loaded(t, db, now)

		other := be.other(t, path) // another process, such as `gatehouse revoke`
		if _, err := other.RevokeUser(ctx, "fay@example.com", "cli", now); err != nil {
			t.Fatal(err)
		}
		if _, err := other.RevokeSession(ctx, "g1", "cli", now); err != nil {
			t.Fatal(err)
		}
		if _, err := other.RevokeApp(ctx, "wiki", "aud-wiki", true, "cli", now); err != nil {
			t.Fatal(err)
		}
		revs, err := db.RevocationsSince(ctx, start)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			kind, subject string
			nonces        int
		}{
			{access.RevocationUser, "fay@example.com", 2},
			{access.RevocationSession, "g1", 1},
			{access.RevocationAppSoft, "aud-wiki", 0},
		}
		if len(revs) != len(want) {
			t.Fatalf("RevocationsSince = %+v, want %d entries", revs, len(want))
		}
		for i, w := range want {
			t.Run(w.kind, func(t *testing.T) {
				r := revs[i]
				if r.Kind != w.kind || r.Subject != w.subject || len(r.Nonces) != w.nonces || r.By != "cli" || !r.At.Equal(now) {
					t.Errorf("entry %d = %+v, want %s %s with %d nonces", i, r, w.kind, w.subject, w.nonces)
				}
				if i > 0 && r.ID <= revs[i-1].ID {
					t.Errorf("entries out of order: %d after %d", r.ID, revs[i-1].ID)
				}
			})
		}
		if rest, err := db.RevocationsSince(ctx, revs[1].ID); err != nil || len(rest) != 1 || rest[0].ID != revs[2].ID {
			t.Errorf("RevocationsSince(second) = %+v, %v; want the last entry", rest, err)
		}
		if _, _, last := loaded(t, db, now); last != revs[2].ID {
			t.Errorf("LoadRevoked last ID = %d, want %d", last, revs[2].ID)
		}
	})
}
