// Package config reads gatehouse.toml: the schema and its defaults, a strict
// decode that reports every unknown key and mistyped value, validation, and
// the resolution of secrets kept in files or environment variables. Every
// mistake is reported at once as "file:line: key.path: message" (Error).
package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Config is the whole of gatehouse.toml. Keys are snake_case; see
// config.example.toml for what each one does.
type Config struct {
	TeamDomain     string        `toml:"team_domain"`      // host[:port] of the sign-in pages
	Listen         string        `toml:"listen"`           // HTTP listen address
	ListenHTTPS    string        `toml:"listen_https"`     // HTTPS listen address when TLS is on
	DataDir        string        `toml:"data_dir"`         // directory of gatehouse.db
	GlobalSession  Duration      `toml:"global_session"`   // lifetime of the team-domain session
	Admins         []string      `toml:"admins"`           // emails or "group:NAME"
	TrustedProxies []string      `toml:"trusted_proxies"`  // CIDRs whose client IP header is believed
	ClientIPHeader string        `toml:"client_ip_header"` // header naming the client IP behind a trusted proxy
	ShutdownGrace  Duration      `toml:"shutdown_grace"`   // how long requests may finish after SIGTERM
	PublicScheme   string        `toml:"public_scheme"`    // "https" behind a TLS terminator; "" from tls.mode
	TLS            TLSConfig     `toml:"tls"`
	Log            LogConfig     `toml:"log"`
	Metrics        MetricsConfig `toml:"metrics"`
	Keys           KeysConfig    `toml:"keys"`
	SMTP           SMTPConfig    `toml:"smtp"`
	GeoIP          GeoIPConfig   `toml:"geoip"`
	Store          StoreConfig   `toml:"store"`
	IdPs           []IdPConfig   `toml:"idps"`
	Apps           []AppConfig   `toml:"apps"`

	file  string         // name given to Parse
	lines map[string]int // key path -> line in the file
}

// TLSConfig is the [tls] table. Mode "acme" obtains certificates for the
// team domain and every concrete app domain; "files" serves the
// certificates in Certs; "off" serves plain HTTP.
type TLSConfig struct {
	Mode       string    `toml:"mode"`       // "acme", "files" or "off"
	Email      string    `toml:"email"`      // ACME account email
	CAURL      string    `toml:"ca_url"`     // ACME directory URL; Let's Encrypt when empty
	CARoot     string    `toml:"ca_root"`    // PEM file of a root to trust for the ACME directory (private CAs)
	Challenges []string  `toml:"challenges"` // ACME challenges: "http-01", "tls-alpn-01"; both when empty
	Certs      []TLSCert `toml:"certs"`      // certificates for mode "files"
}

// TLSCert is one certificate of mode "files".
type TLSCert struct {
	Domains  []string `toml:"domains"`
	CertFile string   `toml:"cert_file"`
	KeyFile  string   `toml:"key_file"`
}

// LogConfig is the [log] table.
type LogConfig struct {
	Level     string `toml:"level"`      // debug, info, warn or error
	Format    string `toml:"format"`     // text or json
	AccessLog bool   `toml:"access_log"` // one line per proxied request
}

// MetricsConfig is the [metrics] table: Prometheus metrics, /healthz and
// /readyz on their own listener.
type MetricsConfig struct {
	Listen string `toml:"listen"` // host:port; "" disables the listener
}

// KeysConfig is the [keys] table: signing-key rotation.
type KeysConfig struct {
	RotateEvery Duration `toml:"rotate_every"` // age at which a new signing key is made; 0 disables
}

// SMTPConfig is the [smtp] table. Without Host, one-time PINs go to the log.
type SMTPConfig struct {
	Host         string `toml:"host"`
	Port         int    `toml:"port"`
	Username     string `toml:"username"`
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
	PasswordEnv  string `toml:"password_env"`
	From         string `toml:"from"`
	StartTLS     bool   `toml:"starttls"`
}

