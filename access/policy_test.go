package access

import (
	"encoding/json"
	"net/netip"
	"testing"
)

func pfx(s string) []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix(s)} }

func user(email string) Subject { return Subject{Email: email} }

func TestEvaluateSelectors(t *testing.T) {
	alice := Subject{
		Email:  "Alice@Example.com",
		Groups: []string{"eng", "ops"},
		IdP:    "okta",
		IP:     netip.MustParseAddr("10.1.2.3"),
		Claims: map[string]any{
			"department": "sales",
			"roles":      []any{"viewer", "admin"},
			"tags":       []string{"x", "y"},
			"mfa":        true,
			"level":      float64(3),
			"nested":     map[string]any{"a": "b"},
		},
	}
	svc := Subject{ServiceToken: "client-1.access", IP: netip.MustParseAddr("10.1.2.3")}
	anon := Subject{IP: netip.MustParseAddr("10.1.2.3")}
	v6 := Subject{Email: "a@example.com", IP: netip.MustParseAddr("2001:db8::1")}
	mapped := Subject{Email: "a@example.com", IP: netip.MustParseAddr("::ffff:192.0.2.7")}

	tests := []struct {
		name string
		rule Rule
		s    Subject
		want bool
	}{
		{"everyone", Rule{Everyone: true}, alice, true},
		{"empty rule never matches", Rule{}, alice, false},
		{"email exact", Rule{Emails: []string{"alice@example.com"}}, alice, true},
		{"email case-insensitive", Rule{Emails: []string{"ALICE@EXAMPLE.COM"}}, alice, true},
		{"email other", Rule{Emails: []string{"bob@example.com"}}, alice, false},
		{"email prefix is not a match", Rule{Emails: []string{"alice@example.co"}}, alice, false},
		{"domain", Rule{EmailDomains: []string{"example.com"}}, alice, true},
		{"domain case-insensitive", Rule{EmailDomains: []string{"EXAMPLE.COM"}}, alice, true},
		{"domain with leading @", Rule{EmailDomains: []string{"@example.com"}}, alice, true},
		{"domain suffix trick", Rule{EmailDomains: []string{"example.com"}}, user("x@evil-example.com"), false},
		{"domain subdomain", Rule{EmailDomains: []string{"example.com"}}, user("x@sub.example.com"), false},
		{"domain last at wins", Rule{EmailDomains: []string{"example.com"}}, user("x@example.com@evil.com"), false},
		{"domain in local part", Rule{EmailDomains: []string{"evil.com"}}, user("evil.com@example.com"), false},
		{"domain no at", Rule{EmailDomains: []string{"example.com"}}, user("example.com"), false},
		{"groups overlap", Rule{Groups: []string{"admins", "ops"}}, alice, true},
		{"groups case-sensitive", Rule{Groups: []string{"ENG"}}, alice, false},
		{"groups none", Rule{Groups: []string{"admins"}}, alice, false},
		{"idp", Rule{IdPs: []string{"google", "okta"}}, alice, true},
		{"idp other", Rule{IdPs: []string{"google"}}, alice, false},
		{"ipv4 in range", Rule{IPRanges: pfx("10.0.0.0/8")}, alice, true},
		{"ipv4 out of range", Rule{IPRanges: pfx("192.168.0.0/16")}, alice, false},
		{"ipv6 in range", Rule{IPRanges: pfx("2001:db8::/32")}, v6, true},
		{"ipv6 out of range", Rule{IPRanges: pfx("2001:db9::/32")}, v6, false},
		{"ipv6 addr vs ipv4 range", Rule{IPRanges: pfx("0.0.0.0/0")}, v6, false},
		{"mapped ipv4 unmapped", Rule{IPRanges: pfx("192.0.2.0/24")}, mapped, true},
		{"unknown ip", Rule{IPRanges: pfx("0.0.0.0/0")}, user("a@example.com"), false},
		{"country listed", Rule{Countries: []string{"FR", "PT"}}, Subject{Email: "a@example.com", Country: "PT"}, true},
		{"country any case", Rule{Countries: []string{"pt"}}, Subject{Email: "a@example.com", Country: "PT"}, true},
		{"country not listed", Rule{Countries: []string{"FR"}}, Subject{Email: "a@example.com", Country: "PT"}, false},
		{"country unknown", Rule{Countries: []string{"FR"}}, user("a@example.com"), false},
		{"country of a service token", Rule{Countries: []string{"PT"}}, Subject{ServiceToken: "t", Country: "PT"}, true},
		{"service token listed", Rule{ServiceTokens: []string{"client-1.access"}}, svc, true},
		{"service token other", Rule{ServiceTokens: []string{"client-2.access"}}, svc, false},
		{"service token for user", Rule{ServiceTokens: []string{"client-1.access"}}, alice, false},
		{"any service token", Rule{AnyServiceToken: true}, svc, true},
		{"any service token for user", Rule{AnyServiceToken: true}, alice, false},
		{"claim string", Rule{Claims: map[string][]string{"department": {"sales"}}}, alice, true},
		{"claim []any", Rule{Claims: map[string][]string{"roles": {"admin"}}}, alice, true},
		{"claim []string", Rule{Claims: map[string][]string{"tags": {"y"}}}, alice, true},
		{"claim bool", Rule{Claims: map[string][]string{"mfa": {"true"}}}, alice, true},
		{"claim number", Rule{Claims: map[string][]string{"level": {"3"}}}, alice, true},
		{"claim no partial value", Rule{Claims: map[string][]string{"roles": {"adm"}}}, alice, false},
		{"claim missing", Rule{Claims: map[string][]string{"country": {"PT"}}}, alice, false},
		{"claim map value", Rule{Claims: map[string][]string{"nested": {"map[a:b]"}}}, alice, false},
		{"claims every name", Rule{Claims: map[string][]string{"department": {"sales"}, "roles": {"owner"}}}, alice, false},
		{"any selector in rule", Rule{Emails: []string{"bob@example.com"}, Groups: []string{"eng"}}, alice, true},
		{"anon email", Rule{Emails: []string{""}}, anon, false},
		{"anon domain", Rule{EmailDomains: []string{"example.com"}}, anon, false},
		{"anon everyone", Rule{Everyone: true}, anon, true},
		{"anon ip", Rule{IPRanges: pfx("10.0.0.0/8")}, anon, true},
		{"service token not a group member", Rule{Groups: []string{""}}, svc, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := []Policy{{Name: "p", Decision: Bypass, Include: []Rule{tt.rule}}}
			got := Evaluate(ps, tt.s)
			if (got.Decision == Bypass) != tt.want {
				t.Fatalf("Evaluate = %+v, want match %v", got, tt.want)
			}
			if tt.want && got.Policy != &ps[0] {
				t.Fatalf("Policy = %p, want %p", got.Policy, &ps[0])
			}
		})
	}
}

