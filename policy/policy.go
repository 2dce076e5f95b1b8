// Package policy decides who may reach an application. It is pure: no I/O.
package policy

import (
	"net/netip"
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
	Emails          []string            // exact, case-insensitive
	EmailDomains    []string            // "example.com" matches user@example.com only
	Groups          []string            // IdP groups
	IdPs            []string            // login method: the provider id
	IPRanges        []netip.Prefix      // evaluated per request
	ServiceTokens   []string            // client IDs
	AnyServiceToken bool
	Claims          map[string][]string // claim or attribute name -> accepted values
}

// Policy is one ordered entry of an app's policy list.
type Policy struct {
	Name            string
	Decision        string // Allow, Block, Bypass or ServiceAuth
	Include         []Rule // any must match (at least one rule required)
	Require         []Rule // all must match
	Exclude         []Rule // none may match
	SessionDuration time.Duration // 0: the app's
}

// Subject is who (or what) asks, and from where.
type Subject struct {
	Email        string
	Groups       []string
	IdP          string
	Claims       map[string]any
	IP           netip.Addr // zero when not known
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
func Evaluate(policies []Policy, s Subject) Result { panic("unimplemented") }
