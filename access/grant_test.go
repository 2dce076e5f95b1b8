package access

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

var grantNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func grantSession() *Session {
	return &Session{
		Nonce:     "AAAAAAAAAAAAAAAA",
		CreatedAt: grantNow.Add(-time.Hour),
		ExpiresAt: grantNow.Add(23 * time.Hour),
		Identity: Identity{Email: "ann@example.com", Groups: []string{"eng"}, IdP: IdP{ID: "okta", Type: "oidc"},
			Custom: map[string]any{"dept": "research"}},
	}
}

func TestGrantSession(t *testing.T) {
	everyone := []Policy{{Name: "all", Decision: Allow, Include: []Rule{{Everyone: true}}}}
	short := []Policy{{Name: "short", Decision: Allow, Include: []Rule{{Everyone: true}}, SessionDuration: 30 * time.Minute}}
	tests := []struct {
		name    string
		app     App
		session func(*Session)
		rev     AppRevocation
		want    error
		exp     time.Time
		iat     int64
	}{
		{name: "default lifetime", app: App{Policies: everyone}, exp: grantNow.Add(DefaultSessionDuration - time.Hour), iat: grantNow.Unix()},
		{name: "app lifetime", app: App{Policies: everyone, SessionDuration: 2 * time.Hour}, exp: grantNow.Add(2 * time.Hour), iat: grantNow.Unix()},
		{name: "policy lifetime wins", app: App{Policies: short, SessionDuration: 2 * time.Hour}, exp: grantNow.Add(30 * time.Minute), iat: grantNow.Unix()},
		{name: "never outlives the global session", app: App{Policies: everyone, SessionDuration: 2 * time.Hour},
			session: func(s *Session) { s.ExpiresAt = grantNow.Add(15 * time.Minute) }, exp: grantNow.Add(15 * time.Minute), iat: grantNow.Unix()},
		{name: "ended exactly now", app: App{Policies: everyone}, session: func(s *Session) { s.ExpiresAt = grantNow }, want: ErrSessionEnded},
		{name: "revoked", app: App{Policies: everyone}, session: func(s *Session) { s.RevokedAt = grantNow.Add(-time.Second) }, want: ErrSessionEnded},
		{name: "idp not accepted", app: App{Policies: everyone, IdPs: []string{"pin"}}, want: ErrIdPNotAllowed},
		{name: "idp accepted", app: App{Policies: everyone, IdPs: []string{"pin", "okta"}}, exp: grantNow.Add(23 * time.Hour), iat: grantNow.Unix()},
		{name: "older than a hard revocation", app: App{Policies: everyone}, rev: AppRevocation{Hard: grantNow.Add(-time.Minute)}, want: ErrSessionPredatesApp},
		{name: "newer than a hard revocation", app: App{Policies: everyone}, rev: AppRevocation{Hard: grantNow.Add(-2*time.Hour + 300*time.Millisecond)},
			exp: grantNow.Add(23 * time.Hour), iat: grantNow.Unix()},
		{name: "soft revocation this second lifts iat", app: App{Policies: everyone}, rev: AppRevocation{Soft: grantNow.Add(200 * time.Millisecond)},
			exp: grantNow.Add(23 * time.Hour), iat: grantNow.Unix() + 1},
		{name: "no policy", app: App{Policies: []Policy{{Decision: Allow, Include: []Rule{{Emails: []string{"bob@example.com"}}}}}}, want: ErrNoPolicy},
		{name: "blocked", app: App{Policies: append([]Policy{{Decision: Block, Include: []Rule{{Groups: []string{"eng"}}}}}, everyone...)}, want: ErrNoPolicy},
		{name: "service_auth is not a sign-in", app: App{Policies: []Policy{{Decision: ServiceAuth, Include: []Rule{{Everyone: true}}}}}, want: ErrNoPolicy},
		{name: "bypass is not a grant", app: App{Policies: []Policy{{Decision: Bypass, Include: []Rule{{Everyone: true}}}}}, want: ErrNoPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := grantSession()
			if tt.session != nil {
				tt.session(s)
			}
			g, err := tt.app.GrantSession(s, SubjectOf(s.Identity, Client{}), tt.rev, grantNow)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			if g.ExpiresAt != tt.exp.Unix() || g.IssuedAt != tt.iat {
				t.Errorf("grant exp %d iat %d, want %d %d", g.ExpiresAt, g.IssuedAt, tt.exp.Unix(), tt.iat)
			}
			if hard, soft := tt.rev.Refuses(g.IssuedAt); hard || soft {
				t.Errorf("a token granted after the revocation is refused by it (iat %d)", g.IssuedAt)
			}
		})
	}
}

func TestGrantService(t *testing.T) {
	office := netip.MustParsePrefix("10.0.0.0/8")
	app := App{SessionDuration: time.Hour, Policies: []Policy{
		{Name: "ci", Decision: ServiceAuth, Include: []Rule{{ServiceTokens: []string{"ci-name"}}}, Require: []Rule{{IPRanges: []netip.Prefix{office}}}},
		{Name: "users", Decision: Allow, Include: []Rule{{Everyone: true}}},
	}}
	in, out := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.0.2.1")
	tests := []struct {
		name, id, tokenName string
		ip                  netip.Addr
		want                error
	}{
		{"by name from the office", "id-1", "ci-name", in, nil},
		{"by id listed as name", "ci-name", "", in, nil},
		{"outside the range", "id-1", "ci-name", out, ErrNotServiceToken},
		{"unknown token", "id-2", "other", in, ErrNotServiceToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := app.GrantService(tt.id, tt.tokenName, Client{IP: tt.ip}, AppRevocation{}, grantNow)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && (g.ExpiresAt != grantNow.Add(time.Hour).Unix() || g.Policy.Name != "ci") {
				t.Errorf("grant = %+v", g)
			}
		})
	}
}

