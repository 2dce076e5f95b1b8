package config

import (
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// validBase is a minimal valid configuration that test rows extend.
const validBase = `team_domain = "auth.example.com"
[tls]
mode = "off"
[[idps]]
id = "pin"
kind = "otp"
`

// oidcRow is an [[idps]] block of kind oidc with the given keys.
func oidcRow(keys string) string {
	return "[[idps]]\nid = \"corp\"\nkind = \"oidc\"\n" + keys + "\n"
}

// validApp is a minimal valid app appended after validBase.
const validApp = `[[apps]]
name = "demo"
domains = ["app.example.com"]
origin = "whoami"
[[apps.policies]]
name = "all"
decision = "allow"
include = [{ everyone = true }]
`

func TestConfigForwardAuthApp(t *testing.T) {
	text := validBase + strings.Replace(validApp, `origin = "whoami"`, "forward_auth = true\norigin_timeout = \"30s\"", 1)
	cfg, err := Parse([]byte(text), "gatehouse.toml")
	if err != nil {
		t.Fatal(err)
	}
	apps, err := cfg.AccessApps()
	if err != nil || len(apps) != 1 || apps[0].Origin != "" || apps[0].OriginTimeout != 30*time.Second {
		t.Fatalf("apps = %+v", apps)
	}
}

func TestConfigPublicScheme(t *testing.T) {
	cfg, err := Parse([]byte("public_scheme = \"https\"\n"+validBase+validApp), "gatehouse.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TeamURL() != "https://auth.example.com" || !cfg.Secure() {
		t.Errorf("TeamURL %q Secure %v behind a terminator", cfg.TeamURL(), cfg.Secure())
	}
	cfg, err = Parse([]byte(validBase+validApp), "gatehouse.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TeamURL() != "http://auth.example.com" || cfg.Secure() {
		t.Errorf("TeamURL %q Secure %v with tls off", cfg.TeamURL(), cfg.Secure())
	}
}

func TestConfigHSTS(t *testing.T) {
	for _, tt := range []struct {
		line string
		off  bool
	}{{"", false}, {"hsts = false\n", true}, {"hsts = true\n", false}} {
		cfg, err := Parse([]byte(validBase+strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\n"+tt.line, 1)), "gatehouse.toml")
		if err != nil {
			t.Fatal(err)
		}
		apps, err := cfg.AccessApps()
		if err != nil || apps[0].NoHSTS != tt.off {
			t.Errorf("%q: NoHSTS = %v, want %v (%v)", tt.line, apps[0].NoHSTS, tt.off, err)
		}
	}
}

func TestConfigExampleLoads(t *testing.T) {
	cfg, err := Load("../config.example.toml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.TeamDomain != "auth.localhost:8080" || cfg.Listen != "127.0.0.1:8080" || cfg.DataDir != "./data" {
		t.Errorf("unexpected top level: %+v", cfg)
	}
	if cfg.TLS.Mode != "off" || cfg.TeamURL() != "http://auth.localhost:8080" {
		t.Errorf("TLS mode %q, team URL %q", cfg.TLS.Mode, cfg.TeamURL())
	}
	if len(cfg.IdPs) != 1 || cfg.IdPs[0].ID != "pin" || cfg.IdPs[0].Kind != "otp" {
		t.Errorf("idps = %+v", cfg.IdPs)
	}
	if len(cfg.Apps) != 1 {
		t.Fatalf("apps = %+v", cfg.Apps)
	}
	a := cfg.Apps[0]
	if a.Name != "demo" || a.Origin != "whoami" || len(a.Domains) != 1 || a.Domains[0] != "app.localhost:8080" {
		t.Errorf("app = %+v", a)
	}
	if len(a.Policies) != 1 || a.Policies[0].Decision != "allow" || !a.Policies[0].Include[0].Everyone {
		t.Errorf("policies = %+v", a.Policies)
	}
	if a.SessionDuration.Duration != 24*time.Hour || cfg.GlobalSession.Duration != 24*time.Hour {
		t.Errorf("durations: app %v, global %v", a.SessionDuration, cfg.GlobalSession)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Parse([]byte(validBase+validApp), "gatehouse.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	d := Default()
	if cfg.Listen != d.Listen || cfg.ListenHTTPS != ":443" || cfg.ClientIPHeader != "X-Forwarded-For" {
		t.Errorf("defaults not kept: %+v", cfg)
	}
	if cfg.SMTP.Port != 587 || !cfg.SMTP.StartTLS || !cfg.Log.AccessLog || cfg.Log.Level != "info" {
		t.Errorf("nested defaults not kept: smtp %+v log %+v", cfg.SMTP, cfg.Log)
	}
	if cfg.Apps[0].SessionDuration.Duration != DefaultSessionDuration {
		t.Errorf("app session_duration = %v", cfg.Apps[0].SessionDuration)
	}
	if cfg.IdPs[0].Name != "Email PIN" {
		t.Errorf("idp default name = %q", cfg.IdPs[0].Name)
	}
	if Default().TLS.Mode != "acme" {
		t.Errorf("default tls mode = %q", Default().TLS.Mode)
	}
}

func TestConfigNormalizes(t *testing.T) {
	src := validBase + strings.Replace(validApp, `"app.example.com"`, `"App.Example.COM:8443"`, 1)
	cfg, err := Parse([]byte(src), "gatehouse.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := cfg.Apps[0].Domains[0]; got != "app.example.com:8443" {
		t.Errorf("domain = %q, want lowercased", got)
	}
}

func TestConfigBad(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want []string // substrings of the error message
	}{
		{"syntax error", validBase + "listen = \n" + validApp, []string{"gatehouse.toml:7:", "syntax error"}},
		{"unknown top-level key", "colour = \"blue\"\n" + validBase + validApp, []string{`gatehouse.toml:1: colour: unknown key`}},
		{"unknown key in app", validBase + validApp + "\n[[apps]]\nname = \"b\"\ndomains = [\"b.example.com\"]\norigin = \"whoami\"\nhostname = \"x\"\n[[apps.policies]]\nname = \"p\"\ndecision = \"allow\"\ninclude = [{ everyone = true }]\n",
			[]string{`gatehouse.toml:20: apps[1].hostname: unknown key`}},
		{"unknown selector", validBase + strings.Replace(validApp, "{ everyone = true }", "{ everyone = true }, { email = [\"a@b.c\"] }", 1),
			[]string{`gatehouse.toml:14: apps[0].policies[0].include[1].email: unknown key`}},
		{"type error", "listen = 8080\n" + validBase + validApp, []string{`gatehouse.toml:1: listen: expected a string, got integer 8080`}},
		{"type error bool", validBase + "[log]\naccess_log = \"yes\"\n" + validApp, []string{`log.access_log: expected true or false`}},
		{"bad duration", "global_session = \"1 day\"\n" + validBase + validApp, []string{`gatehouse.toml:1: global_session: invalid duration "1 day"`}},
		{"duration not a string", "global_session = 24\n" + validBase + validApp, []string{`global_session: expected a string, got integer 24`}},
		{"global session too short", "global_session = \"5m\"\n" + validBase + validApp, []string{`global_session: 5m: out of range 15m..744h`}},
		{"app session too long", validBase + strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\nsession_duration = \"800h\"", 1), []string{`apps[0].session_duration: 800h: out of range 1s..744h`}},
		{"team domain missing", strings.Replace(validBase, `team_domain = "auth.example.com"`, "", 1) + validApp, []string{`team_domain: required`}},
		{"team domain with scheme", strings.Replace(validBase, `"auth.example.com"`, `"https://auth.example.com"`, 1) + validApp, []string{`team_domain: "https://auth.example.com": no scheme`}},
		{"team domain with path", strings.Replace(validBase, `"auth.example.com"`, `"auth.example.com/login"`, 1) + validApp, []string{`team_domain: "auth.example.com/login": no path`}},
		{"two wildcards", validBase + strings.Replace(validApp, `"app.example.com"`, `"*.*.example.com"`, 1),
			[]string{`gatehouse.toml:9: apps[0].domains[0]: "*.*.example.com": one wildcard label at most`}},
		{"wildcard not first", validBase + strings.Replace(validApp, `"app.example.com"`, `"a.*.com"`, 1), []string{`apps[0].domains[0]: "a.*.com": wildcard only in the first label`}},
		{"wildcard mid label", validBase + strings.Replace(validApp, `"app.example.com"`, `"a*b.example.com"`, 1), []string{`apps[0].domains[0]: "a*b.example.com": wildcard only as the whole first label or its prefix`}},
		{"domain with path", validBase + strings.Replace(validApp, `"app.example.com"`, `"app.example.com/x"`, 1), []string{`apps[0].domains[0]: "app.example.com/x": no path`}},
		{"domain bad port", validBase + strings.Replace(validApp, `"app.example.com"`, `"app.example.com:99999"`, 1), []string{`apps[0].domains[0]: "app.example.com:99999": invalid port`}},
		{"no domains", validBase + strings.Replace(validApp, `domains = ["app.example.com"]`, "domains = []", 1), []string{`gatehouse.toml:9: apps[0].domains: at least one domain`}},
		{"duplicate domain across apps", validBase + validApp + strings.Replace(validApp, `name = "demo"`, `name = "other"`, 1),
			[]string{`gatehouse.toml:17: apps[1].domains[0]: "app.example.com" is also used by apps[0].domains[0] ("demo")`}},
		{"duplicate app name", validBase + validApp + strings.Replace(validApp, `"app.example.com"`, `"b.example.com"`, 1), []string{`apps[1].name: "demo": duplicate name (also apps[0])`}},
		{"bad app name", validBase + strings.Replace(validApp, `"demo"`, `"demo/1"`, 1), []string{`apps[0].name: "demo/1": only letters`}},
		{"team domain is an app domain", validBase + strings.Replace(validApp, `"app.example.com"`, `"auth.example.com"`, 1), []string{`apps[0].domains[0]: "auth.example.com": same as team_domain`}},
		{"bad origin scheme", validBase + strings.Replace(validApp, `"whoami"`, `"ftp://files.local"`, 1), []string{`gatehouse.toml:10: apps[0].origin: "ftp://files.local": must be an http:// or https:// URL`}},
		{"origin with query", validBase + strings.Replace(validApp, `"whoami"`, `"http://localhost:3000/?a=b"`, 1), []string{`apps[0].origin: "http://localhost:3000/?a=b": no query or fragment`}},
		{"origin missing", validBase + strings.Replace(validApp, `origin = "whoami"`, "", 1), []string{`apps[0].origin: required`}},
		{"bad aud", validBase + strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\naud = \"abc\"", 1), []string{`apps[0].aud: "abc": must be 64 hex digits`}},
		{"bad path", validBase + strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\npath = \"api\"", 1), []string{`apps[0].path: "api": must start with '/'`}},
		{"bad logo url", validBase + strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\nlogo_url = \"http://x.example.com/l.png\"", 1), []string{`apps[0].logo_url: "http://x.example.com/l.png": must be an https:// URL`}},
		{"bad same_site", validBase + appKeys("same_site = \"loose\""), []string{`apps[0].same_site: "loose": must be one of "lax", "strict", "none"`}},
		{"same_site none without tls", validBase + appKeys("same_site = \"None\""), []string{`apps[0].same_site: "none" needs HTTPS`}},
		{"path_cookie without path", validBase + appKeys("path_cookie = true"), []string{`apps[0].path_cookie: needs a path`}},
		{"http_only not bool", validBase + appKeys("http_only = \"no\""), []string{`apps[0].http_only: expected true or false`}},
		{"binding_cookie not bool", validBase + appKeys("binding_cookie = 1"), []string{`apps[0].binding_cookie: expected true or false`}},
		{"deny_url not http", validBase + appKeys("deny_url = \"javascript:alert(1)\""), []string{`apps[0].deny_url: "javascript:alert(1)": must be an absolute http:// or https:// URL`}},
		{"deny message and url", validBase + appKeys("deny_message = \"no\"\ndeny_url = \"https://example.com/denied\""), []string{`apps[0].deny_url: set either deny_message or deny_url, not both`}},
		{"bad service_token_header", validBase + appKeys("service_token_header = \"X Token\""), []string{`apps[0].service_token_header: "X Token": not a header name`}},
		{"service_auth_401 not bool", validBase + appKeys("service_auth_401 = \"yes\""), []string{`apps[0].service_auth_401: expected true or false`}},
		{"cors both modes", validBase + appKeys("[apps.cors]\npreflight_bypass = true\nallowed_origins = [\"https://a.example.com\"]"), []string{`apps[0].cors.preflight_bypass: either pass preflights to the origin`}},
		{"cors without origins", validBase + appKeys("[apps.cors]\nallowed_methods = [\"GET\"]"), []string{`apps[0].cors.allowed_origins: required to answer preflights`}},
		{"cors bad origin", validBase + appKeys("[apps.cors]\nallowed_origins = [\"https://a.example.com/app\"]"), []string{`apps[0].cors.allowed_origins[0]: "https://a.example.com/app": an origin`}},
		{"cors bad method", validBase + appKeys("[apps.cors]\nallowed_origins = [\"*\"]\nallowed_methods = [\"GET PUT\"]"), []string{`apps[0].cors.allowed_methods[0]: "GET PUT": not an HTTP method`}},
		{"cors bad header", validBase + appKeys("[apps.cors]\nallowed_origins = [\"*\"]\nallowed_headers = [\"X:Y\"]"), []string{`apps[0].cors.allowed_headers[0]: "X:Y": not a header name`}},
		{"cors any origin with credentials", validBase + appKeys("[apps.cors]\nallowed_origins = [\"*\"]\nallow_credentials = true"), []string{`apps[0].cors.allowed_origins[0]: "*" with allow_credentials would let every site make credentialed requests`}},
		{"cors max_age range", validBase + appKeys("[apps.cors]\nallowed_origins = [\"*\"]\nmax_age = -1"), []string{`apps[0].cors.max_age: -1: between 0 and 86400 seconds`}},
		{"cors unknown key", validBase + appKeys("[apps.cors]\nallow_origins = [\"*\"]"), []string{`apps[0].cors.allow_origins: unknown key`}},
		{"unknown idp in app", validBase + strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\nidps = [\"google\"]", 1), []string{`apps[0].idps[0]: "google": no identity provider with this id`}},
		{"bad email", validBase + strings.Replace(validApp, "{ everyone = true }", "{ emails = [\"ann@\"] }", 1), []string{`gatehouse.toml:14: apps[0].policies[0].include[0].emails[0]: "ann@": not an email address`}},
		{"bad email domain", validBase + strings.Replace(validApp, "{ everyone = true }", "{ everyone = true }, { emails = [\"a@b.c\"] }, { email_domains = [\"@example.com\"] }", 1),
			[]string{`apps[0].policies[0].include[2].email_domains[0]: "@example.com": a domain without '@'`}},
		{"bad cidr", validBase + strings.Replace(validApp, "{ everyone = true }", "{ ip_ranges = [\"10.0.0.0/33\"] }", 1), []string{`apps[0].policies[0].include[0].ip_ranges[0]: "10.0.0.0/33": not a CIDR`}},
		{"bad trusted proxy", "trusted_proxies = [\"office\"]\n" + validBase + validApp, []string{`gatehouse.toml:1: trusted_proxies[0]: "office": not a CIDR`}},
		{"no include rules", validBase + strings.Replace(validApp, "include = [{ everyone = true }]", "require = [{ everyone = true }]", 1), []string{`apps[0].policies[0].include: at least one include rule`}},
		{"rule without selector", validBase + strings.Replace(validApp, "{ everyone = true }", "{ everyone = false }", 1), []string{`apps[0].policies[0].include[0]: rule has no selector`}},
		{"bad decision", validBase + strings.Replace(validApp, `decision = "allow"`, `decision = "permit"`, 1), []string{`gatehouse.toml:13: apps[0].policies[0].decision: "permit": must be one of "allow", "block", "bypass", "service_auth"`}},
		{"policy name missing", validBase + strings.Replace(validApp, `name = "all"`, "", 1), []string{`apps[0].policies[0].name: required`}},
		{"no apps", validBase, []string{`apps: at least one app`}},
		{"no idps", "team_domain = \"auth.example.com\"\n[tls]\nmode = \"off\"\n" + validApp, []string{`idps: at least one identity provider`}},
		{"duplicate idp id", validBase + "[[idps]]\nid = \"pin\"\nkind = \"otp\"\n" + validApp, []string{`gatehouse.toml:8: idps[1].id: "pin": duplicate id`}},
		{"bad idp id", strings.Replace(validBase, `id = "pin"`, `id = "Email PIN"`, 1) + validApp, []string{`idps[0].id: "Email PIN": only lowercase letters`}},
		{"unknown idp kind", strings.Replace(validBase, `kind = "otp"`, `kind = "ldap"`, 1) + validApp, []string{`gatehouse.toml:6: idps[0].kind: "ldap": unknown kind`}},
		{"oidc missing issuer", validBase + "[[idps]]\nid = \"corp\"\nkind = \"oidc\"\nclient_id = \"c\"\nclient_secret = \"s\"\n" + validApp, []string{`gatehouse.toml:7: idps[1].issuer: required for kind "oidc"`}},
		{"oidc bad issuer", validBase + oidcRow("issuer = \"login.example.com\"\nclient_id = \"c\"\nclient_secret = \"s\"") + validApp, []string{`idps[1].issuer: "login.example.com": must be an http(s) URL`}},
		{"oidc missing client", validBase + oidcRow("issuer = \"https://login.example.com\"") + validApp,
			[]string{`idps[1].client_id: required for kind "oidc"`, `idps[1].client_secret: required for kind "oidc" (or client_secret_file or client_secret_env)`}},
		{"oidc two secrets", validBase + oidcRow("issuer = \"https://login.example.com\"\nclient_id = \"c\"\nclient_secret = \"s\"\nclient_secret_file = \"/etc/gatehouse/secret\"") + validApp,
			[]string{`idps[1].client_secret: set only one of client_secret, client_secret_file and client_secret_env`}},
		{"oidc missing secret file", validBase + oidcRow("issuer = \"https://login.example.com\"\nclient_id = \"c\"\nclient_secret_file = \"/nonexistent/gatehouse-secret\"") + validApp,
			[]string{`idps[1].client_secret_file: cannot read "/nonexistent/gatehouse-secret": no such file or directory`}},
		{"oidc secret env unset", validBase + oidcRow("issuer = \"https://login.example.com\"\nclient_id = \"c\"\nclient_secret_env = \"GATEHOUSE_TEST_UNSET_SECRET\"") + validApp,
			[]string{`idps[1].client_secret_env: environment variable GATEHOUSE_TEST_UNSET_SECRET is not set`}},
		{"oidc with saml keys", validBase + oidcRow("issuer = \"https://login.example.com\"\nclient_id = \"c\"\nclient_secret = \"s\"\nmetadata_url = \"https://idp.example.com/md\"\nattributes = [\"uid\"]") + validApp,
			[]string{`idps[1].attributes: not a key of kind "oidc"`, `idps[1].metadata_url: not a key of kind "oidc"`}},
		{"saml without metadata", validBase + "[[idps]]\nid = \"sso\"\nkind = \"saml\"\n" + validApp, []string{`idps[1].metadata_url: required for kind "saml" (or metadata_file)`}},
		{"saml both metadata", validBase + "[[idps]]\nid = \"sso\"\nkind = \"saml\"\nmetadata_url = \"https://idp.example.com/md\"\nmetadata_file = \"md.xml\"\n" + validApp,
			[]string{`idps[1].metadata_url: set only one of metadata_url and metadata_file`}},
		{"saml bad metadata url", validBase + "[[idps]]\nid = \"sso\"\nkind = \"saml\"\nmetadata_url = \"idp.example.com/md\"\n" + validApp, []string{`idps[1].metadata_url: "idp.example.com/md": must be an http(s) URL`}},
		{"saml missing metadata file", validBase + "[[idps]]\nid = \"sso\"\nkind = \"saml\"\nmetadata_file = \"/nonexistent/idp.xml\"\n" + validApp, []string{`idps[1].metadata_file: "/nonexistent/idp.xml": `}},
		{"saml key without cert", validBase + "[[idps]]\nid = \"sso\"\nkind = \"saml\"\nmetadata_url = \"https://idp.example.com/md\"\nsp_key_file = \"sp.key\"\n" + validApp,
			[]string{`idps[1].sp_key_file: set both sp_key_file and sp_cert_file, or neither`}},
		{"saml with oidc keys", validBase + "[[idps]]\nid = \"sso\"\nkind = \"saml\"\nmetadata_url = \"https://idp.example.com/md\"\nclient_id = \"c\"\nclaims = [\"x\"]\nuserinfo = true\n" + validApp,
			[]string{`idps[1].claims: not a key of kind "saml"`, `idps[1].client_id: not a key of kind "saml"`, `idps[1].userinfo: not a key of kind "saml"`}},
		{"saml with logout keys", validBase + "[[idps]]\nid = \"sso\"\nkind = \"saml\"\nmetadata_url = \"https://idp.example.com/md\"\nbackchannel_logout = true\nlogout_at_idp = true\n" + validApp,
			[]string{`idps[1].backchannel_logout: not a key of kind "saml"`, `idps[1].logout_at_idp: not a key of kind "saml"`}},
		{"otp with logout keys", strings.Replace(validBase, `kind = "otp"`, "kind = \"otp\"\nlogout_at_idp = true", 1) + validApp, []string{`idps[0].logout_at_idp: not a key of kind "otp"`}},
		{"otp with oidc keys", strings.Replace(validBase, `kind = "otp"`, "kind = \"otp\"\nissuer = \"https://login.example.com\"", 1) + validApp, []string{`idps[0].issuer: not a key of kind "otp"`}},
		{"app allows unknown idp", validBase + strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\nidps = [\"pin\", \"okta\"]", 1), []string{`apps[0].idps[1]: "okta": no identity provider with this id`}},
		{"tls bad mode", strings.Replace(validBase, `mode = "off"`, `mode = "auto"`, 1) + validApp, []string{`gatehouse.toml:3: tls.mode: "auto": must be one of "acme", "files", "off"`}},
		{"tls acme wildcard app", strings.Replace(validBase, `mode = "off"`, `mode = "acme"`, 1) + strings.Replace(validApp, `"app.example.com"`, `"*.apps.example.com"`, 1),
			[]string{`apps[0].domains[0]: "*.apps.example.com": a wildcard domain needs tls.mode "files"`}},
		{"tls default acme wildcard app", "team_domain = \"auth.example.com\"\n[[idps]]\nid = \"pin\"\nkind = \"otp\"\n" + strings.Replace(validApp, `"app.example.com"`, `"*.example.com"`, 1),
			[]string{`apps[0].domains[0]: "*.example.com": a wildcard domain needs tls.mode "files"`}},
		{"tls bad challenge", strings.Replace(validBase, `mode = "off"`, "mode = \"acme\"\nchallenges = [\"dns-01\"]", 1) + validApp, []string{`tls.challenges[0]: "dns-01": must be one of "http-01", "tls-alpn-01"`}},
		{"tls duplicate challenge", strings.Replace(validBase, `mode = "off"`, "mode = \"acme\"\nchallenges = [\"http-01\", \"http-01\"]", 1) + validApp, []string{`tls.challenges[1]: "http-01": listed twice`}},
		{"tls bad ca url", strings.Replace(validBase, `mode = "off"`, "mode = \"acme\"\nca_url = \"acme.example.com/dir\"", 1) + validApp, []string{`tls.ca_url: "acme.example.com/dir": must be an http:// or https:// URL`}},
		{"tls bad email", strings.Replace(validBase, `mode = "off"`, "mode = \"acme\"\nemail = \"ops\"", 1) + validApp, []string{`tls.email: "ops": not an email address`}},
		{"tls files without certs", strings.Replace(validBase, `mode = "off"`, `mode = "files"`, 1) + validApp, []string{`tls.certs: at least one certificate`}},
		{"tls files name not covered", strings.Replace(validBase, `mode = "off"`, `mode = "files"`, 1) + "[[tls.certs]]\ndomains = [\"auth.example.com\"]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n" + validApp,
			[]string{`apps[0].domains[0]: "app.example.com": no certificate in tls.certs covers this name`}},
		{"tls files wildcard not covered", strings.Replace(validBase, `mode = "off"`, `mode = "files"`, 1) + "[[tls.certs]]\ndomains = [\"auth.example.com\", \"*.example.com\"]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n" + strings.Replace(validApp, `"app.example.com"`, `"*.apps.example.com"`, 1),
			[]string{`apps[0].domains[0]: "*.apps.example.com": no certificate in tls.certs covers this name`}},
		{"tls cert shape", validBase + "[[tls.certs]]\ndomains = [\"a.example.com\"]\n" + validApp, []string{`tls.certs[0].cert_file: required`, `tls.certs[0].key_file: required`}},
		{"bad public_scheme", "public_scheme = \"ftp\"\n" + validBase + validApp, []string{`public_scheme: "ftp": must be one of "http", "https"`}},
		{"session_duration 0s", validBase + strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\nsession_duration = \"0s\"", 1),
			[]string{`gatehouse.toml:11: apps[0].session_duration: 0s: must be at least 1s`}},
		{"no origin without forward_auth", validBase + strings.Replace(validApp, `origin = "whoami"`, ``, 1),
			[]string{`apps[0].origin: required`}},
		{"origin_timeout too short", validBase + strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\norigin_timeout = \"10ms\"", 1),
			[]string{`apps[0].origin_timeout: 10ms: out of range 1s..1h`}},
		{"bad log level", validBase + "[log]\nlevel = \"verbose\"\n" + validApp, []string{`log.level: "verbose": must be one of "debug", "info", "warn", "error"`}},
		{"bad admin", "admins = [\"root\"]\n" + validBase + validApp, []string{`admins[0]: "root": not an email address`}},
		{"smtp two passwords", validBase + "[smtp]\nhost = \"mail.example.com\"\nfrom = \"g@example.com\"\npassword = \"a\"\npassword_env = \"B\"\n" + validApp, []string{`smtp.password: set only one of`}},
		{"bad listen", "listen = \"8080\"\n" + validBase + validApp, []string{`listen: "8080": not a listen address`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.toml), "gatehouse.toml")
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want an error", cfg)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestConfigReportsAllProblems(t *testing.T) {
	src := `team_domain = "auth.example.com"
listen = 80
colour = "blue"
[tls]
mode = "off"
[[idps]]
id = "pin"
kind = "otp"
[[apps]]
name = "one"
domains = ["*.*.example.com"]
origin = "whoami"
idps = ["nope"]
[[apps.policies]]
name = "p"
decision = "allow"
include = [{ emails = ["x"] }, { email_domains = ["example.com"] }, { everyone = true }]
[[apps]]
name = "two"
domains = ["a.example.com"]
origin = "gopher://x"
[[apps.policies]]
name = "q"
decision = "maybe"
include = []
`
	_, err := Parse([]byte(src), "gatehouse.toml")
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	want := []string{
		`gatehouse.toml:2: listen: expected a string, got integer 80`,
		`gatehouse.toml:3: colour: unknown key`,
		`gatehouse.toml:11: apps[0].domains[0]: "*.*.example.com": one wildcard label at most`,
		`gatehouse.toml:13: apps[0].idps[0]: "nope": no identity provider with this id`,
		`gatehouse.toml:17: apps[0].policies[0].include[0].emails[0]: "x": not an email address`,
		`gatehouse.toml:21: apps[1].origin: "gopher://x": must be an http:// or https:// URL`,
		`gatehouse.toml:24: apps[1].policies[0].decision: "maybe": must be one of`,
		`gatehouse.toml:25: apps[1].policies[0].include: at least one include rule`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) || len(ce.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(lines), len(want), err)
	}
	for i, w := range want {
		if i < len(lines) && !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	if got := ce.Problems[0]; got.Line != 2 || got.Key != "listen" {
		t.Errorf("first problem = %+v", got)
	}
}

