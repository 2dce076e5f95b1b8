package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9-]+$`)
	appNamePattern = regexp.MustCompile(`^[A-Za-z0-9 _.-]+$`)
	audPattern     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	labelPattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	headerPattern  = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
)

// Decisions accepted in a policy, in the order they are listed in messages.
var decisions = []string{"allow", "block", "bypass", "service_auth"}

// validator collects problems with the line of each key.
type validator struct {
	lines    map[string]int
	problems []Problem
}

func (v *validator) add(key, format string, args ...any) {
	v.problems = append(v.problems, Problem{Line: lineOf(v.lines, key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks the configuration and normalizes it in place (domains
// lowercased, idp names defaulted). All problems are returned at once as a
// *Error whose problems name their key paths.
func (c *Config) Validate() error {
	v := &validator{lines: c.lines}

	c.TeamDomain = strings.ToLower(strings.TrimSpace(c.TeamDomain))
	if c.TeamDomain == "" {
		v.add("team_domain", "required (the host[:port] of the sign-in pages, such as \"auth.example.com\")")
	} else if msg := checkHost(c.TeamDomain, false); msg != "" {
		v.add("team_domain", "%q: %s", c.TeamDomain, msg)
	}
	v.listen("listen", c.Listen)
	v.listen("listen_https", c.ListenHTTPS)
	if strings.TrimSpace(c.DataDir) == "" {
		v.add("data_dir", "required")
	}
	v.duration("global_session", c.GlobalSession.Duration, MinGlobalSession, MaxSessionDuration)
	v.duration("shutdown_grace", c.ShutdownGrace.Duration, 0, 10*time.Minute)
	if c.PublicScheme != "" && v.oneOf("public_scheme", c.PublicScheme, "http", "https") &&
		c.PublicScheme == "http" && c.TLS.Mode != "off" {
		v.add("public_scheme", `"http" with tls.mode %q: browsers reach Gatehouse over HTTPS`, c.TLS.Mode)
	}
	for i, a := range c.Admins {
		key := fmt.Sprintf("admins[%d]", i)
		if group, ok := strings.CutPrefix(a, "group:"); ok {
			if strings.TrimSpace(group) == "" {
				v.add(key, "%q: group name missing after \"group:\"", a)
			}
		} else if msg := checkEmail(a); msg != "" {
			v.add(key, "%q: %s (an email or \"group:NAME\")", a, msg)
		}
	}
	for i, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			v.add(fmt.Sprintf("trusted_proxies[%d]", i), "%q: not a CIDR such as \"10.0.0.0/8\"", p)
		}
	}
	if !headerPattern.MatchString(c.ClientIPHeader) {
		v.add("client_ip_header", "%q: not a header name", c.ClientIPHeader)
	}
	v.tls(&c.TLS)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	v.ops(c) // [metrics] and [keys]: ops.go
	v.smtp(&c.SMTP)
	v.geoip(c)
	v.store(c)

	idps := v.idps(c.IdPs)
	v.apps(c, idps)
	v.tlsNames(c)

	if len(v.problems) == 0 {
		return nil
	}
	return &Error{File: c.file, Problems: v.problems}
}

func (v *validator) listen(key, addr string) {
	if addr == "" {
		v.add(key, "required")
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(key, "%q: not a listen address such as \":8080\" or \"127.0.0.1:8080\"", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, "%q: invalid port", addr)
	}
}

func (v *validator) duration(key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.add(key, "%s: out of range %s..%s", fmtDuration(d), fmtDuration(lo), fmtDuration(hi))
	}
}

// fmtDuration renders whole hours and minutes without trailing zero units.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func (v *validator) oneOf(key, val string, allowed ...string) bool {
	for _, a := range allowed {
		if val == a {
			return true
		}
	}
	v.add(key, "%q: must be one of %s", val, quoteList(allowed))
	return false
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func (v *validator) tls(t *TLSConfig) {
	v.oneOf("tls.mode", t.Mode, "acme", "files", "off")
	seen := map[string]bool{}
	for i, ch := range t.Challenges {
		key := fmt.Sprintf("tls.challenges[%d]", i)
		if v.oneOf(key, ch, "http-01", "tls-alpn-01") && seen[ch] {
			v.add(key, "%q: listed twice", ch)
		}
		seen[ch] = true
	}
	if t.Mode == "files" && len(t.Certs) == 0 {
		v.add("tls.certs", "at least one certificate ([[tls.certs]] with domains, cert_file and key_file) when tls.mode is \"files\"")
	}
	if t.Email != "" {
		if msg := checkEmail(t.Email); msg != "" {
			v.add("tls.email", "%q: %s", t.Email, msg)
		}
	}
	if t.CAURL != "" {
		if msg := checkURL(t.CAURL, false); msg != "" {
			v.add("tls.ca_url", "%q: %s", t.CAURL, msg)
		}
	}
	for i, cert := range t.Certs {
		key := fmt.Sprintf("tls.certs[%d]", i)
		if len(cert.Domains) == 0 {
			v.add(key+".domains", "at least one domain")
		}
		for j, d := range cert.Domains {
			if msg := checkHost(strings.ToLower(d), true); msg != "" {
				v.add(fmt.Sprintf("%s.domains[%d]", key, j), "%q: %s", d, msg)
			}
		}
		if cert.CertFile == "" {
			v.add(key+".cert_file", "required")
		}
		if cert.KeyFile == "" {
			v.add(key+".key_file", "required")
		}
	}
}

// tlsNames checks that TLS can serve every host: under "acme" no app domain
// is a wildcard (ACME here issues for concrete names only); under "files"
// some certificate covers the team domain and every app domain.
func (v *validator) tlsNames(c *Config) {
	switch c.TLS.Mode {
	case "acme":
		for i, a := range c.Apps {
			for j, d := range a.Domains {
				if strings.Contains(d, "*") {
					v.add(fmt.Sprintf("apps[%d].domains[%d]", i, j),
						"%q: a wildcard domain needs tls.mode \"files\" with a wildcard certificate (ACME obtains certificates for concrete names only)", d)
				}
			}
		}
	case "files":
		var patterns []string
		for _, cert := range c.TLS.Certs {
			for _, d := range cert.Domains {
				patterns = append(patterns, strings.ToLower(d))
			}
		}
		check := func(key, host string) {
			if host == "" || checkHost(host, true) != "" {
				return // reported elsewhere
			}
			h, _ := splitHostPortLoose(host)
			for _, p := range patterns {
				if access.CertNameMatches(p, h) {
					return
				}
			}
			v.add(key, "%q: no certificate in tls.certs covers this name", h)
		}
		check("team_domain", c.TeamDomain)
		for i, a := range c.Apps {
			for j, d := range a.Domains {
				check(fmt.Sprintf("apps[%d].domains[%d]", i, j), d)
			}
		}
	}
}

func (v *validator) smtp(s *SMTPConfig) {
	if s.Port < 1 || s.Port > 65535 {
		v.add("smtp.port", "%d: out of range 1..65535", s.Port)
	}
	set := 0
	for _, p := range []string{s.Password, s.PasswordFile, s.PasswordEnv} {
		if p != "" {
			set++
		}
	}
	if set > 1 {
		v.add("smtp.password", "set only one of password, password_file and password_env")
	} else {
		v.secret("smtp.", "password", s.Password, s.PasswordFile, s.PasswordEnv)
	}
	if s.Host == "" {
		return
	}
	if s.From == "" {
		v.add("smtp.from", "required when smtp.host is set")
	} else if msg := checkEmail(s.From); msg != "" {
		v.add("smtp.from", "%q: %s", s.From, msg)
	}
}

// idps validates the providers, fills in default names and returns the set of ids.
func (v *validator) idps(list []IdPConfig) map[string]bool {
	ids := map[string]bool{}
	if len(list) == 0 {
		v.add("idps", "at least one identity provider ([[idps]] with kind = \"otp\", \"oidc\" or \"saml\")")
	}
	for i := range list {
		p := &list[i]
		key := fmt.Sprintf("idps[%d]", i)
		switch {
		case p.ID == "":
			v.add(key+".id", "required")
		case !idPattern.MatchString(p.ID):
			v.add(key+".id", "%q: only lowercase letters, digits and '-'", p.ID)
		case ids[p.ID]:
			v.add(key+".id", "%q: duplicate id", p.ID)
		}
		if p.ID != "" {
			ids[p.ID] = true
		}
		switch p.Kind {
		case "otp":
			v.otpIdP(key, p)
		case "oidc":
			v.oidcIdP(key, p)
		case "saml":
			v.samlIdP(key, p)
		case "":
			v.add(key+".kind", "required (\"otp\", \"oidc\" or \"saml\")")
		default:
			v.add(key+".kind", "%q: unknown kind (\"otp\", \"oidc\" or \"saml\")", p.Kind)
		}
		if p.Name == "" {
			p.Name = defaultIdPName(p.Kind)
		}
	}
	return ids
}

func (v *validator) apps(c *Config, idps map[string]bool) {
	if len(c.Apps) == 0 {
		v.add("apps", "at least one app ([[apps]])")
	}
	names := map[string]int{}
	auds := map[string]int{}
	routes := map[string]string{} // domain + path -> key of its first use
	for i := range c.Apps {
		a := &c.Apps[i]
		key := fmt.Sprintf("apps[%d]", i)
		switch {
		case a.Name == "":
			v.add(key+".name", "required")
		case !appNamePattern.MatchString(a.Name):
			v.add(key+".name", "%q: only letters, digits, space, '_', '.' and '-'", a.Name)
		default:
			if j, dup := names[a.Name]; dup {
				v.add(key+".name", "%q: duplicate name (also apps[%d])", a.Name, j)
			} else {
				names[a.Name] = i
			}
		}

		path := normalizePath(a.Path)
		pathOK := true
		if msg := checkPath(a.Path); msg != "" {
			v.add(key+".path", "%q: %s", a.Path, msg)
			pathOK = false
		}
		if len(a.Domains) == 0 {
			v.add(key+".domains", "at least one domain")
		}
		for j, d := range a.Domains {
			dkey := fmt.Sprintf("%s.domains[%d]", key, j)
			d = strings.ToLower(strings.TrimSpace(d))
			a.Domains[j] = d
			if msg := checkHost(d, true); msg != "" {
				v.add(dkey, "%q: %s", d, msg)
				continue
			}
			if domainIsTeam(d, c.TeamDomain) {
				v.add(dkey, "%q: same as team_domain", d)
			}
			if !pathOK {
				continue
			}
			route := d + path
			if prev, dup := routes[route]; dup {
				what := strconv.Quote(d)
				if path != "" {
					what += fmt.Sprintf(" (path %q)", a.Path)
				}
				v.add(dkey, "%s is also used by %s", what, prev)
			} else {
				routes[route] = fmt.Sprintf("%s (%q)", dkey, a.Name)
			}
		}

		switch {
		case a.Origin == "" && !a.ForwardAuth:
			v.add(key+".origin", "required (\"whoami\" or an http(s) URL; or forward_auth = true for an app behind an edge proxy)")
		case a.Origin == "":
		case a.Origin != "whoami":
			if msg := checkURL(a.Origin, false); msg != "" {
				v.add(key+".origin", "%q: %s", a.Origin, msg)
			}
		}
		if a.AUD != "" {
			a.AUD = strings.ToLower(a.AUD)
			if !audPattern.MatchString(a.AUD) {
				v.add(key+".aud", "%q: must be 64 hex digits", a.AUD)
			} else if j, dup := auds[a.AUD]; dup {
				v.add(key+".aud", "duplicate aud (also apps[%d])", j)
			} else {
				auds[a.AUD] = i
			}
		}
		if a.SessionDuration.Duration == 0 {
			// Cloudflare's "0s" is a token that expires at once: every
			// request would sign in again. Refuse it rather than guess.
			v.add(key+".session_duration", "0s: must be at least 1s (a token that expires at once is not supported)")
		} else {
			v.duration(key+".session_duration", a.SessionDuration.Duration, time.Second, MaxSessionDuration)
		}
		if a.OriginTimeout.Duration != 0 {
			v.duration(key+".origin_timeout", a.OriginTimeout.Duration, time.Second, time.Hour)
		}
		v.idpRefs(key+".idps", a.IdPs, idps)
		if a.LogoURL != "" {
			if msg := checkURL(a.LogoURL, true); msg != "" {
				v.add(key+".logo_url", "%q: %s", a.LogoURL, msg)
			}
		}

		if len(a.Policies) == 0 {
			v.add(key+".policies", "at least one policy ([[apps.policies]])")
		}
		v.appSettings(key, a, c.Scheme())
		pnames := map[string]bool{}
		for j := range a.Policies {
			v.policy(fmt.Sprintf("%s.policies[%d]", key, j), &a.Policies[j], pnames, idps)
		}
	}
}

func (v *validator) idpRefs(key string, refs []string, idps map[string]bool) {
	for i, id := range refs {
		if !idps[id] {
			v.add(fmt.Sprintf("%s[%d]", key, i), "%q: no identity provider with this id", id)
		}
	}
}

func (v *validator) policy(key string, p *PolicyConfig, names map[string]bool, idps map[string]bool) {
	switch {
	case p.Name == "":
		v.add(key+".name", "required")
	case names[p.Name]:
		v.add(key+".name", "%q: duplicate policy name in this app", p.Name)
	}
	names[p.Name] = true
	if p.Decision == "" {
		v.add(key+".decision", "required (%s)", quoteList(decisions))
	} else {
		v.oneOf(key+".decision", p.Decision, decisions...)
	}
	v.duration(key+".session_duration", p.SessionDuration.Duration, 0, MaxSessionDuration)
	if len(p.Include) == 0 {
		v.add(key+".include", "at least one include rule")
	}
	for i := range p.Include {
		v.rule(fmt.Sprintf("%s.include[%d]", key, i), &p.Include[i], idps)
	}
	for i := range p.Require {
		v.rule(fmt.Sprintf("%s.require[%d]", key, i), &p.Require[i], idps)
	}
	for i := range p.Exclude {
		v.rule(fmt.Sprintf("%s.exclude[%d]", key, i), &p.Exclude[i], idps)
	}
}

func (v *validator) rule(key string, r *RuleConfig, idps map[string]bool) {
	if !r.Everyone && !r.AnyServiceToken && len(r.Emails)+len(r.EmailDomains)+len(r.Groups)+
		len(r.IdPs)+len(r.IPRanges)+len(r.Countries)+len(r.ServiceTokens)+len(r.Claims) == 0 {
		v.add(key, "rule has no selector (everyone, emails, email_domains, groups, idps, ip_ranges, countries, service_tokens, any_service_token or claims)")
		return
	}
	for i, e := range r.Emails {
		if msg := checkEmail(e); msg != "" {
			v.add(fmt.Sprintf("%s.emails[%d]", key, i), "%q: %s", e, msg)
		}
	}
	for i, d := range r.EmailDomains {
		if msg := checkEmailDomain(d); msg != "" {
			v.add(fmt.Sprintf("%s.email_domains[%d]", key, i), "%q: %s", d, msg)
		}
	}
	for i, g := range r.Groups {
		if strings.TrimSpace(g) == "" {
			v.add(fmt.Sprintf("%s.groups[%d]", key, i), "empty group name")
		}
	}
	v.idpRefs(key+".idps", r.IdPs, idps)
	for i, p := range r.IPRanges {
		if _, err := parsePrefix(p); err != nil {
			v.add(fmt.Sprintf("%s.ip_ranges[%d]", key, i), "%q: not a CIDR such as \"192.0.2.0/24\"", p)
		}
	}
	for i, c := range r.Countries {
		if _, ok := access.CountryCode(c); !ok {
			v.add(fmt.Sprintf("%s.countries[%d]", key, i), "%q: not an ISO 3166-1 alpha-2 country code such as \"US\" or \"PT\"", c)
		}
	}
	for i, t := range r.ServiceTokens {
		if strings.TrimSpace(t) == "" {
			v.add(fmt.Sprintf("%s.service_tokens[%d]", key, i), "empty service token id")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Claims)) {
		vals := r.Claims[name]
		ckey := joinKey(key+".claims", name)
		if strings.TrimSpace(name) == "" {
			v.add(ckey, "empty claim name")
		}
		if len(vals) == 0 {
			v.add(ckey, "at least one accepted value")
		}
	}
}

// checkEmail returns what is wrong with an email address, or "".
func checkEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || strings.ContainsAny(e, " \t<>") {
		return "not an email address"
	}
	return ""
}

// checkEmailDomain returns what is wrong with the domain of an email_domains selector.
func checkEmailDomain(d string) string {
	if strings.Contains(d, "@") {
		return "a domain without '@', such as \"example.com\""
	}
	if strings.Contains(d, "*") {
		return "no wildcard: a domain matches only itself"
	}
	if msg := checkHostname(strings.ToLower(d)); msg != "" {
		return msg
	}
	return ""
}

// checkHost validates "hostname[:port]", lowercase, optionally with a
// wildcard in the first label.
func checkHost(h string, wildcard bool) string {
	if strings.Contains(h, "://") {
		return "no scheme: give the host only, such as \"app.example.com\""
	}
	if strings.ContainsAny(h, "/?#") {
		return "no path: give the host only (use path for a path prefix)"
	}
	host := h
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host = h[:i]
		n, err := strconv.Atoi(h[i+1:])
		if err != nil || n < 1 || n > 65535 {
			return "invalid port"
		}
	}
	labels := strings.Split(host, ".")
	stars := 0
	for i, l := range labels {
		if !strings.Contains(l, "*") {
			continue
		}
		stars++
		if !wildcard {
			return "no wildcard allowed"
		}
		if stars > 1 {
			return "one wildcard label at most"
		}
		if i != 0 {
			return "wildcard only in the first label"
		}
		if strings.LastIndexByte(l, '*') != 0 {
			return "wildcard only as the whole first label or its prefix (\"*.example.com\", \"*foo.example.com\")"
		}
		if len(labels) < 2 {
			return "a wildcard needs a domain after it, such as \"*.example.com\""
		}
	}
	if stars == 1 {
		rest := strings.TrimPrefix(labels[0], "*")
		if rest != "" && !labelPattern.MatchString("x"+rest) {
			return "invalid hostname"
		}
		return checkHostname(strings.Join(labels[1:], "."))
	}
	return checkHostname(host)
}

// checkHostname validates a plain lowercase DNS name.
func checkHostname(h string) string {
	if h == "" {
		return "empty hostname"
	}
	if len(h) > 253 {
		return "hostname too long"
	}
	if strings.ToLower(h) != h {
		return "hostname must be lowercase"
	}
	for _, l := range strings.Split(h, ".") {
		if len(l) > 63 || !labelPattern.MatchString(l) {
			return "invalid hostname (letters, digits, '-' and '.')"
		}
	}
	return ""
}

// domainIsTeam reports whether an app domain names the team domain, comparing
// hosts alone when either side has no port.
func domainIsTeam(domain, team string) bool {
	if team == "" {
		return false
	}
	if domain == team {
		return true
	}
	dh, dp := splitHostPortLoose(domain)
	th, tp := splitHostPortLoose(team)
	return dh == th && (dp == "" || tp == "")
}

func splitHostPortLoose(h string) (host, port string) {
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		return h[:i], h[i+1:]
	}
	return h, ""
}

// checkPath validates an app path: "", "/prefix" or "/prefix/*".
func checkPath(p string) string {
	if p == "" {
		return ""
	}
	if !strings.HasPrefix(p, "/") {
		return "must start with '/'"
	}
	if strings.ContainsAny(p, "?# \t") {
		return "a path prefix only, no query or fragment"
	}
	if i := strings.IndexByte(p, '*'); i >= 0 && (i != len(p)-1 || !strings.HasSuffix(p, "/*")) {
		return "'*' only as a trailing \"/*\""
	}
	return ""
}

// checkURL validates an absolute http(s) URL with a host and no query or
// fragment; httpsOnly refuses http.
func checkURL(s string, httpsOnly bool) string {
	u, err := url.Parse(s)
	if err != nil {
		return "not a URL"
	}
	switch {
	case httpsOnly && u.Scheme != "https":
		return "must be an https:// URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an http:// or https:// URL"
	case u.Host == "":
		return "URL without a host"
	case u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "?#"):
		return "no query or fragment"
	}
	return ""
}
