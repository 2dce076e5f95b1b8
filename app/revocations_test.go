package app

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/cluster"
	"github.com/gatehouse-dev/gatehouse/revocation"
	"github.com/gatehouse-dev/gatehouse/store"
)

func TestRevokingStoreServesAdmin(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "gh.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rev, err := revocation.New(ctx, db, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	node, err := cluster.New(cluster.Options{Registry: db, Sync: func(ctx context.Context) (int64, error) { return rev.Watermark(), rev.Poll(ctx) }})
	if err != nil {
		t.Fatal(err)
	}
	s := revokingStore{DB: db, rev: rev, node: node, report: true}
	now := time.Now()

	for name, err := range map[string]error{
		"session":       func() error { _, err := s.Session(ctx, "nope"); return err }(),
		"user":          func() error { _, err := s.UserByEmail(ctx, "nobody@example.com"); return err }(),
		"disable token": s.DisableServiceToken(ctx, "nope.access", now),
		"enable token":  s.EnableServiceToken(ctx, "nope.access", now),
		"delete token":  s.DeleteServiceToken(ctx, "nope.access"),
	} {
		if !errors.Is(err, admin.ErrNotFound) {
			t.Errorf("%s: err = %v, want admin.ErrNotFound", name, err)
		}
	}

	u, err := db.UpsertUser(ctx, "Ann@example.com", "pin", now)
	if err != nil {
		t.Fatal(err)
	}
	sess := access.Session{Nonce: "n1", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		Identity: access.Identity{UserID: u.ID, Email: u.Email}}
	if err := db.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByEmail(ctx, "ann@example.com"); err != nil || got.ID != u.ID || got.LastIdP != "pin" {
		t.Errorf("user = %+v, %v", got, err)
	}
	if list, err := s.UsersSince(ctx, now.Add(-time.Minute), now); err != nil || len(list) != 1 || list[0].ActiveSessions != 1 || list[0].Email != u.Email {
		t.Errorf("users since = %+v, %v", list, err)
	}
	if c, err := s.AdminCounts(ctx, now.Add(-time.Minute), now); err != nil || c.Users != 1 || c.ActiveSessions != 1 {
		t.Errorf("counts = %+v, %v", c, err)
	}
	if err := s.Audit(ctx, access.Event{Time: now, Kind: access.EventServiceToken, Email: u.Email}); err != nil {
		t.Fatal(err)
	}
	if events, more, err := s.AuditSearch(ctx, admin.AuditFilter{Kind: access.EventServiceToken}); err != nil || more || len(events) != 1 {
		t.Errorf("audit = %+v, %v, %v", events, more, err)
	}
	id, _, err := s.CreateServiceToken(ctx, "ci", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DisableServiceToken(ctx, id, now); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ServiceTokens(ctx); err != nil || len(list) != 1 || list[0].ClientID != id || list[0].DisabledAt.IsZero() {
		t.Errorf("service tokens = %+v, %v", list, err)
	}
	if err := s.RevokeSession(ctx, sess.Nonce, "admin@example.com", now); err != nil || !s.SessionRevoked(sess.Nonce) {
		t.Errorf("revoke session: %v, revoked %v", err, s.SessionRevoked(sess.Nonce))
	}
}
