package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/config"
)

// writeSecret writes a secret file as an operator would: one line, 0600.
func writeSecret(t *testing.T, path, value string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestInitEveryIdPAndTLS writes a configuration with init for each identity
// provider kind and TLS mode, from flags alone, and checks that it passes
// check-config with the secrets read from the files it names, that it is
// 0600, and that a second init never overwrites it.
func TestInitEveryIdPAndTLS(t *testing.T) {
	for _, idp := range []string{"oidc", "saml", "pin"} {
		for _, tlsMode := range []string{"acme", "files", "off"} {
			t.Run(idp+"/"+tlsMode, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "gatehouse.toml")
				args := []string{"init", "-o", path, "-team-domain", "auth.example.com", "-app-host", "wiki.example.com",
					"-origin", "http://127.0.0.1:3000", "-admin", "ops@example.com", "-idp", idp, "-tls", tlsMode,
					"-data-dir", filepath.Join(dir, "data")}
				switch idp {
				case "oidc":
					writeSecret(t, filepath.Join(dir, "oidc-secret"), "s3cret-from-file")
					args = append(args, "-oidc-issuer", "https://sso.example.com", "-oidc-client-id", "gatehouse",
						"-oidc-secret-file", filepath.Join(dir, "oidc-secret"))
				case "saml":
					meta := "https://adfs.example.com/FederationMetadata.xml"
					if tlsMode == "files" {
						meta = filepath.Join(dir, "idp-metadata.xml")
						writeSecret(t, meta, "<EntityDescriptor/>")
					}
					args = append(args, "-saml-metadata", meta)
				case "pin":
					writeSecret(t, filepath.Join(dir, "smtp-password"), "mail-pw")
					args = append(args, "-smtp-host", "smtp.example.com", "-smtp-from", "gatehouse@example.com",
						"-smtp-user", "gatehouse", "-smtp-password-file", filepath.Join(dir, "smtp-password"))
				}
				if tlsMode == "files" {
					args = append(args, "-cert-file", filepath.Join(dir, "tls.crt"), "-key-file", filepath.Join(dir, "tls.key"))
				}
				code, out, errOut := runMainOut(args...)
				if code != 0 {
					t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
				}
				if !strings.Contains(out, "wrote "+path) || strings.Contains(out, "1. write ") {
					t.Errorf("init output:\n%s", out)
				}
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Errorf("mode %v, want 0600", st.Mode().Perm())
				}
				if got := runCLI(t, "check-config", "-config", path); !strings.Contains(got, "ok (1 app, 1 identity provider") {
					t.Errorf("check-config: %s", got)
				}
				cfg, err := config.Load(path)
				if err != nil {
					t.Fatal(err)
				}
				checkInitConfig(t, cfg, idp, tlsMode)
				data, _ := os.ReadFile(path)
				if n := strings.Count(string(data), "\n#"); n < 20 {
					t.Errorf("only %d comment lines:\n%s", n, data)
				}

				// A second init never touches the file.
				code, _, errOut = runMainOut(append(args[:len(args):len(args)], "-admin", "other@example.com")...)
				if code != 1 || !strings.Contains(errOut, "exists") {
					t.Errorf("second init: exit %d, stderr %q", code, errOut)
				}
				if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
					t.Error("second init changed the file")
				}
			})
		}
	}
}

// checkInitConfig checks the answers init was given, as the configuration
// loader reads them.
func checkInitConfig(t *testing.T, cfg *config.Config, idp, tlsMode string) {
	t.Helper()
	if cfg.TeamDomain != "auth.example.com" || len(cfg.Admins) != 1 || cfg.Admins[0] != "ops@example.com" {
		t.Errorf("team %q admins %v", cfg.TeamDomain, cfg.Admins)
	}
	if a := cfg.Apps[0]; a.Name != "wiki" || a.Domains[0] != "wiki.example.com" || a.Origin != "http://127.0.0.1:3000" ||
		a.Policies[0].Include[0].Emails[0] != "ops@example.com" {
		t.Errorf("app %+v", a)
	}
	if cfg.TLS.Mode != tlsMode {
		t.Errorf("tls.mode %q", cfg.TLS.Mode)
	}
	switch tlsMode {
	case "off":
		if cfg.Listen != ":8080" || cfg.TeamURL() != "https://auth.example.com" {
			t.Errorf("listen %q team URL %q", cfg.Listen, cfg.TeamURL())
		}
	default:
		if cfg.Listen != ":80" || cfg.ListenHTTPS != ":443" || cfg.TeamURL() != "https://auth.example.com" {
			t.Errorf("listen %q listen_https %q team URL %q", cfg.Listen, cfg.ListenHTTPS, cfg.TeamURL())
		}
	}
	if tlsMode == "acme" && cfg.TLS.Email != "ops@example.com" {
		t.Errorf("tls.email %q, want the admin", cfg.TLS.Email)
	}
	if tlsMode == "files" && (len(cfg.TLS.Certs) != 1 || len(cfg.TLS.Certs[0].Domains) != 2) {
		t.Errorf("tls.certs %+v", cfg.TLS.Certs)
	}
	p := cfg.IdPs[0]
	switch idp {
	case "oidc":
		if s, err := p.OIDCSecret(); p.Kind != "oidc" || err != nil || s != "s3cret-from-file" || p.ClientSecret != "" {
			t.Errorf("oidc %+v: secret %q %v", p, s, err)
		}
	case "saml":
		if p.Kind != "saml" || (p.MetadataURL == "") == (p.MetadataFile == "") {
			t.Errorf("saml %+v", p)
		}
	case "pin":
		if p.Kind != "otp" || cfg.SMTP.Host != "smtp.example.com" || cfg.SMTP.Port != 587 || cfg.SMTP.Password != "mail-pw" ||
			cfg.SMTP.PasswordFile == "" {
			t.Errorf("pin %+v smtp %+v", p, cfg.SMTP)
		}
	}
}

