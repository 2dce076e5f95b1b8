package config

import (
	"fmt"
	"strings"
	"text/template"
)

// Starter holds the answers of `gatehouse init`, from which Render writes a
// commented starter configuration for production. IdP is "oidc", "saml" or
// "pin"; TLS is "acme", "files" or "off".
type Starter struct {
	Path       string // where the file is written, named in its comments
	TeamDomain string
	AppHost    string
	AppName    string
	Origin     string
	Admin      string // the first admin, also let into the first app
	IdP        string
	TLS        string
	DataDir    string

	OIDCIssuer, OIDCClientID, OIDCSecretFile string // IdP "oidc"
	SAMLMetadata                             string // IdP "saml": an http(s) URL or a file
	SMTPHost, SMTPFrom                       string // IdP "pin"
	SMTPPort                                 int
	SMTPUser, SMTPPasswordFile               string // optional; the password file with the user
	ACMEEmail                                string // TLS "acme"
	CertFile, KeyFile                        string // TLS "files"
}

// SAMLMetadataIsURL reports whether SAMLMetadata is a URL (metadata_url)
// rather than a file (metadata_file).
func (s Starter) SAMLMetadataIsURL() bool {
	return strings.HasPrefix(s.SAMLMetadata, "https://") || strings.HasPrefix(s.SAMLMetadata, "http://")
}

// Render returns the starter configuration. It is not validated here:
// Parse it to check it.
func (s Starter) Render() ([]byte, error) {
	var b strings.Builder
	if err := starterTemplate.Execute(&b, s); err != nil {
		return nil, fmt.Errorf("config: starter: %w", err)
	}
	return []byte(b.String()), nil
}

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

var starterTemplate = template.Must(template.New("starter").Funcs(template.FuncMap{"q": tomlString}).Parse(starterText))

// starterText is the starter configuration; config.example.toml describes
// every key and its default.
const starterText = `# Gatehouse configuration for {{.TeamDomain}}, written by gatehouse init.
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
# revocations, the audit log{{if eq .TLS "acme"}}, certificates{{end}}. It is owned by the user
# that runs gatehouse serve (files 0600): run the other commands as that user,
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
# The contact address of the ACME account.
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