func TestEvaluateRuleTypes(t *testing.T) {
	eng := Rule{Groups: []string{"eng"}}
	office := Rule{IPRanges: pfx("10.0.0.0/8")}
	bob := Rule{Emails: []string{"bob@example.com"}}
	tests := []struct {
		name string
		p    Policy
		s    Subject
		want string
	}{
		{"no include never matches", Policy{Decision: Allow, Require: []Rule{{Everyone: true}}}, user("a@x.com"), ""},
		{"include any", Policy{Decision: Allow, Include: []Rule{bob, eng}},
			Subject{Email: "a@x.com", Groups: []string{"eng"}}, Allow},
		{"include none", Policy{Decision: Allow, Include: []Rule{bob, eng}}, user("a@x.com"), ""},
		{"require all met", Policy{Decision: Allow, Include: []Rule{{Everyone: true}}, Require: []Rule{eng, office}},
			Subject{Email: "a@x.com", Groups: []string{"eng"}, IP: netip.MustParseAddr("10.0.0.1")}, Allow},
		{"require one missing", Policy{Decision: Allow, Include: []Rule{{Everyone: true}}, Require: []Rule{eng, office}},
			Subject{Email: "a@x.com", Groups: []string{"eng"}, IP: netip.MustParseAddr("11.0.0.1")}, ""},
		{"exclude hits", Policy{Decision: Allow, Include: []Rule{{Everyone: true}}, Exclude: []Rule{bob}}, user("Bob@example.com"), ""},
		{"exclude misses", Policy{Decision: Allow, Include: []Rule{{Everyone: true}}, Exclude: []Rule{bob}}, user("a@example.com"), Allow},
		{"block", Policy{Decision: Block, Include: []Rule{bob}}, user("bob@example.com"), Block},
		{"unknown decision", Policy{Decision: "deny", Include: []Rule{{Everyone: true}}}, user("a@x.com"), ""},
		{"allow needs identity", Policy{Decision: Allow, Include: []Rule{{Everyone: true}}}, Subject{IP: netip.MustParseAddr("10.0.0.1")}, ""},
		{"allow not for service token", Policy{Decision: Allow, Include: []Rule{{Everyone: true}}}, Subject{ServiceToken: "c"}, ""},
		{"bypass without identity", Policy{Decision: Bypass, Include: []Rule{office}}, Subject{IP: netip.MustParseAddr("10.0.0.1")}, Bypass},
		{"bypass exclude identity ignored for anon", Policy{Decision: Bypass, Include: []Rule{{Everyone: true}}, Exclude: []Rule{bob}},
			Subject{}, Bypass},
		{"service auth", Policy{Decision: ServiceAuth, Include: []Rule{{ServiceTokens: []string{"c"}}}}, Subject{ServiceToken: "c"}, ServiceAuth},
		{"service auth user", Policy{Decision: ServiceAuth, Include: []Rule{{AnyServiceToken: true}}}, user("a@x.com"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate([]Policy{tt.p}, tt.s)
			if got.Decision != tt.want {
				t.Fatalf("Decision = %q, want %q", got.Decision, tt.want)
			}
			if (got.Policy == nil) != (tt.want == "") {
				t.Fatalf("Policy = %v for decision %q", got.Policy, got.Decision)
			}
		})
	}
}

