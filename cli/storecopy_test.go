package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
	"github.com/gatehouse-dev/gatehouse/store"
)

// storeCopyConfig writes a configuration on data dir dir whose [store] is
// the backend given by storeTOML.
func storeCopyConfig(t *testing.T, dir, storeTOML string) string {
	t.Helper()
	path := filepath.Join(dir, "gatehouse.toml")
	cfg := "team_domain = \"auth.example.com\"\ndata_dir = \"" + filepath.Join(dir, "data") + "\"\n" + storeTOML +
		"[tls]\nmode = \"off\"\n[[idps]]\nid = \"pin\"\nkind = \"otp\"\n" +
		"[[apps]]\nname = \"demo\"\ndomains = [\"demo.example.com\"]\norigin = \"http://127.0.0.1:9\"\n" +
		"  [[apps.policies]]\n  name = \"all\"\n  decision = \"allow\"\n  include = [{ everyone = true }]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStoreCopy(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	src, err := store.Open(ctx, filepath.Join(dir, "data", "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	u, err := src.UpsertUser(ctx, "ann@example.com", "pin", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.CreateSession(ctx, access.Session{Nonce: "nonce-1", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		Identity: access.Identity{UserID: u.ID, Email: u.Email, IdP: access.IdP{ID: "pin", Type: "onetimepin"}}}); err != nil {
		t.Fatal(err)
	}
	src.Close()

	t.Run("refused without a postgres store", func(t *testing.T) {
		code, _, errOut := runMainOut("store", "copy", "-config", storeCopyConfig(t, dir, ""))
		if code == 0 || !strings.Contains(errOut, `backend = "postgres"`) {
			t.Fatalf("exit %d, %s", code, errOut)
		}
	})
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	dsn := testkit.PostgresDSN(t)
	cfg := storeCopyConfig(t, dir, "[store]\nbackend = \"postgres\"\ndsn = \""+dsn+"\"\n")
	code, out, errLog := runMainOut("store", "copy", "-config", cfg)
	if code != 0 {
		t.Fatalf("store copy: exit %d\n%s%s", code, out, errLog)
	}
	// The store's log (the migrations applied to the empty database) goes
	// to the command's standard error, not the process's.
	if !strings.Contains(errLog, "applied migration") {
		t.Errorf("standard error lacks the applied migrations:\n%s", errLog)
	}
	for _, want := range []string{"sessions         1", "users            1", "next: stop gatehouse serve on SQLite"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	dst, err := store.OpenPostgres(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if s, err := dst.Session(ctx, "nonce-1"); err != nil || s.Identity.Email != "ann@example.com" {
		t.Fatalf("session on PostgreSQL = %+v, %v", s, err)
	}
	code, _, errOut := runMainOut("store", "copy", "-config", cfg)
	if code == 0 || !strings.Contains(errOut, "not empty") {
		t.Fatalf("a second copy: exit %d, %s", code, errOut)
	}
}
