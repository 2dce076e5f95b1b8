package app

import (
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// pebbleCA is Debian's pebble ACME CA plus pebble-challtestsrv as its DNS
// (every name resolves to 127.0.0.1), validating for real: HTTP-01 against
// 127.0.0.1:httpPort and TLS-ALPN-01 against 127.0.0.1:tlsPort.
type pebbleCA struct {
	dirURL     string
	mgmtURL    string
	listenerCA string // PEM file: the root of pebble's own HTTPS listeners
	client     *http.Client
	logs       *syncBuffer
	cmds       []*exec.Cmd
}

// startPebble starts challtestsrv and pebble for an app listening on
// httpPort (HTTP) and tlsPort (HTTPS).
func startPebble(t *testing.T, httpPort, tlsPort int) *pebbleCA {
	t.Helper()
	testkit.NeedPrograms(t, "pebble", "pebble-challtestsrv")
	dir := t.TempDir()
	ca := testkit.NewCA(t)
	listenerCA := filepath.Join(dir, "listener-ca.pem")
	if err := os.WriteFile(listenerCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, _ := ca.Issue(t, dir, "listener", 7, "localhost", "127.0.0.1")
	acmePort, mgmtPort, dnsPort, chalMgmt := freePort(t), freePort(t), freePort(t), freePort(t)
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":                  fmt.Sprintf("127.0.0.1:%d", acmePort),
		"managementListenAddress":        fmt.Sprintf("127.0.0.1:%d", mgmtPort),
		"certificate":                    certFile,
		"privateKey":                     keyFile,
		"httpPort":                       httpPort,
		"tlsPort":                        tlsPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
	}}
	b, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(confFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &pebbleCA{
		dirURL:     fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort),
		mgmtURL:    fmt.Sprintf("https://127.0.0.1:%d", mgmtPort),
		listenerCA: listenerCA,
		client:     &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}},
		logs:       &syncBuffer{},
	}
	dns := exec.Command("pebble-challtestsrv", "-management", fmt.Sprintf("127.0.0.1:%d", chalMgmt),
		"-dns01", fmt.Sprintf("127.0.0.1:%d", dnsPort), "-http01", "", "-https01", "", "-tlsalpn01", "",
		"-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	peb := exec.Command("pebble", "-config", confFile, "-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort))
	// No PEBBLE_VA_ALWAYS_VALID: every challenge is validated for real.
	peb.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	for _, c := range []*exec.Cmd{dns, peb} {
		c.Stdout, c.Stderr = p.logs, p.logs
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		p.cmds = append(p.cmds, c)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("pebble log:\n%s", p.logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := p.client.Get(p.dirURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not come up: %v\n%s", err, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

// stop ends pebble and challtestsrv.
func (p *pebbleCA) stop() {
	for _, c := range p.cmds {
		if c.ProcessState == nil {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
}

// root returns pebble's issuing root, as a pool (it changes every start).
func (p *pebbleCA) root(t *testing.T) (*x509.CertPool, []byte) {
	t.Helper()
	resp, err := p.client.Get(p.mgmtURL + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("pebble root is not PEM: %q", b)
	}
	return pool, b
}

// orders counts the new-order requests pebble has received.
func (p *pebbleCA) orders() int { return strings.Count(p.logs.String(), "/order-plz") }

// acmeConfig is a Gatehouse under mode "acme" against pebble; {{APPS}}
// lists the extra domains of the demo app, {{CHALLENGES}} tls.challenges.
const acmeConfig = `team_domain = "auth.gh.test:{{HTTPS}}"
listen = "127.0.0.1:{{HTTP}}"
listen_https = "127.0.0.1:{{HTTPS}}"
data_dir = "{{DATA}}"
[metrics]
listen = ""
[tls]
mode = "acme"
email = "ops@gh.test"
ca_url = "{{CA}}"
ca_root = "{{CAROOT}}"
challenges = [{{CHALLENGES}}]
[[idps]]
id = "pin"
kind = "otp"
[[apps]]
name = "demo"
domains = ["app.gh.test:{{HTTPS}}"{{APPS}}]
origin = "whoami"
[[apps.policies]]
name = "all"
decision = "allow"
include = [{ everyone = true }]
`

// waitServed waits until the HTTPS port serves a certificate for name that
// chains to roots, and returns the chain.
func waitServed(t *testing.T, e *tlsEnv, name string, roots *x509.CertPool) []*x509.Certificate {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := handshake(e.httpsPort, name, roots, "h2", "http/1.1")
		if err == nil {
			if st.NegotiatedProtocol != "h2" {
				t.Errorf("%s: ALPN %q, want h2", name, st.NegotiatedProtocol)
			}
			if st.Version < tls.VersionTLS12 {
				t.Errorf("%s: TLS version %x", name, st.Version)
			}
			return st.PeerCertificates
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate for %s: %v\n%s", name, err, e.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// served counts the validation requests of challenge type ch that Gatehouse's
// own listeners answered (certmagic logs each one).
func served(e *tlsEnv, ch string) int {
	n := 0
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, `msg="served key authentication`) && strings.Contains(line, "challenge="+ch+" ") {
			n++
		}
	}
	return n
}

// certKeys returns the certificate files certmagic stored in SQLite.
func certKeys(t *testing.T, e *tlsEnv) []string {
	t.Helper()
	return storedCertFiles(t, e.app.Store().SQL())
}

// storedCertFiles returns the names of the certificate files certmagic
// stored in db.
func storedCertFiles(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT key FROM certmagic_data WHERE key LIKE 'certificates/%.crt' ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, filepath.Base(k))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTLSACMEPebble obtains certificates from a real ACME CA with real
// HTTP-01 and TLS-ALPN-01 validation, keeps them in SQLite, and serves them
// after a restart with the CA gone; then signs in over HTTPS in Chromium.
func TestTLSACMEPebble(t *testing.T) {
	httpPort, tlsPort := freePort(t), freePort(t)
	peb := startPebble(t, httpPort, tlsPort)
	roots, rootPEM := peb.root(t)
	data := t.TempDir()
	cfg := func(challenges, apps string) string {
		return strings.NewReplacer("{{CA}}", peb.dirURL, "{{CAROOT}}", peb.listenerCA,
			"{{CHALLENGES}}", challenges, "{{APPS}}", apps).Replace(acmeConfig)
	}
	serials := map[string]string{}

	// Run 1: HTTP-01 only, for the team domain and app.gh.test.
	e := startTLSEnv(t, cfg(`"http-01"`, ""), data, httpPort, tlsPort)
	for _, name := range []string{"auth.gh.test", "app.gh.test"} {
		chain := waitServed(t, e, name, roots)
		if !slices.Contains(chain[0].DNSNames, name) {
			t.Errorf("leaf for %s names %q", name, chain[0].DNSNames)
		}
		serials[name] = chain[0].SerialNumber.String()
	}
	if h, a := served(e, "http-01"), served(e, "tls-alpn-01"); h == 0 || a != 0 {
		t.Errorf("run 1 answered %d HTTP-01 and %d TLS-ALPN-01 validations, want HTTP-01 only", h, a)
	}
	if got, want := certKeys(t, e), []string{"app.gh.test.crt", "auth.gh.test.crt"}; !slices.Equal(got, want) {
		t.Errorf("stored certificates = %q, want %q", got, want)
	}

	t.Run("unknown SNI refused without an order", func(t *testing.T) {
		before := peb.orders()
		if before < 1 {
			t.Fatalf("pebble log shows %d orders; cannot count new ones", before)
		}
		for _, sni := range []string{"evil.gh.test", "two.gh.test", ""} {
			if _, err := handshake(e.httpsPort, sni, nil); !isTLSAlert(err) {
				t.Errorf("SNI %q: err = %v, want a TLS alert", sni, err)
			}
		}
		time.Sleep(time.Second) // an on-demand order would have started by now
		if after := peb.orders(); after != before {
			t.Errorf("pebble saw %d new orders", after-before)
		}
		if got := certKeys(t, e); len(got) != 2 {
			t.Errorf("stored certificates = %q", got)
		}
	})
	t.Run("HTTP redirects to HTTPS", func(t *testing.T) {
		resp, err := newClient(t, true).Get(fmt.Sprintf("http://app.gh.test:%d/x?y=1", httpPort))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := fmt.Sprintf("https://app.gh.test:%d/x?y=1", tlsPort); resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
			t.Errorf("%d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	})
	e.stop(t)

	// Run 2: TLS-ALPN-01 only, adding two.gh.test; the others come from SQLite.
	e = startTLSEnv(t, cfg(`"tls-alpn-01"`, `, "two.gh.test:{{HTTPS}}"`), data, httpPort, tlsPort)
	chain := waitServed(t, e, "two.gh.test", roots)
	serials["two.gh.test"] = chain[0].SerialNumber.String()
	if h, a := served(e, "http-01"), served(e, "tls-alpn-01"); h != 0 || a == 0 {
		t.Errorf("run 2 answered %d HTTP-01 and %d TLS-ALPN-01 validations, want TLS-ALPN-01 only", h, a)
	}
	for _, name := range []string{"auth.gh.test", "app.gh.test"} {
		if got := waitServed(t, e, name, roots)[0].SerialNumber.String(); got != serials[name] {
			t.Errorf("%s: serial %s after restart, want the stored %s", name, got, serials[name])
		}
	}
	if got, want := certKeys(t, e), []string{"app.gh.test.crt", "auth.gh.test.crt", "two.gh.test.crt"}; !slices.Equal(got, want) {
		t.Errorf("stored certificates = %q, want %q", got, want)
	}
	if len(chain) < 2 {
		t.Errorf("served chain has %d certificates, want leaf and intermediate", len(chain))
	}
	e.stop(t)

	// Run 3: the CA is gone; every certificate is still served from SQLite.
	peb.stop()
	if _, err := peb.client.Get(peb.dirURL); err == nil {
		t.Fatal("pebble still answers after stop")
	}
	ordersBefore := peb.orders()
	e = startTLSEnv(t, cfg("", `, "two.gh.test:{{HTTPS}}"`), data, httpPort, tlsPort)
	for _, name := range []string{"auth.gh.test", "app.gh.test", "two.gh.test"} {
		if got := waitServed(t, e, name, roots)[0].SerialNumber.String(); got != serials[name] {
			t.Errorf("%s: serial %s with the CA gone, want the stored %s", name, got, serials[name])
		}
	}
	if strings.Contains(e.logs.String(), "tls: cert obtaining") || peb.orders() != ordersBefore {
		t.Errorf("run 3 tried to obtain a certificate:\n%s", e.logs.String())
	}

	t.Run("sign-in over HTTPS in Chromium", func(t *testing.T) {
		browserSignInHTTPS(t, e, rootPEM)
	})
}

// browserSignInHTTPS signs in with a PIN in Chromium that trusts pebble's
// root through an NSS database, over HTTPS on the TLS port.
func browserSignInHTTPS(t *testing.T, e *tlsEnv, rootPEM []byte) {
	testkit.NeedPrograms(t, "certutil", "chromium")
	home := t.TempDir()
	rootFile := filepath.Join(home, "root.pem")
	if err := os.WriteFile(rootFile, rootPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	nss := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nss, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-d", "sql:" + nss, "-N", "--empty-password"},
		{"-d", "sql:" + nss, "-A", "-t", "C,,", "-n", "pebble", "-i", rootFile},
	} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s (libnss3-tools provides certutil)", args, err, out)
		}
	}
	ctx := newBrowserWith(t, browserOpts{hosts: []string{"*.gh.test"}, home: home})

	appURL := fmt.Sprintf("https://app.gh.test:%d/dashboard", e.httpsPort)
	team := fmt.Sprintf("https://auth.gh.test:%d", e.httpsPort)
	step(t, ctx, "open the app", chromedp.Navigate(appURL), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	if loc := location(t, ctx); !strings.HasPrefix(loc, team+"/cdn-cgi/access/login/") {
		t.Fatalf("sign-in started at %s", loc)
	}
	browserSignInWithPIN(t, ctx, e.mail, "carol@example.com", `#whoami-email`, "")
	if got := text(t, ctx, "#whoami-email"); strings.TrimSpace(got) != "carol@example.com" {
		t.Errorf("whoami shows %q", got)
	}
	if loc := location(t, ctx); loc != appURL {
		t.Errorf("landed on %s", loc)
	}
	screenshot(t, ctx, "tls-whoami.png")
}

// TestTLSACMEPebbleReload: a reload that adds an app domain gets its
// certificate from the CA while serving; a domain the reload removed is
// no longer served, redirected or listed on the admin page.
func TestTLSACMEPebbleReload(t *testing.T) {
	httpPort, tlsPort := freePort(t), freePort(t)
	peb := startPebble(t, httpPort, tlsPort)
	roots, _ := peb.root(t)
	data := t.TempDir()
	text := strings.NewReplacer("{{CA}}", peb.dirURL, "{{CAROOT}}", peb.listenerCA, "{{CHALLENGES}}", `"http-01"`,
		"{{APPS}}", "").Replace(acmeConfig)
	e := startTLSEnv(t, text, data, httpPort, tlsPort)
	for _, name := range []string{"auth.gh.test", "app.gh.test"} {
		waitServed(t, e, name, roots)
	}

	reloaded := strings.Replace(text, `domains = ["app.gh.test:{{HTTPS}}"]`, `domains = ["two.gh.test:{{HTTPS}}"]`, 1)
	reloaded = strings.NewReplacer("{{HTTP}}", fmt.Sprint(httpPort), "{{HTTPS}}", fmt.Sprint(tlsPort),
		"{{DATA}}", filepath.ToSlash(data)).Replace(reloaded)
	cfgFile := filepath.Join(data, "gatehouse.toml")
	if err := os.WriteFile(cfgFile, []byte(reloaded), 0o600); err != nil {
		t.Fatal(err)
	}
	e.app.EnableReload(cfgFile)
	if err := e.app.Reload(t.Context()); err != nil {
		t.Fatalf("reload: %v", err)
	}

	if chain := waitServed(t, e, "two.gh.test", roots); !slices.Contains(chain[0].DNSNames, "two.gh.test") {
		t.Errorf("leaf for two.gh.test names %q", chain[0].DNSNames)
	}
	if _, err := handshake(e.httpsPort, "app.gh.test", nil); !isTLSAlert(err) {
		t.Errorf("removed app.gh.test: handshake err = %v, want a TLS alert", err)
	}
	c := newClient(t, true)
	for host, want := range map[string]int{"app.gh.test": http.StatusNotFound, "two.gh.test": http.StatusPermanentRedirect} {
		resp, err := c.Get(fmt.Sprintf("http://%s:%d/", host, httpPort))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("http://%s/: %d, want %d", host, resp.StatusCode, want)
		}
	}
	var listed []string
	for _, c := range e.app.ops.status.Snapshot().Certs {
		listed = append(listed, c.Domain)
		if c.NotAfter.IsZero() {
			t.Errorf("%s listed without an expiry", c.Domain)
		}
	}
	if want := []string{"auth.gh.test", "two.gh.test"}; !slices.Equal(listed, want) {
		t.Errorf("status lists %q, want %q", listed, want)
	}
}
