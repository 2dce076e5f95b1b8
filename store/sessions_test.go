package store

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func newSession(t *testing.T, db *DB, nonce string, created time.Time, ttl time.Duration) access.Session {
	t.Helper()
	u, err := db.UpsertUser(context.Background(), "carol@example.com", "pin", created)
	if err != nil {
		t.Fatal(err)
	}
	s := access.Session{
		Nonce: nonce,
		Identity: access.Identity{
			UserID: u.ID, Email: u.Email, Groups: []string{"eng"},
			IdP: access.IdP{ID: "pin", Type: "onetimepin"}, IssuedAt: created.Unix(),
		},
		CreatedAt: created,
		ExpiresAt: created.Add(ttl),
	}
	if err := db.CreateSession(context.Background(), s); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return s
}

func TestSessionLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		s := newSession(t, db, "AAAAAAAAAAAAAAAA", now, 24*time.Hour)
		expired := newSession(t, db, "BBBBBBBBBBBBBBBB", now.Add(-48*time.Hour), time.Hour)

		got, err := db.Session(ctx, s.Nonce)
		if err != nil {
			t.Fatal(err)
		}
		if got.Identity.Email != s.Identity.Email || got.Identity.Groups[0] != "eng" ||
			!got.ExpiresAt.Equal(s.ExpiresAt) || !got.RevokedAt.IsZero() || !got.Active(now) {
			t.Errorf("Session = %+v", got)
		}
		if _, err := db.Session(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Session(unknown) = %v, want ErrNotFound", err)
		}
		if nonces, _, _ := loaded(t, db, now); nonces[s.Nonce] {
			t.Error("fresh session loaded as revoked")
		}

		r, err := db.RevokeSession(ctx, s.Nonce, "admin@example.com", now)
		if err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}
		if r.ID == 0 || r.Kind != access.RevocationSession || r.Subject != s.Nonce || r.By != "admin@example.com" ||
			!r.At.Equal(now) || len(r.Nonces) != 1 || r.Nonces[0] != s.Nonce {
			t.Errorf("RevokeSession = %+v", r)
		}
		if again, err := db.RevokeSession(ctx, s.Nonce, "", now.Add(time.Minute)); err != nil || again.ID != 0 {
			t.Errorf("second RevokeSession = %+v, %v; want nothing written", again, err)
		}
		if _, err := db.RevokeSession(ctx, "nope", "", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("RevokeSession(unknown) = %v, want ErrNotFound", err)
		}
		if _, err := db.RevokeSession(ctx, expired.Nonce, "", now); err != nil {
			t.Fatal(err)
		}
		got, err = db.Session(ctx, s.Nonce)
		if err != nil || !got.RevokedAt.Equal(now) || got.Active(now) {
			t.Errorf("revoked Session = %+v, %v", got, err)
		}
		revs, err := db.Revocations(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) != 2 || revs[1].Kind != access.RevocationSession || revs[1].Subject != s.Nonce || !revs[1].At.Equal(now) {
			t.Errorf("revocations = %+v, want one per revoked session", revs)
		}

		active, err := db.ListSessions(ctx, true, now, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(active) != 0 {
			t.Errorf("active sessions = %d, want 0", len(active))
		}

		db = be.reopen(t, db, path)
		nonces, _, last := loaded(t, db, now)
		if !nonces[s.Nonce] {
			t.Error("revocation lost across reopen")
		}
		if nonces[expired.Nonce] {
			t.Error("expired revoked session loaded")
		}
		if last != revs[0].ID {
			t.Errorf("last log ID = %d, want %d", last, revs[0].ID)
		}
	})
}

func TestListSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		newSession(t, db, "old", now.Add(-2*time.Hour), time.Hour) // expired
		newSession(t, db, "mid", now.Add(-time.Hour), 24*time.Hour)
		newSession(t, db, "new", now, 24*time.Hour)
		newSession(t, db, "gone", now.Add(-30*time.Minute), 24*time.Hour)
		if _, err := db.RevokeSession(ctx, "gone", "", now); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			active bool
			limit  int
			want   []string
		}{
			{"all", false, 0, []string{"new", "gone", "mid", "old"}},
			{"limited", false, 2, []string{"new", "gone"}},
			{"active", true, 0, []string{"new", "mid"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.ListSessions(ctx, tt.active, now, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				var nonces []string
				for _, s := range got {
					nonces = append(nonces, s.Nonce)
				}
				if len(nonces) != len(tt.want) {
					t.Fatalf("nonces = %v, want %v", nonces, tt.want)
				}
				for i := range nonces {
					if nonces[i] != tt.want[i] {
						t.Fatalf("nonces = %v, want %v", nonces, tt.want)
					}
				}
			})
		}
	})
}

func TestCreateSessionUnknownUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		now := time.Now()
		err := db.CreateSession(context.Background(), access.Session{
			Nonce: "x", Identity: access.Identity{UserID: "no-such-user"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		})
		if err == nil {
			t.Error("session for an unknown user accepted (foreign keys off?)")
		}
	})
}

func TestSessionSeen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		created := time.UnixMilli(1_700_000_000_000)
		u, err := db.UpsertUser(ctx, "dana@example.com", "pin", created)
		if err != nil {
			t.Fatal(err)
		}
		s := access.Session{Nonce: "seen000000000001", Identity: access.Identity{UserID: u.ID, Email: u.Email},
			CreatedAt: created, ExpiresAt: created.Add(time.Hour), UserAgent: "Firefox/128.0"}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		read := func() access.Session {
			t.Helper()
			got, err := db.Session(ctx, s.Nonce)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := read(); got.UserAgent != "Firefox/128.0" || !got.LastSeenAt.IsZero() || got.LastIP != "" {
			t.Fatalf("new session: agent %q, last seen %v, ip %q", got.UserAgent, got.LastSeenAt, got.LastIP)
		}
		// PostgreSQL's TEXT holds no NUL: the store writes U+FFFD there.
		nulAgent := "Evil\x00Agent"
		if be.pg {
			nulAgent = "Evil\uFFFDAgent"
		}
		tests := []struct {
			name, ip, agent, wantAgent string
		}{
			{"seen", "192.0.2.1", "Chrome/126.0", "Chrome/126.0"},
			{"empty agent keeps the last", "192.0.2.2", "", "Chrome/126.0"},
			{"NUL in the agent", "192.0.2.4", "Evil\x00Agent", nulAgent},
			{"long agent clipped", "192.0.2.3", strings.Repeat("a", 2000), strings.Repeat("a", maxUserAgent-len("…")) + "…"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				at := created.Add(time.Duration(i+1) * time.Minute)
				if err := db.SessionSeen(ctx, s.Nonce, tt.ip, tt.agent, at); err != nil {
					t.Fatal(err)
				}
				got := read()
				if !got.LastSeenAt.Equal(at) || got.LastIP != tt.ip || got.UserAgent != tt.wantAgent {
					t.Fatalf("after seen: at %v ip %q agent len %d; want %v %q len %d", got.LastSeenAt, got.LastIP, len(got.UserAgent), at, tt.ip, len(tt.wantAgent))
				}
			})
		}
		if err := db.SessionSeen(ctx, "nosuchsession000", "192.0.2.9", "x", created); err != nil {
			t.Fatalf("seen of an unknown session: %v", err)
		}
		list, err := db.UserSessions(ctx, u.ID, created)
		if err != nil || len(list) != 1 || list[0].LastIP != "192.0.2.3" {
			t.Fatalf("UserSessions = %+v, %v", list, err)
		}

		// TouchSession: written once a minute, from a cancelled request's
		// context too; a request without an address records none.
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		at := created.Add(10 * time.Minute)
		if err := db.TouchSession(cancelled, s.Nonce, netip.MustParseAddr("198.51.100.7"), "Safari/17", at); err != nil {
			t.Fatal(err)
		}
		if got := read(); !got.LastSeenAt.Equal(at) || got.LastIP != "198.51.100.7" || got.UserAgent != "Safari/17" {
			t.Fatalf("after touch: %v %q %q", got.LastSeenAt, got.LastIP, got.UserAgent)
		}
		if err := db.TouchSession(ctx, s.Nonce, netip.Addr{}, "Other/1", at.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := read(); !got.LastSeenAt.Equal(at) || got.UserAgent != "Safari/17" {
			t.Fatalf("a touch within the minute was written: %v %q", got.LastSeenAt, got.UserAgent)
		}
		if err := db.TouchSession(ctx, s.Nonce, netip.Addr{}, "Other/1", at.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := read(); got.LastIP != "" || got.UserAgent != "Other/1" {
			t.Fatalf("touch without an address: ip %q agent %q", got.LastIP, got.UserAgent)
		}
	})
}
