package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestAppAUD(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, path := be.openTest(t)
		ctx := context.Background()
		aud, err := db.AppAUD(ctx, "wiki", "")
		if err != nil {
			t.Fatal(err)
		}
		if !validAUD(aud) {
			t.Fatalf("generated AUD %q is not 64 lowercase hex", aud)
		}
		again, err := db.AppAUD(ctx, "wiki", "")
		if err != nil || again != aud {
			t.Errorf("second AppAUD = %q, %v; want %q", again, err, aud)
		}
		other, err := db.AppAUD(ctx, "grafana", "")
		if err != nil || other == aud {
			t.Errorf("other app AUD = %q, %v", other, err)
		}

		db = be.reopen(t, db, path)
		afterReopen, err := db.AppAUD(ctx, "wiki", "")
		if err != nil || afterReopen != aud {
			t.Errorf("AUD after reopen = %q, %v; want %q", afterReopen, err, aud)
		}

		pinned := strings.Repeat("ab", 32)
		got, err := db.AppAUD(ctx, "wiki", pinned)
		if err != nil || got != pinned {
			t.Errorf("pinned AppAUD = %q, %v", got, err)
		}
		got, err = db.AppAUD(ctx, "wiki", "")
		if err != nil || got != pinned {
			t.Errorf("AppAUD after pin = %q, %v; want the pinned value", got, err)
		}

		bad := []struct{ name, aud string }{
			{"short", "abc"},
			{"upper", strings.Repeat("AB", 32)},
			{"not hex", strings.Repeat("zz", 32)},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := db.AppAUD(ctx, "wiki", tt.aud); !errors.Is(err, ErrBadAUD) {
					t.Errorf("AppAUD(%q) = %v, want ErrBadAUD", tt.aud, err)
				}
			})
		}
	})
}
