package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

// TestSecretFileModes opens a database and writes a backup under the usual
// umask 022: every file holding secrets is 0600, the data directory 0700.
func TestSecretFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil { // made by hand, world-readable
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gatehouse.db")
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO audit (at, kind) VALUES (1, 'x')`); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "b", "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600, backup: 0o600}
	for p, mode := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %o, want %o", filepath.Base(p), got, mode)
		}
	}
	// A database made 0644 by an older version is tightened on open.
	db.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("reopened database mode %o", fi.Mode().Perm())
	}
}

// TestWALShrinks: after a burst of writes and a checkpoint the WAL file
// is truncated back to the journal size limit.
func TestWALShrinks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blob := strings.Repeat("x", 4096)
	for i := range 2000 {
		if _, err := db.sql.ExecContext(ctx, `INSERT INTO audit (at, kind, detail) VALUES (?, 'x', ?)`, i, blob); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.sql.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO audit (at, kind) VALUES (1, 'y')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 1<<20 {
		t.Fatalf("WAL is %d bytes after checkpoints, limit 1 MiB", fi.Size())
	}
}

type codedErr int

func (c codedErr) Error() string { return "sqlite error" }
func (c codedErr) Code() int     { return int(c) }

func TestFullMarksStorageFull(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{codedErr(13), true},
		{codedErr(13 | 1<<8), true}, // an extended SQLITE_FULL code
		{fmt.Errorf("exec: %w", codedErr(13)), true},
		{errors.New("database or disk is full"), true},
		{codedErr(5), false}, // SQLITE_BUSY
		{errors.New("constraint failed"), false},
	}
	for _, tt := range tests {
		if got := errors.Is(full(tt.err), access.ErrStorageFull); got != tt.want {
			t.Errorf("full(%v) marked %v, want %v", tt.err, got, tt.want)
		}
	}
}
