package app

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/gatehouse-dev/gatehouse/config"
)

// initAnswers are what `gatehouse init` asks, by flag name.
type initAnswers map[string]string

// initQuestion is one answer of `gatehouse init`: its flag, which is also
// its prompt, its default and when it applies.
type initQuestion struct {
	flag     string
	usage    string                      // flag usage, with the `ARG` name; the prompt without the backquotes
	def      string                      // default, also the flag's
	derive   func(a initAnswers) string  // default from earlier answers, when def is ""
	optional bool                        // may stay empty
	when     func(a initAnswers) bool    // nil: always asked
	check    func(v string) (msg string) // nil: any value; config.Parse checks the whole
}

// required reports whether q has no default and may not stay empty.
func (q initQuestion) required() bool { return q.def == "" && q.derive == nil && !q.optional }

// initQuestions are asked in this order; later ones depend on earlier
// answers (the IdP kind, the TLS mode).
func initQuestions() []initQuestion {
	is := func(flag string, vals ...string) func(initAnswers) bool {
		return func(a initAnswers) bool { return slices.Contains(vals, a[flag]) }
	}
	return []initQuestion{
		{flag: "team-domain", usage: "team domain: the `HOST` of the sign-in pages, such as auth.example.com"},
		{flag: "app-host", usage: "first app: its `HOST`, such as app.example.com"},
		{flag: "app-name", usage: "first app: its `NAME` (default: the first label of -app-host)",
			derive: func(a initAnswers) string { name, _, _ := strings.Cut(a["app-host"], "."); return name }},
		{flag: "origin", usage: "first app: its origin `URL`, where allowed requests go, such as http://127.0.0.1:3000"},
		{flag: "admin", usage: "first admin: the `EMAIL` that may open the admin pages and use the first app"},
		{flag: "idp", usage: "identity provider `KIND`: oidc, saml or pin (a one-time PIN by email)",
			check: oneOfCheck("oidc", "saml", "pin")},
		{flag: "oidc-issuer", usage: "OIDC issuer `URL`, such as https://example.okta.com (-idp oidc)", when: is("idp", "oidc")},
		{flag: "oidc-client-id", usage: "OIDC client `ID` (-idp oidc)", when: is("idp", "oidc")},
		{flag: "oidc-secret-file", usage: "OIDC client secret `FILE`: the secret on one line, readable by the serve's user only (-idp oidc)",
			def: "/etc/gatehouse/oidc-client-secret", when: is("idp", "oidc")},
		{flag: "saml-metadata", usage: "SAML IdP metadata: its https `URL`, or the path of the downloaded file (-idp saml)",
			when: is("idp", "saml")},
		{flag: "smtp-host", usage: "SMTP `HOST` that sends the PINs (-idp pin)", when: is("idp", "pin")},
		{flag: "smtp-port", usage: "SMTP `PORT` (-idp pin)", def: "587", when: is("idp", "pin"), check: portCheck},
		{flag: "smtp-from", usage: "sender `EMAIL` of the PIN emails (-idp pin)", when: is("idp", "pin")},
		{flag: "smtp-user", usage: "SMTP user `NAME`; empty: no authentication (-idp pin)", optional: true, when: is("idp", "pin")},
		{flag: "smtp-password-file", usage: "SMTP password `FILE`: the password on one line, readable by the serve's user only (-idp pin with -smtp-user)",
			def: "/etc/gatehouse/smtp-password", when: func(a initAnswers) bool { return a["idp"] == "pin" && a["smtp-user"] != "" }},
		{flag: "tls", usage: "TLS `MODE`: acme (certificates obtained automatically), files (your own) or off (behind a TLS-terminating proxy)",
			check: oneOfCheck("acme", "files", "off")},
		{flag: "acme-email", usage: "ACME account `EMAIL` for expiry notices (-tls acme; default: -admin)",
			derive: func(a initAnswers) string { return a["admin"] }, when: is("tls", "acme")},
		{flag: "cert-file", usage: "certificate `FILE` (PEM) covering the team domain and the app host (-tls files)",
			def: "/etc/gatehouse/tls.crt", when: is("tls", "files")},
		{flag: "key-file", usage: "key `FILE` (PEM) of the certificate (-tls files)", def: "/etc/gatehouse/tls.key", when: is("tls", "files")},
		{flag: "data-dir", usage: "data `DIR`: where the database lives", def: "/var/lib/gatehouse"},
	}
}