func TestEvaluatePrecedence(t *testing.T) {
	every := []Rule{{Everyone: true}}
	// Cloudflare's example: Allow A, Block B, Service Auth C, Bypass D, Allow E
	// runs as C > D > A > B > E.
	ps := []Policy{
		{Name: "A", Decision: Allow, Include: []Rule{{Emails: []string{"a@x.com"}}}},
		{Name: "B", Decision: Block, Include: []Rule{{EmailDomains: []string{"x.com"}}}},
		{Name: "C", Decision: ServiceAuth, Include: []Rule{{AnyServiceToken: true}, {Emails: []string{"c@x.com"}}}},
		{Name: "D", Decision: Bypass, Include: []Rule{{IPRanges: pfx("10.0.0.0/8")}}},
		{Name: "E", Decision: Allow, Include: every},
	}
	ip := netip.MustParseAddr("10.0.0.1")
	tests := []struct {
		name string
		s    Subject
		want string
	}{
		{"service auth before bypass", Subject{ServiceToken: "t", IP: ip}, "C"},
		{"service auth before allow", Subject{Email: "c@x.com", IP: ip}, "C"},
		{"bypass before allow", Subject{Email: "a@x.com", IP: ip}, "D"},
		{"allow before block", Subject{Email: "a@x.com"}, "A"},
		{"block before later allow", Subject{Email: "b@x.com"}, "B"},
		{"last allow", Subject{Email: "e@y.com"}, "E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(ps, tt.s)
			if got.Policy == nil || got.Policy.Name != tt.want {
				t.Fatalf("matched %+v, want %s", got, tt.want)
			}
		})
	}
}

func TestEvaluateDefaultDeny(t *testing.T) {
	ps := []Policy{{Name: "A", Decision: Allow, Include: []Rule{{Emails: []string{"a@x.com"}}}}}
	got := Evaluate(ps, user("b@x.com"))
	if got != (Result{}) || got.Allowed() {
		t.Fatalf("got %+v, want default deny", got)
	}
	if got := Evaluate(nil, user("a@x.com")); got != (Result{}) {
		t.Fatalf("no policies: got %+v", got)
	}
}

