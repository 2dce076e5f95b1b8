package store

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestAudit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		t0 := time.Date(2025, 2, 3, 4, 5, 6, 7_000_000, time.UTC)
		events := []access.Event{
			{Time: t0, Kind: access.EventSignIn, Email: "a@example.com", IdP: "pin", IP: "192.0.2.1"},
			{Time: t0.Add(time.Second), Kind: access.EventDenied, Email: "a@example.com", App: "wiki", Detail: "policy"},
			{Time: t0.Add(2 * time.Second), Kind: access.EventSignOut, Email: "a@example.com"},
		}
		for _, e := range events {
			if err := db.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		got, more, err := db.AuditSearch(ctx, AuditFilter{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !more {
			t.Fatalf("events = %d, more = %v; want 2, true", len(got), more)
		}
		if got[0].Kind != access.EventSignOut || got[1].Kind != access.EventDenied || got[1].App != "wiki" ||
			got[1].Detail != "policy" || !got[1].Time.Equal(t0.Add(time.Second)) || got[0].ID <= got[1].ID {
			t.Errorf("events = %+v", got)
		}
		all, _, err := db.AuditSearch(ctx, AuditFilter{})
		if err != nil || len(all) != 3 || all[2].IP != "192.0.2.1" || all[2].IdP != "pin" {
			t.Errorf("all events = %+v, %v", all, err)
		}
		if err := db.Audit(ctx, access.Event{Kind: access.EventRevoked}); err != nil {
			t.Fatal(err)
		}
		latest, _, err := db.AuditSearch(ctx, AuditFilter{Limit: 1})
		if err != nil || len(latest) != 1 || latest[0].Time.IsZero() {
			t.Errorf("zero-time event = %+v, %v; want time filled in", latest, err)
		}
	})
}
