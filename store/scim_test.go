package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestSCIMUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

		a, err := db.CreateSCIMUser(ctx, SCIMUser{UserName: "Alice@Example.com", ExternalID: "ext-A", Active: true, Attributes: []byte(`{"locale":"en"}`)}, now)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == "" || !a.Created.Equal(now) {
			t.Fatalf("created: %+v", a)
		}
		if _, err := db.CreateSCIMUser(ctx, SCIMUser{UserName: "alice@example.com"}, now); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate userName in another case: %v, want ErrConflict", err)
		}
		b, _ := db.CreateSCIMUser(ctx, SCIMUser{UserName: "bob@example.com", Active: true}, now.Add(time.Second))

		t.Run("filters", func(t *testing.T) {
			for _, tc := range []struct {
				f    SCIMFilter
				want []string
			}{
				{SCIMFilter{}, []string{a.ID, b.ID}},
				{SCIMFilter{Attr: "userName", Value: "ALICE@example.com"}, []string{a.ID}},
				{SCIMFilter{Attr: "externalId", Value: "ext-A"}, []string{a.ID}},
				{SCIMFilter{Attr: "externalId", Value: "EXT-A"}, nil},
				{SCIMFilter{Attr: "id", Value: b.ID}, []string{b.ID}},
			} {
				list, total, err := db.SCIMUsers(ctx, tc.f, 0, -1)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, u := range list {
					ids = append(ids, u.ID)
				}
				if !slices.Equal(ids, tc.want) || total != len(tc.want) {
					t.Errorf("%+v: %v (total %d), want %v", tc.f, ids, total, tc.want)
				}
			}
			if _, _, err := db.SCIMUsers(ctx, SCIMFilter{Attr: "title", Value: "x"}, 0, -1); err == nil {
				t.Error("a filter on an attribute without a column was accepted")
			}
			page, total, _ := db.SCIMUsers(ctx, SCIMFilter{}, 1, 1)
			if len(page) != 1 || page[0].ID != b.ID || total != 2 {
				t.Errorf("page 2 of 1: %v, total %d", page, total)
			}
		})

		t.Run("update", func(t *testing.T) {
			before, after, err := db.UpdateSCIMUser(ctx, a.ID, now.Add(time.Hour), func(u *SCIMUser) error {
				u.Active = false
				u.ID = "forged"
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !before.Active || after.Active || after.ID != a.ID || !after.Updated.Equal(now.Add(time.Hour)) {
				t.Fatalf("before %+v after %+v", before, after)
			}
			if _, _, err := db.UpdateSCIMUser(ctx, a.ID, now, func(u *SCIMUser) error { u.UserName = "BOB@example.com"; return nil }); !errors.Is(err, ErrConflict) {
				t.Fatalf("rename onto a taken userName: %v", err)
			}
			if _, _, err := db.UpdateSCIMUser(ctx, "nope", now, func(*SCIMUser) error { return nil }); !errors.Is(err, ErrNotFound) {
				t.Fatalf("unknown id: %v", err)
			}
			got, _ := db.SCIMUser(ctx, a.ID)
			if got.Active || got.UserName != "Alice@Example.com" {
				t.Fatalf("stored: %+v", got)
			}
		})

		t.Run("directory", func(t *testing.T) {
			g, err := db.CreateSCIMGroup(ctx, SCIMGroup{DisplayName: "eng", Members: []SCIMMember{{ID: a.ID}, {ID: b.ID}, {ID: "unknown"}}}, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Members) != 2 {
				t.Fatalf("members %v: unknown ids are skipped", g.Members)
			}
			db.CreateSCIMGroup(ctx, SCIMGroup{DisplayName: "all", Members: []SCIMMember{{ID: b.ID}}}, now)
			d, err := db.SCIMDirectoryOf(ctx, "BOB@example.com")
			if err != nil || !d.Known || !d.Active || !slices.Equal(d.Groups, []string{"all", "eng"}) {
				t.Fatalf("bob: %+v %v", d, err)
			}
			if d, _ := db.SCIMDirectoryOf(ctx, "alice@example.com"); !d.Known || d.Active {
				t.Fatalf("deactivated alice: %+v", d)
			}
			if d, _ := db.SCIMDirectoryOf(ctx, "carol@example.com"); d.Known {
				t.Fatalf("unknown carol: %+v", d)
			}
			// Deleted: known, inactive, in no group, until provisioned again.
			if _, err := db.DeleteSCIMUser(ctx, b.ID, now); err != nil {
				t.Fatal(err)
			}
			if d, _ := db.SCIMDirectoryOf(ctx, "bob@example.com"); !d.Known || d.Active || len(d.Groups) != 0 {
				t.Fatalf("deleted bob: %+v", d)
			}
			if g, _ := db.SCIMGroup(ctx, g.ID); len(g.Members) != 1 {
				t.Fatalf("deleted bob is still a member: %v", g.Members)
			}
			if _, err := db.DeleteSCIMUser(ctx, b.ID, now); !errors.Is(err, ErrNotFound) {
				t.Fatalf("delete again: %v", err)
			}
			if _, err := db.CreateSCIMUser(ctx, SCIMUser{UserName: "bob@example.com", Active: true}, now); err != nil {
				t.Fatal(err)
			}
			if d, _ := db.SCIMDirectoryOf(ctx, "bob@example.com"); !d.Known || !d.Active {
				t.Fatalf("re-provisioned bob: %+v", d)
			}
		})
	})
}

