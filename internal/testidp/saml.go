package testidp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// sspWebRoot is where Debian's simplesamlphp package installs its web root.
const sspWebRoot = "/usr/share/simplesamlphp/www"

// SAML is a running SimpleSAMLphp IdP (config from scripts/e2e/saml).
//
// Its users are alice:alicepass (uid alice, email alice@example.com, groups
// admins and devs, displayName Alice) and bob:bobpass (bob@example.com,
// groups devs). Attributes use the basic name format; the NameID is the
// email in the emailAddress format.
type SAML struct {
	// MetadataURL serves the IdP's metadata; it is also the entity ID.
	MetadataURL string
	// EntityID is the IdP's entity ID.
	EntityID string
	// SSOURL is the single sign-on endpoint (HTTP-Redirect and HTTP-POST).
	SSOURL string
	// Dir holds the IdP's config, metadata, cert, log, data and tmp
	// directories; errors are logged to Dir/log/simplesamlphp.log.
	Dir string
}

// emptySPMetadata is the SP metadata file until SetSPMetadata writes one.
const emptySPMetadata = `<?xml version="1.0"?>
<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"></md:EntitiesDescriptor>
`

// phpListeningRe finds the base URL in the start-up line of `php -S`.
var phpListeningRe = regexp.MustCompile(`Development Server \((http://127\.0\.0\.1:[0-9]+)\) started`)

// StartSAML writes a SimpleSAMLphp configuration into a temporary directory,
// generates the IdP's signing key and certificate, runs `php -S` on
// 127.0.0.1:port (0: a free port, which the URLs name), waits for the
// metadata URL to answer, and stops the server when the test ends. Register
// the SP with SetSPMetadata before a login.
func StartSAML(t testing.TB, port int) *SAML {
	t.Helper()
	testkit.NeedPrograms(t, "php")
	testkit.NeedPath(t, sspWebRoot, "simplesamlphp")
	src := filepath.Join(RepoRoot(t), "scripts", "e2e", "saml")
	dir := t.TempDir()
	for _, sub := range []string{"config", "metadata", "cert", "log", "data", "tmp", "sessions"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatalf("testidp: saml dir: %v", err)
		}
	}
	for _, f := range []string{"config/config.php", "config/authsources.php", "metadata/saml20-idp-hosted.php"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(dir, f))
	}
	writeIdPKeyPair(t, filepath.Join(dir, "cert"))

	s := &SAML{Dir: dir}
	s.SetSPMetadata(t, []byte(emptySPMetadata))

	cmd := exec.Command("php",
		"-d", "session.save_path="+filepath.Join(dir, "sessions"),
		"-d", "display_errors=stderr",
		"-S", fmt.Sprintf("127.0.0.1:%d", port),
		"-t", sspWebRoot)
	cmd.Dir = dir
	// Without SSP_BASEURL the configuration names the port php listens on.
	cmd.Env = append(os.Environ(), "SIMPLESAMLPHP_CONFIG_DIR="+filepath.Join(dir, "config"))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if port != 0 {
		cmd.Env = append(cmd.Env, "SSP_BASEURL="+base+"/")
	}
	p := startProcess(t, "simplesamlphp", cmd)
	if port == 0 {
		base = p.waitOutput(t, phpListeningRe)
	}
	s.MetadataURL = base + "/saml2/idp/metadata.php"
	s.EntityID = s.MetadataURL
	s.SSOURL = base + "/saml2/idp/SSOService.php"
	t.Cleanup(func() {
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "log", "simplesamlphp.log")); err == nil {
				t.Logf("testidp: simplesamlphp.log:\n%s", log)
			}
		}
	})
	p.waitReady(t, s.MetadataURL)
	return s
}

// SetSPMetadata installs the SP metadata (an EntityDescriptor or
// EntitiesDescriptor XML document). SimpleSAMLphp reads it on every request,
// so it takes effect immediately.
func (s *SAML) SetSPMetadata(t testing.TB, xml []byte) {
	t.Helper()
	path := filepath.Join(s.Dir, "metadata", "sp.xml")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, xml, 0o644); err != nil {
		t.Fatalf("testidp: write sp metadata: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatalf("testidp: install sp metadata: %v", err)
	}
}

// Login signs in at the SimpleSAMLphp login form. loginPage is the response
// that landed on the form (the client followed the SP's redirect to the
// IdP); c must be the same client, with a cookie jar. It posts the username,
// password and hidden fields, then posts the auto-submit SAMLResponse form to
// the SP's ACS, and returns the response after redirects. When the IdP does
// not answer with a SAMLResponse (a wrong password shows the form again),
// that page is returned as is.
func (s *SAML) Login(t testing.TB, c *http.Client, loginPage *http.Response, user, password string) *http.Response {
	t.Helper()
	page := readPage(t, loginPage)
	action, fields := FormFields(page)
	if fields == nil || !fields.Has("AuthState") {
		t.Fatalf("testidp: no SimpleSAMLphp login form at %s (status %s):\n%s", loginPage.Request.URL, loginPage.Status, snippet(page))
	}
	fields.Set("username", user)
	fields.Set("password", password)
	resp := submitForm(t, c, loginPage, action, fields)

	page = readPage(t, resp)
	action, fields = FormFields(page)
	if fields == nil || !fields.Has("SAMLResponse") {
		return resp
	}
	return submitForm(t, c, resp, action, fields)
}

// copyFile copies one configuration template.
func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("testidp: read template: %v", err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatalf("testidp: write config: %v", err)
	}
}

// writeIdPKeyPair generates the IdP's RSA key and self-signed certificate
// into dir/idp.key and dir/idp.crt (PEM).
func writeIdPKeyPair(t testing.TB, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("testidp: generate idp key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "Gatehouse test SAML IdP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testidp: create idp certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testidp: marshal idp key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "idp.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatalf("testidp: write idp key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "idp.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatalf("testidp: write idp certificate: %v", err)
	}
}
