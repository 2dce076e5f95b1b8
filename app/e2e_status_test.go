package app

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/certs"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// adminOverview signs c in as the admin on first use and returns the
// overview page's HTML, unescaped.
func adminOverview(t *testing.T, env *testEnv, c *http.Client) string {
	t.Helper()
	resp, err := c.Get(env.team + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Request.URL.Path != "/admin" {
		readBody(t, resp)
		resp = env.signInWithPIN(t, c, env.team+"/admin", "admin@example.com")
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin" {
		t.Fatalf("admin overview: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	return html.UnescapeString(body)
}

// systemRow returns the System panel's table row of a certificate or a
// node, by its domain or name.
func systemRow(t *testing.T, page, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, "<code>"+name+"</code>")
	if !ok {
		t.Fatalf("no row for %s in:\n%s", name, page)
	}
	row, _, _ := strings.Cut(rest, "</tr>")
	return row
}

// TestStatusCertFailedOnOverview: a failed renewal, as the certificate
// manager reports it (certs turns certmagic's "cert_failed" into this
// text), shows on the admin overview as failing with its error text; a
// later success turns the badge back to ok.
func TestStatusCertFailedOnOverview(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	c := newClient(t, false)
	page := adminOverview(t, env, c)
	if !strings.Contains(page, "System") || !strings.Contains(page, `<span class="badge">off</span>`) {
		t.Fatalf("overview lacks the System panel with tls mode off:\n%s", page)
	}

	const msg = "acme: order failed: urn:ietf:params:acme:error:connection: no route to host"
	env.app.certStatus(certs.Status{Name: "app.example.com", At: time.Now(), Error: "renewal: [app.example.com] " + msg})
	row := systemRow(t, adminOverview(t, env, c), "app.example.com")
	for _, want := range []string{"failing", "renewal: [app.example.com] " + msg} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %q: %s", want, row)
		}
	}

	env.app.certStatus(certs.Status{Name: "app.example.com", At: time.Now()})
	row = systemRow(t, adminOverview(t, env, c), "app.example.com")
	if strings.Contains(row, "failing") || !strings.Contains(row, `badge ok`) {
		t.Errorf("after a successful renewal the row is %s", row)
	}
}

// TestStatusReloadOnOverview: a reload of a broken file shows its error
// (with the key at fault) on the overview; a good one then shows ok.
func TestStatusReloadOnOverview(t *testing.T) {
	dir := t.TempDir()
	env := startEnv(t, e2eConfig, dir)
	cfgFile := filepath.Join(dir, "gatehouse.toml")
	env.app.EnableReload(cfgFile)
	c := newClient(t, false)
	if page := adminOverview(t, env, c); !strings.Contains(page, "Last config reload: <span class=\"muted\">none since start") {
		t.Fatalf("overview before any reload:\n%s", page)
	}

	broken := strings.Replace(e2eConfig, `decision = "allow"`, `decision = "maybe"`, 1)
	good := strings.NewReplacer("{{PORT}}", fmt.Sprint(env.port), "{{DATA}}", filepath.ToSlash(dir))
	if err := os.WriteFile(cfgFile, []byte(good.Replace(broken)), 0o600); err != nil {
		t.Fatal(err)
	}
	err := env.app.Reload(context.Background())
	if err == nil {
		t.Fatal("reload of a broken file succeeded")
	}
	page := adminOverview(t, env, c)
	_, reload, _ := strings.Cut(page, "Last config reload:")
	reload, _, _ = strings.Cut(reload, "</p>")
	for _, want := range []string{"failed", "maybe", "decision", "still in force"} {
		if !strings.Contains(reload, want) {
			t.Errorf("reload line lacks %q: %s", want, reload)
		}
	}

	if err := os.WriteFile(cfgFile, []byte(good.Replace(e2eConfig)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := env.app.Reload(context.Background()); err != nil {
		t.Fatalf("reload of the good file: %v", err)
	}
	_, reload, _ = strings.Cut(adminOverview(t, env, c), "Last config reload:")
	reload, _, _ = strings.Cut(reload, "</p>")
	if !strings.Contains(reload, "badge ok") || strings.Contains(reload, "failed") {
		t.Errorf("reload line after a good reload: %s", reload)
	}
}

// TestTLSFilesStatusExpiryMetric: in mode "files" the expiry metric
// reports each configured domain's certificate NotAfter, and the status
// lists them as ok.
func TestTLSFilesStatusExpiryMetric(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t)
	authCrt, _, _ := ca.Issue(t, dir, "auth", 100, "auth.gh.test")
	wildCrt, _, _ := ca.Issue(t, dir, "wild", 200, "*.gh.test")
	e := startTLSEnv(t, filesConfig, dir, freePort(t), freePort(t))

	fams := scrape(t, e.app)
	tests := []struct {
		name   string
		domain string
		file   string
	}{
		{name: "team domain", domain: "auth.gh.test", file: authCrt},
		{name: "wildcard", domain: "*.gh.test", file: wildCrt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := notAfterOf(t, tt.file)
			got, ok := metricValue(fams, "gatehouse_certificate_expiry_timestamp_seconds", map[string]string{"domain": tt.domain})
			if !ok {
				t.Fatalf("no expiry sample for %s", tt.domain)
			}
			if int64(got) != want.Unix() {
				t.Errorf("expiry of %s = %v, want %v", tt.domain, int64(got), want.Unix())
			}
		})
	}

	st := e.app.adminStatus(context.Background())
	if st.TLSMode != "files" || len(st.Certs) != 2 {
		t.Fatalf("status = %+v", st)
	}
	for _, c := range st.Certs {
		if c.Failing() || c.LastOKAt.IsZero() || c.NotAfter.IsZero() {
			t.Errorf("certificate %s: %+v", c.Domain, c)
		}
	}
}

// notAfterOf reads the NotAfter of the PEM certificate in file.
func notAfterOf(t *testing.T, file string) time.Time {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", file)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.NotAfter
}
