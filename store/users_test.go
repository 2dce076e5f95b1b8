package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestUpsertUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		first, err := db.UpsertUser(ctx, "Alice@Example.COM", "pin", t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := uuid.Parse(first.ID); err != nil {
			t.Errorf("ID %q is not a UUID: %v", first.ID, err)
		}
		if first.Email != "alice@example.com" {
			t.Errorf("email = %q, want lower-cased", first.Email)
		}
		t1 := t0.Add(time.Hour)
		second, err := db.UpsertUser(ctx, "alice@example.com", "okta", t1)
		if err != nil {
			t.Fatal(err)
		}
		if second.ID != first.ID {
			t.Errorf("ID changed: %s then %s", first.ID, second.ID)
		}
		if !second.CreatedAt.Equal(t0) || !second.LastSignIn.Equal(t1) || second.LastIdP != "okta" {
			t.Errorf("second sign-in = %+v", second)
		}
		other, err := db.UpsertUser(ctx, "bob@example.com", "pin", t1)
		if err != nil {
			t.Fatal(err)
		}
		if other.ID == first.ID {
			t.Error("two emails share a UUID")
		}
		got, err := db.UserByEmail(ctx, "ALICE@example.com")
		if err != nil || got.ID != first.ID {
			t.Errorf("UserByEmail = %+v, %v", got, err)
		}
		if _, err := db.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserByEmail(unknown) = %v, want ErrNotFound", err)
		}
		if _, err := db.UpsertUser(ctx, "  ", "pin", t1); err == nil {
			t.Error("empty email accepted")
		}
	})
}