// IdPConfig is one [[idps]] entry.
type IdPConfig struct {
	ID   string `toml:"id"`   // [a-z0-9-]+, unique
	Kind string `toml:"kind"` // "otp", "oidc" or "saml"
	Name string `toml:"name"` // shown on the sign-in page

	// kind = "oidc"
	Issuer               string   `toml:"issuer"`
	ClientID             string   `toml:"client_id"`
	ClientSecret         string   `toml:"client_secret"`      // or client_secret_file / client_secret_env; never logged
	ClientSecretFile     string   `toml:"client_secret_file"` // file holding the secret
	ClientSecretEnv      string   `toml:"client_secret_env"`  // environment variable holding the secret
	Scopes               []string `toml:"scopes"`             // default openid email profile
	EmailClaim           string   `toml:"email_claim"`        // default "email"
	NameClaim            string   `toml:"name_claim"`         // default "name"
	GroupsClaim          string   `toml:"groups_claim"`       // default "groups"
	Userinfo             bool     `toml:"userinfo"`           // merge the userinfo endpoint's claims
	AllowUnverifiedEmail bool     `toml:"allow_unverified_email"`
	Claims               []string `toml:"claims"` // copied into the token's custom claim
	// BackchannelLogout accepts the provider's back-channel logout tokens
	// at /cdn-cgi/access/backchannel-logout/<id>.
	BackchannelLogout bool `toml:"backchannel_logout"`
	// LogoutAtIdP: signing out of Gatehouse also ends the provider's
	// session (RP-initiated logout through its end_session_endpoint).
	LogoutAtIdP bool `toml:"logout_at_idp"`

	// kind = "saml"
	MetadataURL     string   `toml:"metadata_url"`     // IdP metadata URL, or
	MetadataFile    string   `toml:"metadata_file"`    // IdP metadata file
	EmailAttribute  string   `toml:"email_attribute"`  // default: common names, then an email NameID
	NameAttribute   string   `toml:"name_attribute"`   // default: common names
	GroupsAttribute string   `toml:"groups_attribute"` // default: common names
	Attributes      []string `toml:"attributes"`       // copied into the token's custom claim
	SPKeyFile       string   `toml:"sp_key_file"`      // SP key (PEM); with sp_cert_file, else generated in data_dir
	SPCertFile      string   `toml:"sp_cert_file"`     // SP certificate (PEM)
}

// AppConfig is one [[apps]] entry.
type AppConfig struct {
	Name            string         `toml:"name"`
	Domains         []string       `toml:"domains"`
	Path            string         `toml:"path"`           // "", "/prefix" or "/prefix/*"
	Origin          string         `toml:"origin"`         // "whoami" or an http(s) URL; "" with forward_auth
	ForwardAuth     bool           `toml:"forward_auth"`   // reached through an edge proxy that asks /cdn-cgi/access/forward-auth
	OriginTimeout   Duration       `toml:"origin_timeout"` // how long the origin may take to start answering; default 100s
	AUD             string         `toml:"aud"`            // pinned 64-hex AUD, or ""
	SessionDuration Duration       `toml:"session_duration"`
	IdPs            []string       `toml:"idps"` // allowed provider ids; empty: all
	LogoURL         string         `toml:"logo_url"`
	Hidden          bool           `toml:"hidden"` // hide from the app launcher
	Policies        []PolicyConfig `toml:"policies"`

	// Cookie settings of CF_Authorization (and CF_Binding).
	HTTPOnly      bool   `toml:"http_only"`      // default true
	SameSite      string `toml:"same_site"`      // "lax" (default), "strict" or "none" (implies Secure)
	BindingCookie bool   `toml:"binding_cookie"` // also set CF_Binding; the token carries its hash
	PathCookie    bool   `toml:"path_cookie"`    // cookie Path = the app path
	HSTS          bool   `toml:"hsts"`           // Strict-Transport-Security on the app's HTTPS responses; default true

	CORS CORSConfig `toml:"cors"`

	DenyMessage string `toml:"deny_message"` // shown on the 403 page of a refusal
	DenyURL     string `toml:"deny_url"`     // or: navigations refused go there (http(s) URL)

	ServiceTokenHeader string `toml:"service_token_header"` // one header holding {"cf-access-client-id","cf-access-client-secret"}
	ServiceAuth401     bool   `toml:"service_auth_401"`     // 401 instead of 403 for unauthenticated requests to a service-only app
}

// CORSConfig is an app's [apps.cors] table: either preflight_bypass, or the
// allowed_* lists Gatehouse answers preflights from.
type CORSConfig struct {
	PreflightBypass  bool     `toml:"preflight_bypass"`  // OPTIONS preflights go to the origin untouched
	AllowedOrigins   []string `toml:"allowed_origins"`   // "https://app.example.com" or "*"
	AllowedMethods   []string `toml:"allowed_methods"`   // default GET, HEAD, POST
	AllowedHeaders   []string `toml:"allowed_headers"`   // "*" echoes the requested headers
	AllowCredentials bool     `toml:"allow_credentials"` // Access-Control-Allow-Credentials: true
	MaxAge           int      `toml:"max_age"`           // seconds; Access-Control-Max-Age
}