// TestPermitsEverySelector is the per-request judgement after a policy
// change: every selector kind is evaluated against the stored identity.
func TestPermitsEverySelector(t *testing.T) {
	id := grantSession().Identity
	in, out := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.0.2.1")
	all := Rule{Everyone: true}
	allow := func(r ...Rule) Policy { return Policy{Decision: Allow, Include: r} }
	tests := []struct {
		name     string
		policies []Policy
		ip       netip.Addr
		want     bool
	}{
		{"everyone", []Policy{allow(all)}, out, true},
		{"block added before", []Policy{{Decision: Block, Include: []Rule{{Emails: []string{"ann@example.com"}}}}, allow(all)}, out, false},
		{"exclude by group", []Policy{{Decision: Allow, Include: []Rule{all}, Exclude: []Rule{{Groups: []string{"eng"}}}}}, out, false},
		{"require a group she lacks", []Policy{{Decision: Allow, Include: []Rule{all}, Require: []Rule{{Groups: []string{"ops"}}}}}, out, false},
		{"groups rule keeps her", []Policy{allow(Rule{Groups: []string{"eng"}})}, out, true},
		{"groups rule dropped her group", []Policy{allow(Rule{Groups: []string{"ops"}})}, out, false},
		{"idps", []Policy{allow(Rule{IdPs: []string{"okta"}})}, out, true},
		{"idps other", []Policy{allow(Rule{IdPs: []string{"pin"}})}, out, false},
		{"claims", []Policy{allow(Rule{Claims: map[string][]string{"dept": {"research"}}})}, out, true},
		{"claims other", []Policy{allow(Rule{Claims: map[string][]string{"dept": {"sales"}}})}, out, false},
		{"emails", []Policy{allow(Rule{Emails: []string{"ANN@example.com"}})}, out, true},
		{"emails removed", []Policy{allow(Rule{Emails: []string{"bob@example.com"}})}, out, false},
		{"email_domains", []Policy{allow(Rule{EmailDomains: []string{"example.com"}})}, out, true},
		{"email_domains other", []Policy{allow(Rule{EmailDomains: []string{"example.org"}})}, out, false},
		{"ip_ranges inside", []Policy{allow(Rule{IPRanges: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})}, in, true},
		{"ip_ranges outside", []Policy{allow(Rule{IPRanges: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})}, out, false},
		{"service_auth only", []Policy{{Decision: ServiceAuth, Include: []Rule{all}}}, out, false},
		{"no policies", nil, out, false},
		// The test's requests come from 10.0.0.0/8 in Portugal, the others from the US.
		{"countries inside", []Policy{allow(Rule{Countries: []string{"PT", "ES"}})}, in, true},
		{"countries outside", []Policy{allow(Rule{Countries: []string{"PT", "ES"}})}, out, false},
		{"countries excluded", []Policy{{Decision: Allow, Include: []Rule{all}, Exclude: []Rule{{Countries: []string{"us"}}}}}, out, false},
		{"countries required", []Policy{{Decision: Allow, Include: []Rule{all}, Require: []Rule{{Countries: []string{"PT"}}}}}, in, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := App{Policies: tt.policies}
			c := Client{IP: tt.ip, Country: "US"}
			if tt.ip == in {
				c.Country = "PT"
			}
			if got := app.Permits(SubjectOf(id, c)); got != tt.want {
				t.Fatalf("Permits = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("service token needs service_auth", func(t *testing.T) {
		app := App{Policies: []Policy{{Decision: Allow, Include: []Rule{all}}}}
		if app.Permits(Subject{ServiceToken: "ci"}) {
			t.Fatal("an allow policy admitted a service token")
		}
		app.Policies = []Policy{{Decision: ServiceAuth, Include: []Rule{{AnyServiceToken: true}}}}
		if !app.Permits(Subject{ServiceToken: "ci"}) {
			t.Fatal("any_service_token refused a service token")
		}
	})
}

func TestSameSecondRule(t *testing.T) {
	at := time.Unix(1000, 400*int64(time.Millisecond))
	tests := []struct {
		name string
		iat  int64
		rev  time.Time
		want bool
	}{
		{"never revoked", 999, time.Time{}, false},
		{"issued in the second before", 999, at, true},
		{"issued in the same second", 1000, at, true},
		{"issued the second after", 1001, at, false},
		{"revoked on a whole second, issued then", 1000, time.Unix(1000, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RevokedBy(tt.iat, tt.rev); got != tt.want {
				t.Fatalf("RevokedBy(%d, %v) = %v, want %v", tt.iat, tt.rev, got, tt.want)
			}
		})
	}
	if iat := IssuedAt(at, AppRevocation{Hard: at}); RevokedBy(iat, at) {
		t.Fatalf("a token minted at the revocation instant (iat %d) is refused: lockout", iat)
	}
}
