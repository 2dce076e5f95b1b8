package config

import (
	"encoding"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

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
	TLS            TLSConfig     `toml:"tls"`
	Log            LogConfig     `toml:"log"`
	Metrics        MetricsConfig `toml:"metrics"`
	Keys           KeysConfig    `toml:"keys"`
	SMTP           SMTPConfig    `toml:"smtp"`
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

// OIDCSecret returns the client secret of an OIDC provider from the
// config, its file or its environment variable.
func (p IdPConfig) OIDCSecret() (string, error) {
	switch {
	case p.ClientSecretFile != "":
		b, err := os.ReadFile(p.ClientSecretFile)
		if err != nil {
			return "", fmt.Errorf("config: idp %s: client_secret_file: %w", p.ID, err)
		}
		return strings.TrimSpace(string(b)), nil
	case p.ClientSecretEnv != "":
		v, ok := os.LookupEnv(p.ClientSecretEnv)
		if !ok || v == "" {
			return "", fmt.Errorf("config: idp %s: client_secret_env: $%s is not set", p.ID, p.ClientSecretEnv)
		}
		return v, nil
	}
	return p.ClientSecret, nil
}

// AppConfig is one [[apps]] entry.
type AppConfig struct {
	Name            string         `toml:"name"`
	Domains         []string       `toml:"domains"`
	Path            string         `toml:"path"`   // "", "/prefix" or "/prefix/*"
	Origin          string         `toml:"origin"` // "whoami" or an http(s) URL
	AUD             string         `toml:"aud"`    // pinned 64-hex AUD, or ""
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
		ClientIPHeader: "X-Forwarded-For",
		TLS:            TLSConfig{Mode: "acme"},
		Log:            LogConfig{Level: "info", Format: "text", AccessLog: true},
		Metrics:        MetricsConfig{Listen: "127.0.0.1:9191"},
		Keys:           KeysConfig{RotateEvery: Duration{DefaultKeyRotation}},
		SMTP:           SMTPConfig{Port: 587, StartTLS: true},
	}
}

// defaultApp is what each [[apps]] entry is decoded over.
func defaultApp() AppConfig {
	return AppConfig{SessionDuration: Duration{DefaultSessionDuration}, HTTPOnly: true}
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

// Problem is one mistake in a configuration.
type Problem struct {
	Line int    // 1-based line in the file, 0 when not known
	Key  string // key path such as "apps[1].domains[0]", "" for the whole file
	Msg  string
}

// Error lists every problem found in a configuration file.
type Error struct {
	File     string
	Problems []Problem
}

// Error renders one problem per line: "file:line: key: message".
func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		var b strings.Builder
		switch {
		case e.File != "" && p.Line > 0:
			fmt.Fprintf(&b, "%s:%d: ", e.File, p.Line)
		case e.File != "":
			b.WriteString(e.File + ": ")
		case p.Line > 0:
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		if p.Key != "" {
			b.WriteString(p.Key + ": ")
		}
		b.WriteString(p.Msg)
		lines = append(lines, b.String())
	}
	return strings.Join(lines, "\n")
}

// Load reads path, decodes it strictly over Default and validates it.
// Problems are returned together as a *Error.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes data (named name in messages) over Default and
// validates it. Unknown keys, type errors and validation problems are all
// reported at once in a *Error.
func Parse(data []byte, name string) (*Config, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, &Error{File: name, Problems: []Problem{{
				Line: line, Key: strings.Join(de.Key(), "."),
				Msg: "syntax error: " + strings.TrimPrefix(de.Error(), "toml: "),
			}}}
		}
		return nil, &Error{File: name, Problems: []Problem{{Msg: "syntax error: " + err.Error()}}}
	}

	cfg := Default()
	cfg.file = name
	cfg.lines = keyLines(data)
	dec := &decoder{lines: cfg.lines}
	dec.value(reflect.ValueOf(&cfg).Elem(), doc, "")

	problems := dec.problems
	if err := cfg.Validate(); err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			return nil, err
		}
		for _, p := range ce.Problems {
			if !coveredBy(p.Key, dec.problems) {
				problems = append(problems, p)
			}
		}
	}
	if len(problems) == 0 && (cfg.SMTP.PasswordFile != "" || cfg.SMTP.PasswordEnv != "") {
		key := "smtp.password_file"
		if cfg.SMTP.PasswordEnv != "" {
			key = "smtp.password_env"
		}
		pw, err := cfg.SMTP.ResolvePassword()
		if err != nil {
			problems = append(problems, Problem{Line: lineOf(cfg.lines, key), Key: key, Msg: err.Error()})
		}
		cfg.SMTP.Password = pw
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
		return nil, &Error{File: name, Problems: problems}
	}
	return &cfg, nil
}