func TestResultAllowed(t *testing.T) {
	for _, d := range []struct {
		decision string
		want     bool
	}{{Allow, true}, {Bypass, true}, {ServiceAuth, true}, {Block, false}, {"", false}} {
		if got := (Result{Decision: d.decision}).Allowed(); got != d.want {
			t.Errorf("Allowed(%q) = %v, want %v", d.decision, got, d.want)
		}
	}
}

func TestNeedsIdentity(t *testing.T) {
	for _, d := range []struct {
		decision string
		want     bool
	}{{Allow, true}, {Block, true}, {Bypass, false}, {ServiceAuth, false}} {
		if got := (Policy{Decision: d.decision}).NeedsIdentity(); got != d.want {
			t.Errorf("NeedsIdentity(%q) = %v, want %v", d.decision, got, d.want)
		}
	}
}

func TestClaimsFromJSON(t *testing.T) {
	var claims map[string]any
	if err := json.Unmarshal([]byte(`{"groups":["a","b",3],"n":42.5}`), &claims); err != nil {
		t.Fatal(err)
	}
	s := Subject{Email: "a@x.com", Claims: claims}
	for _, tt := range []struct {
		name  string
		claim string
		value string
		want  bool
	}{
		{"string in list", "groups", "b", true},
		{"number in list", "groups", "3", true},
		{"float", "n", "42.5", true},
		{"absent value", "groups", "c", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := []Policy{{Decision: Allow, Include: []Rule{{Claims: map[string][]string{tt.claim: {tt.value}}}}}}
			if got := Evaluate(ps, s).Allowed(); got != tt.want {
				t.Fatalf("Allowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add("a@example.com", "eng", "okta", "10.0.0.1", "", "example.com", "10.0.0.0/8", uint8(0))
	f.Add("", "", "", "::ffff:1.2.3.4", "client", "", "::/0", uint8(1))
	f.Add("x@evil-example.com", "ops", "google", "2001:db8::1", "", "@", "2001:db8::/32", uint8(2))
	f.Add("@", "", "", "", "c", "example.com", "bad", uint8(3))
	f.Fuzz(func(t *testing.T, email, group, idp, ip, token, domain, prefix string, d uint8) {
		decisions := []string{Allow, Block, Bypass, ServiceAuth, "x"}
		addr, _ := netip.ParseAddr(ip)
		pr, _ := netip.ParsePrefix(prefix)
		rule := Rule{
			Everyone:        d&8 != 0,
			Emails:          []string{email},
			EmailDomains:    []string{domain},
			Groups:          []string{group},
			IdPs:            []string{idp},
			IPRanges:        []netip.Prefix{pr},
			ServiceTokens:   []string{token},
			AnyServiceToken: d&16 != 0,
			Claims:          map[string][]string{group: {idp}},
		}
		p := Policy{Decision: decisions[int(d)%len(decisions)], Include: []Rule{rule}}
		if d&32 != 0 {
			p.Require = []Rule{rule}
		}
		if d&64 != 0 {
			p.Exclude = []Rule{{IPRanges: []netip.Prefix{pr}}}
		}
		s := Subject{
			Email: email, Groups: []string{group}, IdP: idp, IP: addr, ServiceToken: token,
			Claims: map[string]any{group: []any{idp, 1, nil, map[string]any{}}},
		}
		res := Evaluate([]Policy{p, {Decision: Allow}}, s)
		if res.Decision != "" && res.Policy == nil {
			t.Fatalf("decision %q without policy", res.Decision)
		}
		if res.Policy != nil && res.Policy.Decision != res.Decision {
			t.Fatalf("decision %q from policy %q", res.Decision, res.Policy.Decision)
		}
		if res.Decision != "" && email == "" && p.NeedsIdentity() {
			t.Fatalf("identity-less subject matched %q", res.Decision)
		}
	})
}

func TestCountryCode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"US", "US", true}, {"pt", "PT", true}, {" fr ", "FR", true}, {"ZW", "ZW", true}, {"AD", "AD", true},
		{"XX", "", false}, {"T1", "", false}, {"EU", "", false}, {"UK", "", false},
		{"USA", "", false}, {"", "", false}, {"D ", "", false}, {"1A", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := CountryCode(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("CountryCode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