func TestConfigValidateWithoutFile(t *testing.T) {
	cfg := Default()
	cfg.TLS.Mode = "off"
	cfg.TeamDomain = "auth.example.com"
	err := cfg.Validate()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	if !strings.Contains(err.Error(), "idps: at least one identity provider") || !strings.Contains(err.Error(), "apps: at least one app") {
		t.Errorf("error = %v", err)
	}
	if ce.Problems[0].Line != 0 {
		t.Errorf("line = %d, want 0 for a config built in code", ce.Problems[0].Line)
	}
}

func TestConfigAccessApps(t *testing.T) {
	aud := strings.Repeat("ab", 32)
	src := validBase + `[[idps]]
id = "corp"
kind = "otp"
[[apps]]
name = "grafana"
domains = ["Grafana.Example.com", "*.grafana.example.com:8443"]
path = "/api/*"
origin = "http://127.0.0.1:3000"
aud = "` + aud + `"
session_duration = "8h"
idps = ["corp"]
  [[apps.policies]]
  name = "health"
  decision = "bypass"
  include = [{ ip_ranges = ["10.0.0.0/8", "192.0.2.7"] }]
  [[apps.policies]]
  name = "ops"
  decision = "allow"
  session_duration = "1h"
  include = [{ email_domains = ["example.com"] }, { emails = ["c@partner.org"] }]
  require = [{ groups = ["ops"] }, { claims = { dept = ["sre", "eng"] } }]
  exclude = [{ emails = ["gone@example.com"] }, { any_service_token = true }]
` + strings.Replace(validApp, `"app.example.com"`, `"b.example.com"`, 1)
	cfg, err := Parse([]byte(src), "gatehouse.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	apps, err := cfg.AccessApps()
	if err != nil {
		t.Fatalf("AccessApps: %v", err)
	}
	if len(apps) != 2 {
		t.Fatalf("got %d apps", len(apps))
	}
	want := &access.App{
		Name:            "grafana",
		AUD:             aud,
		Domains:         []string{"grafana.example.com", "*.grafana.example.com:8443"},
		Path:            "/api/*",
		Origin:          "http://127.0.0.1:3000",
		SessionDuration: 8 * time.Hour,
		IdPs:            []string{"corp"},
		Policies: []access.Policy{
			{
				Name:     "health",
				Decision: access.Bypass,
				Include: []access.Rule{{IPRanges: []netip.Prefix{
					netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
				}}},
			},
			{
				Name:            "ops",
				Decision:        access.Allow,
				SessionDuration: time.Hour,
				Include:         []access.Rule{{EmailDomains: []string{"example.com"}}, {Emails: []string{"c@partner.org"}}},
				Require:         []access.Rule{{Groups: []string{"ops"}}, {Claims: map[string][]string{"dept": {"sre", "eng"}}}},
				Exclude:         []access.Rule{{Emails: []string{"gone@example.com"}}, {AnyServiceToken: true}},
			},
		},
	}
	if !reflect.DeepEqual(apps[0], want) {
		t.Errorf("apps[0] =\n%+v\nwant\n%+v", apps[0], want)
	}
	if b := apps[1]; b.Name != "demo" || b.AUD != "" || b.Path != "" || b.SessionDuration != DefaultSessionDuration ||
		len(b.Policies) != 1 || !b.Policies[0].Include[0].Everyone {
		t.Errorf("apps[1] = %+v", b)
	}
}

func TestTLSConfigModesValid(t *testing.T) {
	tests := []struct {
		name string
		tls  string
	}{
		{"acme defaults", "mode = \"acme\"\n"},
		{"acme full", "mode = \"acme\"\nemail = \"ops@example.com\"\nca_url = \"https://ca.example.com/dir\"\nca_root = \"/etc/ca.pem\"\nchallenges = [\"tls-alpn-01\"]\n"},
		{"files", "mode = \"files\"\n[[tls.certs]]\ndomains = [\"auth.example.com\", \"*.example.com\"]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "team_domain = \"auth.example.com\"\n[tls]\n" + tt.tls + "[[idps]]\nid = \"pin\"\nkind = \"otp\"\n" + validApp
			cfg, err := Parse([]byte(src), "gatehouse.toml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if cfg.TeamURL() != "https://auth.example.com" {
				t.Errorf("TeamURL = %q", cfg.TeamURL())
			}
		})
	}
}