// TestInitWithoutTerminal: without a terminal, init names every missing
// flag (those of the chosen IdP and TLS mode included) and writes nothing.
func TestInitWithoutTerminal(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing -team-domain, -app-host, -origin, -admin, -idp, -tls ("},
		{[]string{"-team-domain", "auth.example.com", "-idp", "oidc", "-tls", "files"},
			"missing -app-host, -origin, -admin, -oidc-issuer, -oidc-client-id ("},
		{[]string{"-idp", "saml", "-tls", "acme", "-admin", "a@example.com"}, "missing -team-domain, -app-host, -origin, -saml-metadata ("},
		{[]string{"-idp", "pin", "-tls", "off"}, "-smtp-host, -smtp-from ("},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "g.toml")
			var out bytes.Buffer
			err := cmdInit(append([]string{"-o", path}, tt.args...), strings.NewReader("auth.example.com\n"), false, &out)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want a usage error with %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("asked without a terminal: %q", out.String())
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("file written")
			}
		})
	}
}

// TestInitInteractive answers the questions on a terminal, one a line: empty
// lines take the defaults, a wrong answer is asked again.
func TestInitInteractive(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.toml")
	answers := strings.Join([]string{
		"auth.example.org",      // team domain
		"grafana.example.org",   // app host
		"",                      // app name: default grafana
		"http://127.0.0.1:3000", // origin
		"admin@example.org",     // admin
		"ldap",                  // idp: refused, asked again
		"pin",
		"smtp.example.org",      // smtp host
		"",                      // port: 587
		"gatehouse@example.org", // from
		"",                      // user: none
		"off",                   // tls
		filepath.Join(dir, "data"),
	}, "\n") + "\n"
	var out bytes.Buffer
	if err := cmdInit([]string{"-o", path}, strings.NewReader(answers), true, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"Team domain: the HOST of the sign-in pages", "First app: its NAME (default: the first label of -app-host) [grafana]: ",
		`"ldap": one of oidc, saml, pin`, "SMTP PORT (-idp pin) [587]: ", "wrote " + path} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Apps[0].Name != "grafana" || cfg.SMTP.Port != 587 || cfg.SMTP.Username != "" || cfg.TLS.Mode != "off" ||
		cfg.IdPs[0].Kind != "otp" || cfg.TeamDomain != "auth.example.org" {
		t.Errorf("config: app %q smtp %+v tls %q idp %q", cfg.Apps[0].Name, cfg.SMTP, cfg.TLS.Mode, cfg.IdPs[0].Kind)
	}

	// Flags answer their questions; only the rest is asked. Input that ends
	// early names the question left unanswered.
	out.Reset()
	err = cmdInit([]string{"-o", filepath.Join(dir, "b.toml"), "-team-domain", "auth.example.org", "-idp", "oidc"},
		strings.NewReader("app.example.org\n"), true, &out)
	if err == nil || !strings.Contains(err.Error(), "standard input ended before -app-name was answered") {
		t.Errorf("err %v", err)
	}
	if strings.Contains(out.String(), "Team domain") || strings.Contains(out.String(), "Identity provider") {
		t.Errorf("asked what a flag answered:\n%s", out.String())
	}
}

// TestInitRefusesBadAnswers: answers that would make an invalid file are
// reported by flag and nothing is written; a secret file that does not
// exist yet is a next step, and check-config names it until it exists.
func TestInitRefusesBadAnswers(t *testing.T) {
	dir := t.TempDir()
	base := []string{"-app-host", "wiki.example.com", "-origin", "http://127.0.0.1:3000", "-admin", "ops@example.com",
		"-tls", "acme", "-data-dir", filepath.Join(dir, "data")}
	path := filepath.Join(dir, "bad.toml")
	var out bytes.Buffer
	err := cmdInit(append([]string{"-o", path, "-team-domain", "https://auth.example.com", "-idp", "saml", "-saml-metadata",
		"https://idp.example.com/m.xml"}, base...), strings.NewReader(""), false, &out)
	if err == nil || !strings.Contains(err.Error(), "-team-domain: \"https://auth.example.com\": no scheme") {
		t.Errorf("err %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("invalid file written")
	}

	path = filepath.Join(dir, "oidc.toml")
	secret := filepath.Join(dir, "later-secret")
	out.Reset()
	err = cmdInit(append([]string{"-o", path, "-team-domain", "auth.example.com", "-idp", "oidc", "-oidc-issuer", "https://sso.example.com",
		"-oidc-client-id", "gh", "-oidc-secret-file", secret}, base...), strings.NewReader(""), false, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1. write "+secret+" (idps[0].client_secret_file)") {
		t.Errorf("output:\n%s", out.String())
	}
	code, _, errOut := runMainOut("check-config", "-config", path)
	if code != 1 || !strings.Contains(errOut, "idps[0].client_secret_file: cannot read") {
		t.Errorf("check-config before the secret: exit %d %s", code, errOut)
	}
	writeSecret(t, secret, "now-there")
	runCLI(t, "check-config", "-config", path)
}
