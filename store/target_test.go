package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenTarget(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite must exist", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "gatehouse.db")
		_, err := OpenTarget(ctx, Target{Path: path}, true, nil)
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "check data_dir") {
			t.Fatalf("OpenTarget of a missing file = %v, want a not-exist error naming data_dir", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("OpenTarget created %s", path)
		}
		db, err := OpenTarget(ctx, Target{Path: path}, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		db, err = OpenTarget(ctx, Target{Path: path}, true, nil)
		if err != nil {
			t.Fatalf("OpenTarget of the existing file: %v", err)
		}
		if db.Postgres() {
			t.Error("an SQLite target opened as PostgreSQL")
		}
		db.Close()
	})
	t.Run("postgres with a separate password", func(t *testing.T) {
		if testing.Short() {
			t.Skip("needs PostgreSQL")
		}
		dsn := backend{pg: true}.where(t)
		db, err := OpenTarget(ctx, Target{Postgres: true, DSN: dsn, Password: "unused-with-trust"}, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if !db.Postgres() {
			t.Error("a PostgreSQL target opened as SQLite")
		}
	})
	t.Run("an unreachable server is named without the password", func(t *testing.T) {
		tg := Target{Postgres: true, DSN: "postgres://gatehouse@127.0.0.1:1/gatehouse?connect_timeout=2", Password: "hunter2-secret"}
		_, err := OpenTarget(ctx, tg, true, nil)
		if err == nil {
			t.Fatal("OpenTarget of a closed port succeeded")
		}
		if strings.Contains(err.Error(), "hunter2-secret") {
			t.Fatalf("error %q shows the password", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("error %q does not name the server", err)
		}
	})
	t.Run("String hides a DSN password", func(t *testing.T) {
		s := Target{Postgres: true, DSN: "postgres://gatehouse:hunter2@db/gatehouse"}.String()
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "db/gatehouse") {
			t.Fatalf("String = %q", s)
		}
	})
}