func TestConfigTeamURL(t *testing.T) {
	tests := []struct {
		name, mode, want string
	}{
		{"off", "off", "http://auth.example.com:8080"},
		{"acme", "acme", "https://auth.example.com:8080"},
		{"files", "files", "https://auth.example.com:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{TeamDomain: "auth.example.com:8080", TLS: TLSConfig{Mode: tt.mode}}
			if got := c.TeamURL(); got != tt.want {
				t.Errorf("TeamURL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigDurationUnmarshalText(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Duration
		wantErr  bool
	}{
		{"hours", "24h", 24 * time.Hour, false},
		{"mixed", "1h30m", 90 * time.Minute, false},
		{"empty", "", 0, false},
		{"days", "2d", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Duration
			err := d.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr || d.Duration != tt.want {
				t.Errorf("UnmarshalText(%q) = %v, %v", tt.in, d.Duration, err)
			}
		})
	}
}

func TestConfigSMTPPassword(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/pw"
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GATEHOUSE_TEST_SMTP_PW", "from-env")
	tests := []struct {
		name, smtp, want, wantErr string
	}{
		{"inline", `password = "inline"`, "inline", ""},
		{"file", `password_file = "` + file + `"`, "from-file", ""},
		{"env", `password_env = "GATEHOUSE_TEST_SMTP_PW"`, "from-env", ""},
		{"env missing", `password_env = "GATEHOUSE_TEST_UNSET_VARIABLE"`, "", "smtp.password_env: environment variable GATEHOUSE_TEST_UNSET_VARIABLE is not set"},
		{"file missing", `password_file = "` + dir + `/none"`, "", "smtp.password_file: cannot read \"" + dir + "/none\": no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := validBase + "[smtp]\nhost = \"mail.example.com\"\nfrom = \"g@example.com\"\n" + tt.smtp + "\n" + validApp
			cfg, err := Parse([]byte(src), "gatehouse.toml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if cfg.SMTP.Password != tt.want {
				t.Errorf("password = %q, want %q", cfg.SMTP.Password, tt.want)
			}
		})
	}
}

// appKeys is validApp with extra lines after its origin key.
func appKeys(lines string) string {
	return strings.Replace(validApp, `origin = "whoami"`, "origin = \"whoami\"\n"+lines, 1)
}

func TestConfigAppSettings(t *testing.T) {
	cfg, err := Parse([]byte(validBase+appKeys(`path = "/api"
http_only = false
same_site = "strict"
binding_cookie = true
path_cookie = true
deny_url = "https://example.com/denied"
service_token_header = "Authorization"
service_auth_401 = true
[apps.cors]
allowed_origins = ["https://spa.example.com"]
allow_credentials = true
max_age = 60`)), "gatehouse.toml")
	if err != nil {
		t.Fatal(err)
	}
	apps, err := cfg.AccessApps()
	if err != nil {
		t.Fatal(err)
	}
	s := apps[0].Settings
	if !s.Cookie.NoHTTPOnly || s.Cookie.SameSite != "strict" || !s.Cookie.Binding || !s.Cookie.PathCookie ||
		s.DenyURL != "https://example.com/denied" || s.ServiceTokenHeader != "Authorization" || !s.ServiceAuth401 ||
		!s.CORS.Enabled() || !s.CORS.AllowCredentials || s.CORS.MaxAge != time.Minute {
		t.Errorf("settings = %+v", s)
	}
	// Defaults: HttpOnly, no binding, CORS off.
	cfg, err = Parse([]byte(validBase+validApp), "gatehouse.toml")
	if err != nil {
		t.Fatal(err)
	}
	apps, _ = cfg.AccessApps()
	if d := apps[0].Settings; d.Cookie.NoHTTPOnly || d.Cookie.Binding || d.CORS.Enabled() || d.CORS.PreflightBypass {
		t.Errorf("default settings = %+v", d)
	}
}

// TestConfigSecretsOneRule checks that the SMTP password and an OIDC client
// secret follow the same rule: a value from a file or an environment
// variable is trimmed of surrounding whitespace and refused when empty.
func TestConfigSecretsOneRule(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := dir + "/" + name
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	padded := write("padded", "  s3cret \r\n\n")
	empty := write("empty", "")
	blank := write("blank", " \n\t\n")
	t.Setenv("GATEHOUSE_TEST_PADDED", "\ts3cret\n")
	t.Setenv("GATEHOUSE_TEST_EMPTY", "")
	t.Setenv("GATEHOUSE_TEST_BLANK", "  \n")
	tests := []struct {
		name, source, value, want, wantErr string
	}{
		{"file trimmed", "file", padded, "s3cret", ""},
		{"env trimmed", "env", "GATEHOUSE_TEST_PADDED", "s3cret", ""},
		{"file empty", "file", empty, "", `file "` + empty + `" is empty`},
		{"file blank", "file", blank, "", `file "` + blank + `" is empty`},
		{"file missing", "file", dir + "/none", "", `cannot read "` + dir + `/none": no such file or directory`},
		{"file is a directory", "file", dir, "", `cannot read "` + dir + `": is a directory`},
		{"env empty", "env", "GATEHOUSE_TEST_EMPTY", "", "environment variable GATEHOUSE_TEST_EMPTY is empty"},
		{"env blank", "env", "GATEHOUSE_TEST_BLANK", "", "environment variable GATEHOUSE_TEST_BLANK is empty"},
		{"env unset", "env", "GATEHOUSE_TEST_UNSET_VARIABLE", "", "environment variable GATEHOUSE_TEST_UNSET_VARIABLE is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			smtp := validBase + "[smtp]\nhost = \"mail.example.com\"\nfrom = \"g@example.com\"\npassword_" + tt.source + " = \"" + tt.value + "\"\n" + validApp
			oidc := validBase + oidcRow("issuer = \"https://login.example.com\"\nclient_id = \"c\"\nclient_secret_"+tt.source+" = \""+tt.value+"\"") + validApp
			cfg, smtpErr := Parse([]byte(smtp), "gatehouse.toml")
			ocfg, oidcErr := Parse([]byte(oidc), "gatehouse.toml")
			if tt.wantErr != "" {
				wantSMTP := "gatehouse.toml:10: smtp.password_" + tt.source + ": " + tt.wantErr
				if smtpErr == nil || smtpErr.Error() != wantSMTP {
					t.Errorf("smtp: error = %v, want %q", smtpErr, wantSMTP)
				}
				wantOIDC := "gatehouse.toml:12: idps[1].client_secret_" + tt.source + ": " + tt.wantErr
				if oidcErr == nil || oidcErr.Error() != wantOIDC {
					t.Errorf("oidc: error = %v, want %q", oidcErr, wantOIDC)
				}
				return
			}
			if smtpErr != nil || oidcErr != nil {
				t.Fatalf("Parse: smtp %v, oidc %v", smtpErr, oidcErr)
			}
			if cfg.SMTP.Password != tt.want {
				t.Errorf("smtp password = %q, want %q", cfg.SMTP.Password, tt.want)
			}
			if got, err := cfg.SMTP.ResolvePassword(); err != nil || got != tt.want {
				t.Errorf("ResolvePassword() = %q, %v; want %q", got, err, tt.want)
			}
			if got, err := ocfg.IdPs[1].OIDCSecret(); err != nil || got != tt.want {
				t.Errorf("OIDCSecret() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestConfigSecretErrors checks the Go errors of secrets resolved outside
// Parse: they start with "config: " and name the key.
func TestConfigSecretErrors(t *testing.T) {
	p := IdPConfig{ID: "corp", Kind: "oidc", ClientSecretEnv: "GATEHOUSE_TEST_UNSET_VARIABLE"}
	_, err := p.OIDCSecret()
	if want := "config: idp corp: client_secret_env: environment variable GATEHOUSE_TEST_UNSET_VARIABLE is not set"; err == nil || err.Error() != want {
		t.Errorf("OIDCSecret() error = %v, want %q", err, want)
	}
	s := SMTPConfig{PasswordFile: t.TempDir() + "/none"}
	_, err = s.ResolvePassword()
	if want := `config: smtp.password_file: cannot read "` + s.PasswordFile + `": no such file or directory`; err == nil || err.Error() != want {
		t.Errorf("ResolvePassword() error = %v, want %q", err, want)
	}
	if got, err := (IdPConfig{ClientSecret: " inline "}).OIDCSecret(); err != nil || got != " inline " {
		t.Errorf("inline secret = %q, %v; want it as written", got, err)
	}
}

// TestConfigSecretReportedWithOtherProblems checks that an unresolvable SMTP
// password is reported together with the other problems of the file.
func TestConfigSecretReportedWithOtherProblems(t *testing.T) {
	src := "listen = 80\n" + validBase + "[smtp]\npassword_env = \"GATEHOUSE_TEST_UNSET_VARIABLE\"\n" + validApp
	_, err := Parse([]byte(src), "gatehouse.toml")
	want := "gatehouse.toml:1: listen: expected a string, got integer 80\n" +
		"gatehouse.toml:9: smtp.password_env: environment variable GATEHOUSE_TEST_UNSET_VARIABLE is not set"
	if err == nil || err.Error() != want {
		t.Errorf("error =\n%v\nwant\n%s", err, want)
	}
}

func TestTOMLString(t *testing.T) {
	for in, want := range map[string]string{`plain`: `"plain"`, `a"b\c`: `"a\"b\\c"`, "tab\there\n": `"tab\u0009here\u000A"`} {
		if got := tomlString(in); got != want {
			t.Errorf("tomlString(%q) = %s, want %s", in, got, want)
		}
	}
}