func TestSCIMGroups(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		u1, _ := db.CreateSCIMUser(ctx, SCIMUser{UserName: "u1@example.com", Active: true}, now)
		u2, _ := db.CreateSCIMUser(ctx, SCIMUser{UserName: "u2@example.com", Active: true}, now)
		g, err := db.CreateSCIMGroup(ctx, SCIMGroup{DisplayName: "Engineering", ExternalID: "x", Members: []SCIMMember{{ID: u1.ID}}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if list, total, _ := db.SCIMGroups(ctx, SCIMFilter{Attr: "displayName", Value: "engineering"}, 0, -1); total != 1 || list[0].ID != g.ID || list[0].Members[0].UserName != "u1@example.com" {
			t.Fatalf("filter displayName (any case): %+v", list)
		}
		before, after, err := db.UpdateSCIMGroup(ctx, g.ID, now.Add(time.Minute), func(g *SCIMGroup) error {
			g.Members = append(g.Members, SCIMMember{ID: u2.ID})
			g.DisplayName = "Eng"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(before.Members) != 1 || len(after.Members) != 2 || after.DisplayName != "Eng" || after.ExternalID != "x" {
			t.Fatalf("before %+v after %+v", before, after)
		}
		stored, _ := db.SCIMGroup(ctx, g.ID)
		if len(stored.Members) != 2 || stored.DisplayName != "Eng" {
			t.Fatalf("stored %+v", stored)
		}
		boom := errors.New("boom")
		if _, _, err := db.UpdateSCIMGroup(ctx, g.ID, now, func(g *SCIMGroup) error { g.Members = nil; return boom }); !errors.Is(err, boom) {
			t.Fatalf("failing update: %v", err)
		}
		if stored, _ := db.SCIMGroup(ctx, g.ID); len(stored.Members) != 2 {
			t.Fatal("a failed update was written")
		}
		del, err := db.DeleteSCIMGroup(ctx, g.ID)
		if err != nil || len(del.Members) != 2 {
			t.Fatalf("delete: %+v %v", del, err)
		}
		if _, err := db.SCIMGroup(ctx, g.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted group: %v", err)
		}
		if d, _ := db.SCIMDirectoryOf(ctx, "u1@example.com"); len(d.Groups) != 0 {
			t.Fatalf("groups after the group's deletion: %v", d.Groups)
		}
	})
}

// BenchmarkSCIMDirectoryOf measures what provisioning adds to reading a
// session's identity: the SCIM lookup of its user and groups.
func BenchmarkSCIMDirectoryOf(b *testing.B) {
	path := b.TempDir() + "/gatehouse.db"
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Now()
	var ids []SCIMMember
	for i := range 1000 {
		u, err := db.CreateSCIMUser(ctx, SCIMUser{UserName: fmt.Sprintf("user%d@example.com", i), Active: true}, now)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, SCIMMember{ID: u.ID})
	}
	for i := range 20 {
		if _, err := db.CreateSCIMGroup(ctx, SCIMGroup{DisplayName: fmt.Sprintf("group%d", i), Members: ids[i*45 : i*45+100]}, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := db.SCIMDirectoryOf(ctx, fmt.Sprintf("user%d@example.com", i%1000)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSCIMUserNameFolding: a userName is the user who signs in with that
// email as access.NormalizeEmail gives it, in any case (non-ASCII letters
// included) and with surrounding spaces, for the directory, the filters,
// uniqueness and the memory of deleted users.
func TestSCIMUserNameFolding(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		u, err := db.CreateSCIMUser(ctx, SCIMUser{UserName: " ÅSA@Example.com ", Active: false}, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"åsa@example.com", "ÅSA@EXAMPLE.COM", " åsa@example.com\t"} {
			if d, err := db.SCIMDirectoryOf(ctx, email); err != nil || !d.Known || d.Active {
				t.Errorf("directory of %q: %+v, %v; want a known, inactive user", email, d, err)
			}
		}
		if _, err := db.CreateSCIMUser(ctx, SCIMUser{UserName: "åsa@EXAMPLE.com", Active: true}, now); !errors.Is(err, ErrConflict) {
			t.Errorf("the same userName in another case: %v, want ErrConflict", err)
		}
		if list, _, err := db.SCIMUsers(ctx, SCIMFilter{Attr: "userName", Value: "ÅSA@example.COM"}, 0, -1); err != nil || len(list) != 1 {
			t.Errorf("filter userName eq ÅSA@example.COM: %v, %v; want the user", list, err)
		}
		if _, _, err := db.UpdateSCIMUser(ctx, u.ID, now, func(u *SCIMUser) error { u.UserName = "ÉVE@example.com"; return nil }); err != nil {
			t.Fatal(err)
		}
		if d, _ := db.SCIMDirectoryOf(ctx, "éve@example.com"); !d.Known {
			t.Error("a userName renamed to ÉVE@example.com is not the user éve@example.com")
		}
		if _, err := db.DeleteSCIMUser(ctx, u.ID, now); err != nil {
			t.Fatal(err)
		}
		if d, _ := db.SCIMDirectoryOf(ctx, "éve@example.com"); !d.Known || d.Active {
			t.Errorf("deleted ÉVE@example.com: %+v, want known and inactive", d)
		}
	})
}