// coveredBy reports whether key is, or lies under, a key that already has a
// decoding problem, so that a mistyped value is not also reported as missing.
func coveredBy(key string, decoded []Problem) bool {
	for _, d := range decoded {
		if d.Key == "" {
			continue
		}
		if key == d.Key || strings.HasPrefix(key, d.Key+".") || strings.HasPrefix(key, d.Key+"[") {
			return true
		}
	}
	return false
}

// ResolvePassword returns the SMTP password from password, the file named by
// password_file (trailing newline removed) or the variable named by password_env.
// Parse resolves it into Password already.
func (s SMTPConfig) ResolvePassword() (string, error) {
	switch {
	case s.PasswordFile != "":
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("cannot read the password: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case s.PasswordEnv != "":
		pw, ok := os.LookupEnv(s.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", s.PasswordEnv)
		}
		return pw, nil
	}
	return s.Password, nil
}

// TeamURL returns the base URL of the team domain.
func (c *Config) TeamURL() string {
	if c.TLS.Mode == "off" {
		return "http://" + c.TeamDomain
	}
	return "https://" + c.TeamDomain
}

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

// AccessApps converts the apps into access apps. AUD is the pinned AUD
// or "" (the caller fills in the stored one). Domains are lowercased and a
// trailing "/*" of the path is dropped.
func (c *Config) AccessApps() ([]*access.App, error) {
	apps := make([]*access.App, 0, len(c.Apps))
	for i, a := range c.Apps {
		pa := &access.App{
			Name:            a.Name,
			AUD:             strings.ToLower(a.AUD),
			Origin:          a.Origin,
			Path:            normalizePath(a.Path),
			SessionDuration: a.SessionDuration.Duration,
			IdPs:            slices.Clone(a.IdPs),
			LogoURL:         a.LogoURL,
			Hidden:          a.Hidden,
		}
		pa.Settings = a.settings()
		for _, d := range a.Domains {
			pa.Domains = append(pa.Domains, strings.ToLower(d))
		}
		for j, p := range a.Policies {
			pp := access.Policy{
				Name:            p.Name,
				Decision:        p.Decision,
				SessionDuration: p.SessionDuration.Duration,
			}
			var err error
			if pp.Include, err = convertRules(p.Include); err != nil {
				return nil, fmt.Errorf("config: apps[%d].policies[%d].include: %w", i, j, err)
			}
			if pp.Require, err = convertRules(p.Require); err != nil {
				return nil, fmt.Errorf("config: apps[%d].policies[%d].require: %w", i, j, err)
			}
			if pp.Exclude, err = convertRules(p.Exclude); err != nil {
				return nil, fmt.Errorf("config: apps[%d].policies[%d].exclude: %w", i, j, err)
			}
			pa.Policies = append(pa.Policies, pp)
		}
		apps = append(apps, pa)
	}
	return apps, nil
}

func convertRules(rules []RuleConfig) ([]access.Rule, error) {
	var out []access.Rule
	for _, r := range rules {
		pr := access.Rule{
			Everyone:        r.Everyone,
			Emails:          slices.Clone(r.Emails),
			EmailDomains:    slices.Clone(r.EmailDomains),
			Groups:          slices.Clone(r.Groups),
			IdPs:            slices.Clone(r.IdPs),
			ServiceTokens:   slices.Clone(r.ServiceTokens),
			AnyServiceToken: r.AnyServiceToken,
		}
		for _, s := range r.IPRanges {
			p, err := parsePrefix(s)
			if err != nil {
				return nil, err
			}
			pr.IPRanges = append(pr.IPRanges, p)
		}
		if len(r.Claims) > 0 {
			pr.Claims = make(map[string][]string, len(r.Claims))
			for k, v := range r.Claims {
				pr.Claims[k] = slices.Clone(v)
			}
		}
		out = append(out, pr)
	}
	return out, nil
}

// normalizePath turns "/prefix/*" and "/prefix/" into "/prefix", and "/" into "".
func normalizePath(p string) string {
	p = strings.TrimSuffix(p, "*")
	return strings.TrimRight(p, "/")
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

// decoder copies a generic TOML document into a typed value, collecting a
// Problem for every unknown key and mistyped value instead of stopping at the
// first.
type decoder struct {
	lines    map[string]int
	problems []Problem
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func (d *decoder) fail(key, format string, args ...any) {
	d.problems = append(d.problems, Problem{Line: lineOf(d.lines, key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// value stores src (decoded by go-toml into generic Go values) into dst.
func (d *decoder) value(dst reflect.Value, src any, key string) {
	if dst.CanAddr() && dst.Addr().Type().Implements(textUnmarshalerType) {
		s, ok := src.(string)
		if !ok {
			d.fail(key, "expected a string, got %s", tomlType(src))
			return
		}
		if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.fail(key, "%v", err)
		}
		return
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			d.fail(key, "expected a string, got %s", tomlType(src))
			return
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := src.(bool)
		if !ok {
			d.fail(key, "expected true or false, got %s", tomlType(src))
			return
		}
		dst.SetBool(b)
	case reflect.Int:
		n, ok := src.(int64)
		if !ok {
			d.fail(key, "expected an integer, got %s", tomlType(src))
			return
		}
		if dst.OverflowInt(n) {
			d.fail(key, "integer %d out of range", n)
			return
		}
		dst.SetInt(n)
	case reflect.Slice:
		arr, ok := src.([]any)
		if !ok {
			d.fail(key, "expected an array, got %s", tomlType(src))
			return
		}
		out := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		for i, v := range arr {
			el := out.Index(i)
			if el.Type() == reflect.TypeFor[AppConfig]() {
				el.Set(reflect.ValueOf(defaultApp()))
			}
			d.value(el, v, fmt.Sprintf("%s[%d]", key, i))
		}
		dst.Set(out)
	case reflect.Map:
		m, ok := src.(map[string]any)
		if !ok {
			d.fail(key, "expected a table, got %s", tomlType(src))
			return
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for _, k := range sortedKeys(m) {
			el := reflect.New(dst.Type().Elem()).Elem()
			d.value(el, m[k], joinKey(key, k))
			out.SetMapIndex(reflect.ValueOf(k), el)
		}
		dst.Set(out)
	case reflect.Struct:
		m, ok := src.(map[string]any)
		if !ok {
			d.fail(key, "expected a table, got %s", tomlType(src))
			return
		}
		fields := tomlFields(dst.Type())
		for _, k := range sortedKeys(m) {
			idx, ok := fields[k]
			if !ok {
				d.fail(joinKey(key, k), "unknown key")
				continue
			}
			d.value(dst.Field(idx), m[k], joinKey(key, k))
		}
	default:
		d.fail(key, "cannot decode into %s", dst.Type())
	}
}

// tomlFields maps the toml tag names of t's fields to field indexes.
func tomlFields(t reflect.Type) map[string]int {
	out := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name != "" && name != "-" {
			out[name] = i
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// joinKey appends a key name to a key path, quoting names that are not bare keys.
func joinKey(path, name string) string {
	bare := name != ""
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			bare = false
			break
		}
	}
	if !bare {
		name = strconv.Quote(name)
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

// tomlType names the TOML type of a generic decoded value.
func tomlType(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("string %q", v)
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		return fmt.Sprintf("float %v", v)
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return "a date/time"
	}
}

// lineOf returns the line of key, or of the nearest enclosing key or table
// whose line is known, or 0.
func lineOf(lines map[string]int, key string) int {
	for key != "" {
		if l, ok := lines[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// keyLines maps every key path of a syntactically valid document
// ("apps[1].policies[0].include[2].emails[0]") to its line.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	arrays := map[string]int{} // array-of-tables path -> number of elements so far
	var p unstable.Parser
	p.Reset(data)
	line := func(n *unstable.Node) int { return p.Shape(n.Raw).Start.Line }

	// resolve turns the key of a table header into a concrete path, entering
	// the last element of every array of tables on the way.
	resolve := func(n *unstable.Node, arrayTable bool) string {
		var parts []*unstable.Node
		it := n.Key()
		for it.Next() {
			parts = append(parts, it.Node())
		}
		path := ""
		for i, part := range parts {
			path = joinKey(path, string(part.Data))
			last := i == len(parts)-1
			if last && arrayTable {
				idx := arrays[path]
				arrays[path] = idx + 1
				path = fmt.Sprintf("%s[%d]", path, idx)
			} else if cnt, ok := arrays[path]; ok {
				path = fmt.Sprintf("%s[%d]", path, cnt-1)
			}
			if _, ok := lines[path]; !ok || last {
				lines[path] = line(part)
			}
		}
		return path
	}

	var keyValue func(table string, kv *unstable.Node)
	var value func(path string, v *unstable.Node, fallback int)
	value = func(path string, v *unstable.Node, fallback int) {
		switch v.Kind {
		case unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				if it.Node().Kind == unstable.KeyValue {
					keyValue(path, it.Node())
				}
			}
		case unstable.Array:
			i := 0
			it := v.Children()
			for it.Next() {
				el := it.Node()
				if el.Kind == unstable.Comment {
					continue
				}
				ep := fmt.Sprintf("%s[%d]", path, i)
				l := fallback
				if el.Raw.Length > 0 {
					l = line(el)
				}
				lines[ep] = l
				value(ep, el, l)
				i++
			}
		}
	}
	keyValue = func(table string, kv *unstable.Node) {
		path := table
		it := kv.Key()
		for it.Next() {
			path = joinKey(path, string(it.Node().Data))
			if _, ok := lines[path]; !ok {
				lines[path] = line(it.Node())
			}
		}
		value(path, kv.Value(), lines[path])
	}

	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = resolve(e, false)
		case unstable.ArrayTable:
			table = resolve(e, true)
		case unstable.KeyValue:
			keyValue(table, e)
		}
	}
	return lines
}

// settings converts the app's cookie, CORS, deny-page and service-token
// keys.
func (a *AppConfig) settings() access.Settings {
	return access.Settings{
		Cookie: access.CookieSettings{
			NoHTTPOnly: !a.HTTPOnly,
			SameSite:   strings.ToLower(a.SameSite),
			Binding:    a.BindingCookie,
			PathCookie: a.PathCookie,
		},
		CORS: access.CORS{
			PreflightBypass:  a.CORS.PreflightBypass,
			AllowedOrigins:   slices.Clone(a.CORS.AllowedOrigins),
			AllowedMethods:   slices.Clone(a.CORS.AllowedMethods),
			AllowedHeaders:   slices.Clone(a.CORS.AllowedHeaders),
			AllowCredentials: a.CORS.AllowCredentials,
			MaxAge:           time.Duration(a.CORS.MaxAge) * time.Second,
		},
		DenyMessage:        a.DenyMessage,
		DenyURL:            a.DenyURL,
		ServiceTokenHeader: a.ServiceTokenHeader,
		ServiceAuth401:     a.ServiceAuth401,
	}
}
