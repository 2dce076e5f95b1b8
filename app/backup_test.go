package app

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/store"
)

func TestBackupDuringSignInLoad(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	db := env.app.Store()
	ctx := context.Background()
	u, err := db.UpsertUser(ctx, "ann@example.com", "pin", time.Now())
	if err != nil {
		t.Fatal(err)
	}

	// Writers create sessions as sign-ins do until told to stop; every
	// session whose CreateSession returned is acknowledged.
	var (
		mu    sync.Mutex
		acked []string
		stop  atomic.Bool
		wg    sync.WaitGroup
		seq   atomic.Int64
	)
	for w := range 4 {
		wg.Go(func() {
			for !stop.Load() {
				now := time.Now()
				nonce := fmt.Sprintf("w%dn%013d", w, seq.Add(1))
				err := db.CreateSession(ctx, access.Session{
					Nonce:     nonce,
					Identity:  access.Identity{UserID: u.ID, Email: "ann@example.com"},
					CreatedAt: now, ExpiresAt: now.Add(time.Hour),
				})
				if err != nil {
					t.Errorf("create session: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, nonce)
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "gatehouse.toml")
	text := strings.NewReplacer("{{PORT}}", fmt.Sprint(env.port), "{{DATA}}", filepath.ToSlash(filepath.Dir(dbFile(t, env)))).Replace(e2eConfig)
	if err := os.WriteFile(cfgFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "backup.db")
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"backup", "-config", cfgFile, out}, &stdout, &stderr)
	time.Sleep(100 * time.Millisecond) // the load goes on during and after the copy
	stop.Store(true)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr.String())
	}
	if len(before) < 10 {
		t.Fatalf("only %d sessions before the backup: no load", len(before))
	}

	// Restore as documented: copy the file over gatehouse.db (no -wal/-shm).
	restoreDir := t.TempDir()
	restored := filepath.Join(restoreDir, "gatehouse.db")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restored, b, 0o600); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", store.DSN(restored))
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	raw.Close()

	rdb, err := store.Open(ctx, restored, nil)
	if err != nil {
		t.Fatalf("restored database does not open: %v", err)
	}
	defer rdb.Close()
	for _, nonce := range before {
		if _, err := rdb.Session(ctx, nonce); err != nil {
			t.Fatalf("session %s acknowledged before the backup is missing: %v", nonce, err)
		}
	}
	t.Logf("%d sessions acknowledged before the backup, all present", len(before))
}

// dbFile is the database path of env.
func dbFile(t *testing.T, env *testEnv) string {
	t.Helper()
	return filepath.Join(env.app.cfg.DataDir, "gatehouse.db")
}
