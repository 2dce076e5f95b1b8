package store

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// adminSession creates a user and a global session for email at t.
func adminSession(t *testing.T, db *DB, email, nonce string, t0 time.Time, ttl time.Duration) access.Session {
	t.Helper()
	ctx := context.Background()
	u, err := db.UpsertUser(ctx, email, "pin", t0)
	if err != nil {
		t.Fatal(err)
	}
	s := access.Session{
		Nonce:     nonce,
		Identity:  access.Identity{UserID: u.ID, Email: u.Email},
		CreatedAt: t0,
		ExpiresAt: t0.Add(ttl),
	}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUsersSince(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		t0 := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
		adminSession(t, db, "old@example.com", "n-old", t0.AddDate(0, -2, 0), time.Hour)
		adminSession(t, db, "alice@example.com", "n-a1", t0, 24*time.Hour)
		adminSession(t, db, "alice@example.com", "n-a2", t0.Add(time.Minute), 24*time.Hour)
		adminSession(t, db, "bob@example.com", "n-b1", t0.Add(2*time.Minute), 24*time.Hour)
		if _, err := db.RevokeSession(ctx, "n-b1", "", t0.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		monthStart := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		got, err := db.UsersSince(ctx, monthStart, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("users = %+v, want bob and alice", got)
		}
		tests := []struct {
			name     string
			row      UserSummary
			email    string
			sessions int
			last     time.Time
		}{
			{name: "most recent first, revoked not counted", row: got[0], email: "bob@example.com", sessions: 0, last: t0.Add(2 * time.Minute)},
			{name: "two active sessions", row: got[1], email: "alice@example.com", sessions: 2, last: t0.Add(time.Minute)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.row.Email != tt.email || tt.row.ActiveSessions != tt.sessions || !tt.row.LastSignIn.Equal(tt.last) || tt.row.LastIdP != "pin" {
					t.Errorf("row = %+v", tt.row)
				}
			})
		}
		later, err := db.UsersSince(ctx, monthStart, t0.Add(48*time.Hour))
		if err != nil || len(later) != 2 || later[1].ActiveSessions != 0 {
			t.Errorf("after expiry: %+v, %v", later, err)
		}
	})
}

func TestAuditSearch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		t0 := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
		for i, e := range []access.Event{
			{Kind: access.EventSignIn, Email: "alice@example.com"},
			{Kind: access.EventDenied, Email: "alice@example.com", App: "wiki"},
			{Kind: access.EventSignIn, Email: "bob@example.com"},
			{Kind: access.EventRevoked, Email: "admin@example.com", App: "wiki"},
			{Kind: access.EventSignIn, Email: "Alice@example.com"},
		} {
			e.Time = t0.Add(time.Duration(i) * time.Second)
			if err := db.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name  string
			f     AuditFilter
			kinds []string
			more  bool
		}{
			{name: "all", f: AuditFilter{}, kinds: []string{"sign-in", "revoked", "sign-in", "denied", "sign-in"}},
			{name: "kind", f: AuditFilter{Kind: access.EventSignIn}, kinds: []string{"sign-in", "sign-in", "sign-in"}},
			{name: "email any case", f: AuditFilter{Email: "ALICE@example.com"}, kinds: []string{"sign-in", "denied", "sign-in"}},
			{name: "app", f: AuditFilter{App: "wiki"}, kinds: []string{"revoked", "denied"}},
			{name: "combined", f: AuditFilter{App: "wiki", Kind: access.EventDenied}, kinds: []string{"denied"}},
			{name: "first page", f: AuditFilter{Limit: 2}, kinds: []string{"sign-in", "revoked"}, more: true},
			{name: "second page", f: AuditFilter{Limit: 2, Before: 4}, kinds: []string{"sign-in", "denied"}, more: true},
			{name: "last page", f: AuditFilter{Limit: 2, Before: 2}, kinds: []string{"sign-in"}},
			{name: "none", f: AuditFilter{Email: "nobody@example.com"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, more, err := db.AuditSearch(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var kinds []string
				for _, e := range got {
					kinds = append(kinds, e.Kind)
				}
				if len(kinds) != len(tt.kinds) || more != tt.more {
					t.Fatalf("kinds = %v more = %v, want %v %v", kinds, more, tt.kinds, tt.more)
				}
				for i := range kinds {
					if kinds[i] != tt.kinds[i] {
						t.Errorf("kinds = %v, want %v", kinds, tt.kinds)
					}
				}
			})
		}
	})
}

func TestAdminCounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		t0 := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
		adminSession(t, db, "old@example.com", "n-old", t0.AddDate(0, -2, 0), time.Hour)
		adminSession(t, db, "alice@example.com", "n-a1", t0, 24*time.Hour)
		adminSession(t, db, "bob@example.com", "n-b1", t0, 24*time.Hour)
		if _, err := db.RevokeSession(ctx, "n-b1", "", t0); err != nil {
			t.Fatal(err)
		}
		for _, e := range []access.Event{
			{Time: t0, Kind: access.EventSignIn}, {Time: t0, Kind: access.EventSignIn},
			{Time: t0, Kind: access.EventDenied}, {Time: t0.AddDate(0, -2, 0), Kind: access.EventSignIn},
		} {
			if err := db.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		c, err := db.AdminCounts(ctx, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		want := Counts{Users: 3, UsersSince: 2, ActiveSessions: 1, SignInsSince: 2, DeniedSince: 1, Revocations: 1}
		if c != want {
			t.Errorf("counts = %+v, want %+v", c, want)
		}
	})
}

func TestAppUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now()
		adminSession(t, db, "alice@example.com", "n-alice", now.Add(-time.Minute), time.Hour)
		adminSession(t, db, "bob@example.com", "n-bob", now.Add(-time.Minute), time.Hour)
		event := func(kind, email, app string, at time.Time) {
			t.Helper()
			if err := db.Audit(ctx, access.Event{Time: at, Kind: kind, Email: email, App: app}); err != nil {
				t.Fatal(err)
			}
		}
		event(access.EventAccess, "alice@example.com", "wiki", now)
		event(access.EventAccess, "alice@example.com", "grafana", now)
		event(access.EventAccess, "alice@example.com", "wiki", now.Add(-30*time.Second)) // same user twice: counted once
		event(access.EventAccess, "bob@example.com", "wiki", now)                        // bob's session is revoked below
		event(access.EventAccess, "alice@example.com", "old", now.Add(-2*time.Minute))   // before her current session
		event(access.EventDenied, "alice@example.com", "secret", now)                    // not access
		if _, err := db.RevokeSession(ctx, "n-bob", "", now); err != nil {
			t.Fatal(err)
		}
		got, err := db.AppUsers(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, u := range got {
			if _, dup := seen[u.App]; dup {
				t.Errorf("app %s listed twice: %+v", u.App, got)
			}
			seen[u.App] = u.Email
		}
		want := map[string]string{"wiki": "alice@example.com", "grafana": "alice@example.com"}
		if len(seen) != len(want) {
			t.Fatalf("app users = %+v, want %v", got, want)
		}
		for k, v := range want {
			if seen[k] != v {
				t.Errorf("app users[%s] = %q, want %q (all: %+v)", k, seen[k], v, got)
			}
		}
	})
}
