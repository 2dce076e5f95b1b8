package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// TestStoreCopyKeepsSignIns: users sign in to a Gatehouse on SQLite, one
// of them is revoked, the serve stops, `gatehouse store copy` moves the
// database into PostgreSQL, and a Gatehouse started on PostgreSQL (same
// address, so the same issuer, and an empty data_dir) lets the same
// browser in without a new sign-in, keeps the revoked user out, and
// publishes the same signing keys.
func TestStoreCopyKeepsSignIns(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnvWith(t, e2eConfig, dataDir, Options{})
	alice, bob := newClient(t, false), newClient(t, false)
	for email, c := range map[string]*http.Client{"alice@example.com": alice, "bob@example.com": bob} {
		resp := env.signInWithPIN(t, c, env.url("app", "/"), email)
		if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, email) {
			t.Fatalf("sign-in of %s on SQLite: %d %s", email, resp.StatusCode, body)
		}
	}
	cfgSQLite := writeConfigFile(t, e2eConfig, env, dataDir)
	runCLI(t, "revoke", "-config", cfgSQLite, "--user", "bob@example.com")
	certsBefore := certsBody(t, env.team)
	port := env.port
	env.stop(t)

	pgTmpl := strings.Replace(e2eConfig, "[[apps]]", strings.ReplaceAll(clusterStore, "{{DSN}}", testkit.PostgresDSN(t))+"\n[[apps]]", 1)
	cfgPG := writeConfigFile(t, pgTmpl, env, dataDir)
	if out := runCLI(t, "store", "copy", "-config", cfgPG); !strings.Contains(out, "sessions") {
		t.Fatalf("store copy printed:\n%s", out)
	}

	pg := startEnvAt(t, pgTmpl, t.TempDir(), Options{}, port)
	if got := certsBody(t, pg.team); got != certsBefore {
		t.Errorf("signing keys on PostgreSQL:\n%s\nwant those of SQLite:\n%s", got, certsBefore)
	}
	alice.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := alice.Get(pg.url("app", "/after-copy?format=json"))
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	var who whoami
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &who) != nil || who.Email != "alice@example.com" {
		t.Fatalf("alice after the copy: %d %s", resp.StatusCode, body)
	}
	bob.CheckRedirect = alice.CheckRedirect
	resp, err = bob.Get(pg.url("app", "/after-copy"))
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode == http.StatusOK {
		t.Fatalf("bob, revoked before the copy, let in on PostgreSQL: %s", body)
	}
	if n := len(pg.mail.pins["alice@example.com"]); n != 0 {
		t.Errorf("the PostgreSQL node sent alice %d PINs", n)
	}
}
