package proxy

import (
	"context"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestIdentityCache(t *testing.T) {
	ctx := context.Background()
	t.Run("remembers until forgotten", func(t *testing.T) {
		var c identityCache
		groups := []string{"eng"}
		loads := 0
		load := func(context.Context, string) (access.Session, error) {
			loads++
			return access.Session{Identity: access.Identity{Email: "a@example.com", Groups: groups}}, nil
		}
		for range 3 {
			if _, err := c.get(ctx, "n1", load); err != nil {
				t.Fatal(err)
			}
		}
		if loads != 1 {
			t.Fatalf("%d loads for three gets, want 1", loads)
		}
		groups = nil
		c.forget("n1")
		id, _ := c.get(ctx, "n1", load)
		if loads != 2 || len(id.Groups) != 0 {
			t.Fatalf("after forget: %d loads, groups %v; want a fresh load without groups", loads, id.Groups)
		}
	})
	t.Run("a load raced by forget is not kept", func(t *testing.T) {
		var c identityCache
		groups := []string{"eng"}
		loads := 0
		load := func(context.Context, string) (access.Session, error) {
			loads++
			id := access.Identity{Groups: groups}
			if loads == 1 {
				// The user's groups change while this load is under way.
				groups = nil
				c.forget("n1")
			}
			return access.Session{Identity: id}, nil
		}
		c.get(ctx, "n1", load)
		id, _ := c.get(ctx, "n1", load)
		if loads != 2 || len(id.Groups) != 0 {
			t.Fatalf("%d loads, groups %v: the stale load was kept", loads, id.Groups)
		}
	})
}