func oneOfCheck(vals ...string) func(string) string {
	return func(v string) string {
		if slices.Contains(vals, v) {
			return ""
		}
		return fmt.Sprintf("%q: one of %s", v, strings.Join(vals, ", "))
	}
}

func portCheck(v string) string {
	if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("%q: a port number", v)
	}
	return ""
}

// stdinIsTerminal reports whether standard input is a character device
// other than /dev/null: a terminal, where init may ask its questions.
func stdinIsTerminal() bool {
	st, err := os.Stdin.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// cmdInit is `gatehouse init`: it writes a commented starter configuration
// from its flags. When they leave out a required answer and terminal is
// true, it asks on stdout and reads the answers from stdin, one a line, for
// every question the flags did not answer. It never overwrites a file and
// writes it with mode 0600.
func cmdInit(args []string, stdin io.Reader, terminal bool, stdout io.Writer) error {
	fs := newFlagSet("init")
	out := fs.String("o", "gatehouse.toml", "write the configuration to `FILE` (never overwritten)")
	questions := initQuestions()
	vals := map[string]*string{}
	for _, q := range questions {
		vals[q.flag] = fs.String(q.flag, q.def, q.usage)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("%s exists; init never overwrites a file (use -o FILE)", *out)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *vals["idp"] == "otp" {
		*vals["idp"] = "pin"
	}
	a, missing, err := answerInit(questions, vals, given, nil, nil)
	if err != nil {
		return err
	}
	if len(missing) > 0 && terminal {
		a, _, err = answerInit(questions, vals, given, bufio.NewReader(stdin), stdout)
		if err != nil {
			return err
		}
	} else if len(missing) > 0 {
		return usageError{fmt.Errorf("missing %s (give them as flags, or run gatehouse init on a terminal to be asked)",
			strings.Join(missing, ", "))}
	}
	return writeInitConfig(*out, a, stdout)
}

// answerInit answers the questions that apply from the flags (vals, given
// naming those set) and the defaults. With in, it asks on stdout every
// question that no flag answered; without, it returns the flags of the
// required questions left unanswered.
func answerInit(questions []initQuestion, vals map[string]*string, given map[string]bool,
	in *bufio.Reader, stdout io.Writer) (initAnswers, []string, error) {
	a := initAnswers{}
	var missing []string
	for _, q := range questions {
		if q.when != nil && !q.when(a) {
			continue
		}
		v := strings.TrimSpace(*vals[q.flag])
		switch {
		case given[q.flag]:
		case in != nil:
			var err error
			if v, err = askInit(in, stdout, q, a); err != nil {
				return nil, nil, err
			}
		case v == "" && q.derive != nil:
			v = q.derive(a)
		}
		switch {
		case v != "" || q.optional:
		case given[q.flag]:
			return nil, nil, usageError{fmt.Errorf("-%s: must not be empty", q.flag)}
		case q.required():
			missing = append(missing, "-"+q.flag)
			continue
		default:
			continue // derived from a missing answer, which is reported
		}
		if q.check != nil && v != "" {
			if msg := q.check(v); msg != "" {
				return nil, nil, usageError{fmt.Errorf("-%s: %s", q.flag, msg)}
			}
		}
		a[q.flag] = v
	}
	return a, missing, nil
}

// askInit asks q on stdout and reads the answer, a line of in; the default
// is taken for an empty line. A required question is asked again until
// answered, and an answer that fails its check too.
func askInit(in *bufio.Reader, stdout io.Writer, q initQuestion, a initAnswers) (string, error) {
	def := q.def
	if q.derive != nil {
		def = q.derive(a)
	}
	prompt := strings.ReplaceAll(q.usage, "`", "")
	prompt = strings.ToUpper(prompt[:1]) + prompt[1:]
	for {
		if def != "" {
			fmt.Fprintf(stdout, "%s [%s]: ", prompt, def)
		} else {
			fmt.Fprintf(stdout, "%s: ", prompt)
		}
		line, err := in.ReadString('\n')
		if err != nil && (!errors.Is(err, io.EOF) || line == "") {
			if errors.Is(err, io.EOF) {
				return "", usageError{fmt.Errorf("standard input ended before -%s was answered", q.flag)}
			}
			return "", fmt.Errorf("app: init: %w", err)
		}
		v := strings.TrimSpace(line)
		if v == "" {
			v = def
		}
		msg := ""
		switch {
		case v == "" && !q.optional:
			msg = "required"
		case v != "" && q.check != nil:
			msg = q.check(v)
		}
		if msg == "" {
			return v, nil
		}
		fmt.Fprintf(stdout, "  %s\n", msg)
	}
}

// initKeyFlags names the flag behind a configuration key, so that a
// problem of the written file is reported as the answer that caused it.
var initKeyFlags = []struct{ key, flag string }{
	{"team_domain", "team-domain"}, {"apps[0].domains", "app-host"}, {"apps[0].name", "app-name"},
	{"apps[0].origin", "origin"}, {"admins", "admin"}, {"apps[0].policies", "admin"},
	{"idps[0].issuer", "oidc-issuer"}, {"idps[0].client_id", "oidc-client-id"},
	{"idps[0].client_secret", "oidc-secret-file"}, {"idps[0].metadata", "saml-metadata"},
	{"smtp.host", "smtp-host"}, {"smtp.port", "smtp-port"}, {"smtp.from", "smtp-from"},
	{"smtp.username", "smtp-user"}, {"smtp.password", "smtp-password-file"}, {"tls.email", "acme-email"},
	{"tls.certs", "cert-file"}, {"data_dir", "data-dir"},
}

// writeInitConfig renders the configuration of a, checks it as
// check-config would and writes it to path (created, mode 0600). Files the
// configuration names that do not exist yet (secrets, SAML metadata) are
// listed as next steps instead of failing.
func writeInitConfig(path string, a initAnswers, stdout io.Writer) error {
	data, err := renderInitConfig(path, a)
	if err != nil {
		return err
	}
	later := map[string]string{} // config key -> file still to be written
	note := func(key, file string) {
		if _, err := os.Stat(file); err != nil {
			later[key] = file
		}
	}
	switch a["idp"] {
	case "oidc":
		note("idps[0].client_secret_file", a["oidc-secret-file"])
	case "saml":
		if !isURL(a["saml-metadata"]) {
			note("idps[0].metadata_file", a["saml-metadata"])
		}
	case "pin":
		if a["smtp-user"] != "" {
			note("smtp.password_file", a["smtp-password-file"])
		}
	}
	if _, err := config.Parse(data, path); err != nil {
		var ce *config.Error
		if !errors.As(err, &ce) {
			return err
		}
		var msgs []string
		for _, p := range ce.Problems {
			if _, ok := later[p.Key]; ok {
				continue
			}
			where := p.Key
			for _, kf := range initKeyFlags {
				if p.Key == kf.key || strings.HasPrefix(p.Key, kf.key+".") || strings.HasPrefix(p.Key, kf.key+"[") {
					where = "-" + kf.flag
					break
				}
			}
			msgs = append(msgs, where+": "+p.Msg)
		}
		if len(msgs) > 0 {
			return usageError{errors.New("the answers make an invalid configuration, nothing written:\n  " + strings.Join(msgs, "\n  "))}
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; init never overwrites a file (use -o FILE)", path)
		}
		return fmt.Errorf("app: init: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("app: init: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("app: init: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (mode 0600)\n", path)
	step := 1
	for _, key := range slices.Sorted(maps.Keys(later)) {
		fmt.Fprintf(stdout, "%d. write %s (%s), readable only by the user that runs gatehouse serve\n", step, later[key], key)
		step++
	}
	fmt.Fprintf(stdout, "%d. point the DNS of %s and %s at this machine\n", step, a["team-domain"], a["app-host"])
	fmt.Fprintf(stdout, "%d. gatehouse check-config -config %s, then gatehouse serve -config %s (see scripts/gatehouse.service)\n", step+1, path, path)
	return nil
}

func isURL(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") }

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// renderInitConfig is the commented configuration file of a, to be
// written at path.
func renderInitConfig(path string, a initAnswers) ([]byte, error) {
	var b strings.Builder
	err := initTemplate.Execute(&b, map[string]any{
		"Path": path, "TeamDomain": a["team-domain"], "AppHost": a["app-host"], "AppName": a["app-name"],
		"Origin": a["origin"], "Admin": a["admin"], "IdP": a["idp"], "TLS": a["tls"], "DataDir": a["data-dir"],
		"OIDCIssuer": a["oidc-issuer"], "OIDCClientID": a["oidc-client-id"], "OIDCSecretFile": a["oidc-secret-file"],
		"SAMLMetadata": a["saml-metadata"], "SAMLMetadataIsURL": isURL(a["saml-metadata"]),
		"SMTPHost": a["smtp-host"], "SMTPPort": a["smtp-port"], "SMTPFrom": a["smtp-from"],
		"SMTPUser": a["smtp-user"], "SMTPPasswordFile": a["smtp-password-file"],
		"ACMEEmail": a["acme-email"], "CertFile": a["cert-file"], "KeyFile": a["key-file"],
	})
	if err != nil {
		return nil, fmt.Errorf("app: init: %w", err)
	}
	return []byte(b.String()), nil
}

var initTemplate = template.Must(template.New("init").Option("missingkey=error").
	Funcs(template.FuncMap{"q": tomlString}).Parse(initConfigText))

// initConfigText is the starter configuration. config.example.toml in the
// sources describes every key and its default.
const initConfigText = `# Gatehouse configuration for {{.TeamDomain}}, written by gatehouse init.
# Check it with: gatehouse check-config -config {{.Path}}
# Every key and its default is described in config.example.toml of the
# Gatehouse sources. Durations are Go duration strings: "90s", "15m", "24h".

# The host of the sign-in pages. Point its DNS (A/AAAA records) at this
# machine, and the DNS of every app domain below. Tokens carry
# iss = "https://{{.TeamDomain}}"; apps fetch the signing keys from
# https://{{.TeamDomain}}/cdn-cgi/access/certs.
team_domain = {{q .TeamDomain}}
{{if eq .TLS "off"}}
# tls.mode is "off": Gatehouse serves plain HTTP here, to the proxy or load
# balancer in front of it that terminates TLS and forwards every host.
listen = ":8080"
# Browsers reach Gatehouse over HTTPS through that proxy: redirects, login
# URLs and the token issuer say https://, cookies are Secure, HSTS is sent.
public_scheme = "https"
# The proxy's address, so that the client address is read from
# X-Forwarded-For (default: the TCP peer is the client).
# trusted_proxies = ["10.0.0.0/8"]
{{else}}
# Plain HTTP: answers ACME HTTP-01 challenges and redirects everything else
# to HTTPS. Ports below 1024 need CAP_NET_BIND_SERVICE, which the systemd
# unit scripts/gatehouse.service grants.
listen = ":80"
# HTTPS for the team domain and every app.
listen_https = ":443"
{{end}}
# Directory of the database gatehouse.db: sessions, signing keys,
# revocations, the audit log{{if eq .TLS "acme"}}, certificates{{end}}. It is owned by the user that
# runs gatehouse serve (files 0600): run the other commands as that user,
# such as: sudo -u gatehouse gatehouse revoke -config FILE --user EMAIL
data_dir = {{q .DataDir}}

# Lifetime of the sign-in session on the team domain. Default "24h".
global_session = "24h"

# Who may open the admin pages, https://{{.TeamDomain}}/admin: emails, or
# "group:NAME" for everyone in an identity-provider group.
admins = [{{q .Admin}}]

[tls]
{{- if eq .TLS "acme"}}
# Certificates for the team domain and every app domain are obtained on
# first start (Let's Encrypt by default) and renewed automatically; ports 80
# and 443 must be reachable from the internet.
mode = "acme"
# The ACME account email: the CA writes here about expiring certificates.
email = {{q .ACMEEmail}}
# How the CA validates: "http-01" (on port 80) and "tls-alpn-01" (on 443).
# Default: both. Keep only one if the other port is not reachable.
# challenges = ["http-01", "tls-alpn-01"]
# Another ACME CA, and the PEM root of a private one:
# ca_url = "https://acme-v02.api.letsencrypt.org/directory"
# ca_root = "/etc/gatehouse/ca.pem"
{{- else if eq .TLS "files"}}
# Certificates from files (PEM): together they must cover the team domain
# and every app domain (check-config says which name is not covered).
# Replaced files are picked up within 10 seconds, without a restart.
mode = "files"

[[tls.certs]]
domains = [{{q .TeamDomain}}, {{q .AppHost}}]
cert_file = {{q .CertFile}}
key_file = {{q .KeyFile}}
{{- else}}
# TLS is terminated in front of Gatehouse (see listen and public_scheme).
mode = "off"
{{- end}}

[log]
# "debug", "info", "warn" or "error".
level = "info"
# "text", or "json" for log shippers.
format = "text"
# One line per proxied request (never a token, cookie or query).
access_log = true

# Prometheus /metrics, /healthz and /readyz; keep them off the internet.
[metrics]
listen = "127.0.0.1:9191"

# A new signing key every six weeks; "0s" turns rotation off.
[keys]
rotate_every = "1008h"
{{if eq .IdP "pin"}}
# Outgoing mail for the one-time PINs.
[smtp]
host = {{q .SMTPHost}}
port = {{.SMTPPort}}
{{- if .SMTPUser}}
username = {{q .SMTPUser}}
# The password is read from this file (one line, readable only by the user
# that runs gatehouse serve); or password_env = "VARIABLE".
password_file = {{q .SMTPPasswordFile}}
{{- end}}
from = {{q .SMTPFrom}}
# Upgrade the connection with STARTTLS (port 587). Default true.
starttls = true

# Sign-in with a one-time PIN sent by email to any address; the app's
# policies below decide who gets in.
[[idps]]
id = "pin"
kind = "otp"
name = "Email PIN"
{{- else if eq .IdP "oidc"}}
# OpenID Connect. Register the redirect URI
#   https://{{.TeamDomain}}/cdn-cgi/access/callback
# at the provider.
[[idps]]
id = "oidc"
kind = "oidc"
# The label of the sign-in button.
name = "Single sign-on"
issuer = {{q .OIDCIssuer}}
client_id = {{q .OIDCClientID}}
# The client secret is read from this file (one line, readable only by the
# user that runs gatehouse serve); or client_secret_env = "VARIABLE".
client_secret_file = {{q .OIDCSecretFile}}
# Add "groups" when the provider issues a groups claim for group policies.
scopes = ["openid", "email", "profile"]
{{- else}}
# SAML 2.0, Gatehouse being the service provider. Give the IdP the SP
# metadata at https://{{.TeamDomain}}/cdn-cgi/access/saml-metadata
# (its ACS is https://{{.TeamDomain}}/cdn-cgi/access/callback). The SP key
# pair is generated once in data_dir.
[[idps]]
id = "saml"
kind = "saml"
# The label of the sign-in button.
name = "Single sign-on"
{{- if .SAMLMetadataIsURL}}
# Fetched at start, and retried in the background while it fails.
metadata_url = {{q .SAMLMetadata}}
{{- else}}
metadata_file = {{q .SAMLMetadata}}
{{- end}}
{{- end}}

# The first protected application. Point the DNS of its domains at this
# machine. Add more [[apps]] entries for more apps.
[[apps]]
# Used by gatehouse revoke --app NAME and shown on the app launcher.
name = {{q .AppName}}
domains = [{{q .AppHost}}]
# Where allowed requests go, with the identity in Cf-Access-Jwt-Assertion
# and Cf-Access-Authenticated-User-Email.
origin = {{q .Origin}}
# Lifetime of the app's token; it is refreshed silently while the sign-in
# session lives. Default "24h".
session_duration = "24h"

  # Who may use the app: the first match of the policies wins, no match is
  # refused. Add people with emails = [...], whole domains with
  # email_domains = ["example.com"], identity-provider groups with
  # groups = ["ops"].
  [[apps.policies]]
  name = "first users"
  decision = "allow"
  include = [{ emails = [{{q .Admin}}] }]
`
