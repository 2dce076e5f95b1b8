package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

// adminConfirm submits, on the admin page at pagePath, the form holding
// field=value and then its confirmation, as an admin's browser would, and
// returns the page answered.
func adminConfirm(t *testing.T, env *testEnv, c *http.Client, pagePath, field, value string, extra map[string]string) string {
	t.Helper()
	resp, err := c.Get(env.team + pagePath)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	var form string
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		if strings.Contains(m[0], `name="`+field+`" value="`+value+`"`) && (extra["mode"] == "" || strings.Contains(m[0], `value="`+extra["mode"]+`"`)) {
			form = m[0]
			break
		}
	}
	if form == "" {
		t.Fatalf("no form with %s=%s on %s:\n%s", field, value, pagePath, page)
	}
	status, confirm := adminPost(t, env, c, form, field, extra)
	if status != http.StatusOK {
		t.Fatalf("%s: %d\n%s", pagePath, status, confirm)
	}
	status, done := adminPost(t, env, c, confirm, "confirm", nil)
	if status != http.StatusOK {
		t.Fatalf("%s, confirmed: %d\n%s", pagePath, status, done)
	}
	return done
}

// TestOneLedger: the same revocations made from the admin page, the
// command line and the API each write one revoked audit row and each move
// gatehouse_revocations_total by one (counted from the revocation log);
// a sign-out and a service-token disable do not count as revocations; a
// key rotation on the command line is audited and counted.
func TestOneLedger(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnv(t, e2eConfig, dataDir)
	cfgPath := writeConfigFile(t, e2eConfig, env, dataDir)
	ops, _ := createAPITokenCLI(t, cfgPath, "ops", "read,revoke,service-tokens")

	admin := newClient(t, false)
	resp := env.signInWithPIN(t, admin, env.team+"/admin", "admin@example.com")
	if readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin sign-in: %d", resp.StatusCode)
	}
	users := map[string]*http.Client{}
	for _, email := range []string{"u1@example.com", "u2@example.com", "u3@example.com", "leaver@example.com"} {
		users[email] = newClient(t, false)
		signInBoth(t, env, users[email], email)
	}
	// A sign-out writes to the revocation log without a revoker.
	resp = get(t, users["leaver@example.com"], env.url("app", access.PathLogout), false)
	readBody(t, resp)

	revocations := func() float64 {
		v, ok := metricValue(scrape(t, env.app), "gatehouse_revocations_total", map[string]string{})
		if !ok {
			t.Fatal("gatehouse_revocations_total missing")
		}
		return v
	}
	var signOuts int
	if err := env.app.Store().SQL().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM revocations WHERE by = ''`).Scan(&signOuts); err != nil || signOuts != 1 {
		t.Fatalf("sign-outs in the revocation log: %d, %v; want 1", signOuts, err)
	}
	if got := revocations(); got != 0 {
		t.Fatalf("revocations after sign-ins and a sign-out = %v, want 0", got)
	}

	steps := []struct {
		path   string
		do     func()
		detail string // the one audit detail every path writes
	}{
		{"admin page", func() {
			adminConfirm(t, env, admin, "/admin/users", "email", "u1@example.com", nil)
		}, "Revoked 1 session of u1@example.com"},
		{"command line", func() {
			runCLI(t, "revoke", "-config", cfgPath, "--user", "u2@example.com")
		}, "Revoked 1 session of u2@example.com"},
		{"API", func() {
			if r := env.callAPI(t, "POST", "users/revoke", ops, map[string]string{"email": "u3@example.com"}); r.Status != http.StatusOK {
				t.Fatalf("API revoke: %d %s", r.Status, r.Raw)
			}
		}, "Revoked 1 session of u3@example.com"},
		{"admin page, app", func() {
			adminConfirm(t, env, admin, "/admin/apps", "app", "demo", map[string]string{"mode": "soft"})
		}, "Tokens of demo will be re-issued silently (soft)"},
		{"command line, app", func() {
			runCLI(t, "revoke", "-config", cfgPath, "--app", "demo", "--soft")
		}, "Tokens of demo will be re-issued silently (soft)"},
		{"API, app", func() {
			if r := env.callAPI(t, "POST", "apps/revoke", ops, map[string]string{"app": "demo", "mode": "soft"}); r.Status != http.StatusOK {
				t.Fatalf("API revoke app: %d %s", r.Status, r.Raw)
			}
		}, "Tokens of demo will be re-issued silently (soft)"},
	}
	for i, st := range steps {
		before := env.auditCount(t, access.EventRevoked)
		st.do()
		if got := revocations(); got != float64(i+1) {
			t.Errorf("%s: gatehouse_revocations_total = %v, want %d", st.path, got, i+1)
		}
		if n := env.auditCount(t, access.EventRevoked); n != before+1 {
			t.Errorf("%s: %d revoked audit rows added, want 1", st.path, n-before)
		}
		var detail string
		if err := env.app.Store().SQL().QueryRowContext(context.Background(),
			`SELECT detail FROM audit WHERE kind = ? ORDER BY id DESC LIMIT 1`, access.EventRevoked).Scan(&detail); err != nil {
			t.Fatal(err)
		}
		if detail != st.detail {
			t.Errorf("%s: audit detail %q, want %q (the same from every path)", st.path, detail, st.detail)
		}
	}

	// A service-token disable is audited as revoked but is no revocation.
	r := env.callAPI(t, "POST", "service-tokens", ops, map[string]string{"name": "bot"})
	id, _ := r.Body["client_id"].(string)
	runCLI(t, "service-token", "disable", "-config", cfgPath, id)
	if got := revocations(); got != float64(len(steps)) {
		t.Errorf("after a service-token disable: revocations = %v, want %d", got, len(steps))
	}
	if n := env.auditCount(t, access.EventServiceToken); n != 1 {
		t.Errorf("%d service-token audit rows (create through the API), want 1", n)
	}

	// Key rotations: the command line's is audited and counted by the serve.
	rotations := func(trigger string) float64 {
		v, ok := metricValue(scrape(t, env.app), "gatehouse_key_rotations_total", map[string]string{"trigger": trigger})
		if !ok {
			t.Fatalf("gatehouse_key_rotations_total{trigger=%q} missing", trigger)
		}
		return v
	}
	if got := rotations(access.KeyRotationManual); got != 0 {
		t.Fatalf("rotations before = %v", got)
	}
	runCLI(t, "keys", "rotate", "-config", cfgPath)
	if _, err := env.app.RotateKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rotations(access.KeyRotationManual); got != 2 {
		t.Errorf("manual rotations after the CLI's and the serve's = %v, want 2", got)
	}
	if got := rotations(access.KeyRotationSchedule); got != 0 {
		t.Errorf("scheduled rotations = %v, want 0", got)
	}
	if n := env.auditCount(t, access.EventKeyRotated); n != 2 {
		t.Errorf("%d key-rotated audit rows, want 2", n)
	}
}