// PolicyConfig is one [[apps.policies]] entry.
type PolicyConfig struct {
	Name            string       `toml:"name"`
	Decision        string       `toml:"decision"`         // allow, block, bypass or service_auth
	SessionDuration Duration     `toml:"session_duration"` // 0: the app's
	Include         []RuleConfig `toml:"include"`
	Require         []RuleConfig `toml:"require"`
	Exclude         []RuleConfig `toml:"exclude"`
}

// RuleConfig is one rule of a policy: an inline table of selectors.
type RuleConfig struct {
	Everyone        bool                `toml:"everyone"`
	Emails          []string            `toml:"emails"`
	EmailDomains    []string            `toml:"email_domains"`
	Groups          []string            `toml:"groups"`
	IdPs            []string            `toml:"idps"`
	IPRanges        []string            `toml:"ip_ranges"`
	Countries       []string            `toml:"countries"` // ISO 3166-1 alpha-2, judged per request
	ServiceTokens   []string            `toml:"service_tokens"`
	AnyServiceToken bool                `toml:"any_service_token"`
	Claims          map[string][]string `toml:"claims"`
}

// Duration is a time.Duration written as a Go duration string ("90m", "24h").
// The empty string decodes to 0.
type Duration struct {
	time.Duration
}

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		d.Duration = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (use Go duration syntax such as \"90m\" or \"24h\")", string(b))
	}
	d.Duration = v
	return nil
}

// MarshalText renders the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.Duration.String()), nil
}

// Defaults that the validation and the example refer to.
const (
	DefaultSessionDuration = access.DefaultSessionDuration
	MaxSessionDuration     = 744 * time.Hour // one month
	MinGlobalSession       = 15 * time.Minute
	DefaultKeyRotation     = 1008 * time.Hour // six weeks
)

// Default returns the configuration every file is decoded over.
func Default() Config {
	return Config{
		Listen:         "127.0.0.1:8080",
		ListenHTTPS:    ":443",
		DataDir:        "./data",
		GlobalSession:  Duration{DefaultSessionDuration},
		ShutdownGrace:  Duration{10 * time.Second},
		ClientIPHeader: "X-Forwarded-For",
		TLS:            TLSConfig{Mode: "acme"},
		Log:            LogConfig{Level: "info", Format: "text", AccessLog: true},
		Metrics:        MetricsConfig{Listen: "127.0.0.1:9191"},
		Keys:           KeysConfig{RotateEvery: Duration{DefaultKeyRotation}},
		SMTP:           SMTPConfig{Port: 587, StartTLS: true},
		Store:          StoreConfig{Backend: StoreSQLite, StaleAfter: Duration{DefaultStaleAfter}, AckTimeout: Duration{DefaultAckTimeout}},
	}
}

// defaultApp is what each [[apps]] entry is decoded over.
func defaultApp() AppConfig {
	return AppConfig{SessionDuration: Duration{DefaultSessionDuration}, HTTPOnly: true, HSTS: true}
}

// defaultIdPName returns the sign-in page label of a provider kind.
func defaultIdPName(kind string) string {
	switch kind {
	case "otp":
		return "Email PIN"
	case "oidc":
		return "OpenID Connect"
	case "saml":
		return "SAML"
	}
	return kind
}

// TeamURL returns the base URL of the team domain.
func (c *Config) TeamURL() string {
	return c.Scheme() + "://" + c.TeamDomain
}

// Scheme is the public scheme of the team domain and the apps: public_scheme
// when set (behind a TLS-terminating proxy), else https unless tls.mode is
// "off".
func (c *Config) Scheme() string {
	switch {
	case c.PublicScheme != "":
		return c.PublicScheme
	case c.TLS.Mode == "off":
		return "http"
	}
	return "https"
}

// Secure reports whether browsers reach Gatehouse over HTTPS: cookies get
// the Secure attribute and responses HSTS.
func (c *Config) Secure() bool { return c.Scheme() == "https" }

// TrustedProxyPrefixes returns trusted_proxies parsed; a bare address is a
// single-address prefix.
func (c *Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(c.TrustedProxies))
	for _, s := range c.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("config: trusted_proxies: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// parsePrefix parses a CIDR, or a bare address as a single-address prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// LongestSession is the longest lifetime a token of this configuration can
// have: the global session, or the longest app or policy session_duration.
func (c *Config) LongestSession() time.Duration {
	d := c.GlobalSession.Duration
	for _, a := range c.Apps {
		d = max(d, a.SessionDuration.Duration)
		for _, p := range a.Policies {
			d = max(d, p.SessionDuration.Duration)
		}
	}
	return d
}

// CertNames lists the names Gatehouse answers for: team (the running team
// domain) and every app domain, as configured.
func (c *Config) CertNames(team string) []string {
	names := []string{team}
	for _, app := range c.Apps {
		names = append(names, app.Domains...)
	}
	return names
}
