// Package access is the domain of Gatehouse: protected apps and how requests
// match them, policies and their evaluation, identities and sessions, the
// grant rule that decides whether a session may get a token for an app, the
// revocation-timing rule, audit event kinds and the names of the Cloudflare
// Access contract. It is pure: no I/O, and it imports nothing in the module.
package access

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Decisions.
const (
	Allow       = "allow"
	Block       = "block"
	Bypass      = "bypass"
	ServiceAuth = "service_auth"
)

// Rule is one selector set; a rule matches when any of its non-empty
// selectors matches (within an include list, any rule; require, all; exclude, none).
type Rule struct {
	Everyone        bool
	Emails          []string       // exact, case-insensitive
	EmailDomains    []string       // "example.com" matches user@example.com only
	Groups          []string       // IdP groups
	IdPs            []string       // login method: the provider id
	IPRanges        []netip.Prefix // evaluated per request
	Countries       []string       // ISO 3166-1 alpha-2 of the request's client, evaluated per request
	ServiceTokens   []string       // client IDs
	AnyServiceToken bool
	Claims          map[string][]string // claim or attribute name -> accepted values; every name must match
}

// Policy is one ordered entry of an app's policy list.
type Policy struct {
	Name            string
	Decision        string        // Allow, Block, Bypass or ServiceAuth
	Include         []Rule        // any must match (at least one rule required)
	Require         []Rule        // all must match
	Exclude         []Rule        // none may match
	SessionDuration time.Duration // 0: the app's
}

// NeedsIdentity reports whether the policy only applies to signed-in users:
// Allow and Block do; Bypass and ServiceAuth are evaluated without an
// identity. Evaluate never matches a policy that needs identity against a
// subject without an email.
func (p Policy) NeedsIdentity() bool {
	return p.Decision != Bypass && p.Decision != ServiceAuth
}

// Subject is who (or what) asks, and from where.
type Subject struct {
	Email        string
	Groups       []string
	IdP          string
	Claims       map[string]any
	IP           netip.Addr // zero when not known
	Country      string     // ISO 3166-1 alpha-2 of the request's client; "" when not known
	ServiceToken string     // client ID when a service token authenticated
}

// Result is the outcome of an evaluation.
type Result struct {
	Decision string  // Allow, Block, Bypass, ServiceAuth, or "" for the default deny
	Policy   *Policy // the policy that matched, nil for the default deny
}

// Allowed reports whether the result lets the request through.
func (r Result) Allowed() bool {
	return r.Decision == Allow || r.Decision == Bypass || r.Decision == ServiceAuth
}

// Evaluate runs policies in Cloudflare order: bypass and service_auth first,
// then allow and block in order; first match wins; default deny.
//
// A subject without an email never matches an Allow or Block policy, and
// identity selectors (emails, email domains, groups, IdPs, claims) never
// match it. Policies with an unknown decision or no Include rule never match.
// The returned Policy points into policies.
func Evaluate(policies []Policy, s Subject) Result {
	for pass := 0; pass < 2; pass++ {
		for i := range policies {
			p := &policies[i]
			early := p.Decision == Bypass || p.Decision == ServiceAuth
			late := p.Decision == Allow || p.Decision == Block
			if (pass == 0 && !early) || (pass == 1 && !late) {
				continue
			}
			if p.NeedsIdentity() && s.Email == "" {
				continue
			}
			if evalPolicy(p, s) {
				return Result{Decision: p.Decision, Policy: p}
			}
		}
	}
	return Result{}
}

// evalPolicy reports whether p matches s: any Include rule, every Require
// rule, no Exclude rule.
func evalPolicy(p *Policy, s Subject) bool {
	if len(p.Include) == 0 {
		return false
	}
	inc := false
	for i := range p.Include {
		if evalRule(&p.Include[i], s) {
			inc = true
			break
		}
	}
	if !inc {
		return false
	}
	for i := range p.Require {
		if !evalRule(&p.Require[i], s) {
			return false
		}
	}
	for i := range p.Exclude {
		if evalRule(&p.Exclude[i], s) {
			return false
		}
	}
	return true
}

// evalRule is the OR of the rule's non-empty selectors. A rule with no
// selector never matches. Identity selectors never match a service token
// or a subject without an email, and service-token selectors never match a
// user.
func evalRule(r *Rule, s Subject) bool {
	user := s.Email != "" && s.ServiceToken == ""
	service := s.ServiceToken != ""
	switch {
	case r.Everyone:
		return true
	case user && len(r.Emails) > 0 && matchEmail(r.Emails, s.Email):
		return true
	case user && len(r.EmailDomains) > 0 && matchEmailDomain(r.EmailDomains, s.Email):
		return true
	case user && len(r.Groups) > 0 && overlap(r.Groups, s.Groups):
		return true
	case user && len(r.IdPs) > 0 && contains(r.IdPs, s.IdP):
		return true
	case user && len(r.Claims) > 0 && matchClaims(r.Claims, s.Claims):
		return true
	case len(r.IPRanges) > 0 && matchIP(r.IPRanges, s.IP):
		return true
	case len(r.Countries) > 0 && matchCountry(r.Countries, s.Country):
		return true
	case service && len(r.ServiceTokens) > 0 && contains(r.ServiceTokens, s.ServiceToken):
		return true
	case service && r.AnyServiceToken:
		return true
	}
	return false
}

func matchEmail(list []string, email string) bool {
	for _, e := range list {
		if strings.EqualFold(strings.TrimSpace(e), email) {
			return true
		}
	}
	return false
}

// matchEmailDomain compares the part after the last '@' with each domain,
// exactly (no subdomains, no suffix tricks).
func matchEmailDomain(domains []string, email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 || at == len(email)-1 {
		return false
	}
	got := email[at+1:]
	for _, d := range domains {
		d = strings.TrimPrefix(strings.TrimSpace(d), "@")
		if d != "" && strings.EqualFold(d, got) {
			return true
		}
	}
	return false
}

func overlap(want, have []string) bool {
	for _, h := range have {
		if contains(want, h) {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func matchIP(ranges []netip.Prefix, ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range ranges {
		if p.IsValid() && p.Contains(ip) {
			return true
		}
	}
	return false
}

// matchClaims reports whether, for every claim name, the subject's claim
// holds one of the accepted values.
func matchClaims(want map[string][]string, have map[string]any) bool {
	for name, accepted := range want {
		if !overlap(accepted, claimValues(have[name])) {
			return false
		}
	}
	return true
}

// claimValues renders a claim as strings: a string, a list of strings or
// scalars, a bool or a number. Other shapes yield nothing.
func claimValues(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := scalar(e); ok {
				out = append(out, s)
			}
		}
		return out
	default:
		if s, ok := scalar(v); ok {
			return []string{s}
		}
		return nil
	}
}

func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return fmt.Sprint(v), true
	case fmt.Stringer: // json.Number and friends; Sprint survives a panicking String
		return fmt.Sprint(v), true
	default:
		return "", false
	}
}

// JudgesCountry reports whether any of the app's policies has a countries
// selector, so that a request's country is needed to judge it.
func (a *App) JudgesCountry() bool {
	for _, p := range a.Policies {
		for _, rules := range [][]Rule{p.Include, p.Require, p.Exclude} {
			for _, r := range rules {
				if len(r.Countries) > 0 {
					return true
				}
			}
		}
	}
	return false
}
