package app

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"slices"
	"testing"
)

var launcherConfig = e2eHeader() + `
[[apps]]
name = "Wiki"
domains = ["*.wiki.localhost:{{PORT}}", "wiki.localhost:{{PORT}}", "docs.localhost:{{PORT}}"]
path = "/space"
origin = "whoami"
logo_url = "https://static.example.com/wiki.png"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]

[[apps]]
name = "Secret"
domains = ["secret.localhost:{{PORT}}"]
origin = "whoami"
hidden = true
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]

[[apps]]
name = "Payroll"
domains = ["payroll.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "not carol"
  decision = "block"
  include = [{ emails = ["carol@example.com"] }]
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]

[[apps]]
name = "Bob tool"
domains = ["bob.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "bob"
  decision = "allow"
  include = [{ emails = ["bob@example.com"] }]
`

// launcherTile is one tile as the launcher page shows it.
type launcherTile struct {
	Name, URL, Domain, Logo string
}

var tileRe = regexp.MustCompile(`(?s)<a class="tile" href="([^"]*)" data-app="([^"]*)">(.*?)</a>`)
var tileImgRe = regexp.MustCompile(`<img src="([^"]*)"`)
var tileDomainRe = regexp.MustCompile(`<span class="tile-domain">([^<]*)</span>`)

// parseTiles returns the tiles of a launcher page.
func parseTiles(page string) []launcherTile {
	var out []launcherTile
	for _, m := range tileRe.FindAllStringSubmatch(page, -1) {
		tl := launcherTile{URL: html.UnescapeString(m[1]), Name: html.UnescapeString(m[2])}
		if im := tileImgRe.FindStringSubmatch(m[3]); im != nil {
			tl.Logo = html.UnescapeString(im[1])
		}
		if d := tileDomainRe.FindStringSubmatch(m[3]); d != nil {
			tl.Domain = html.UnescapeString(d[1])
		}
		out = append(out, tl)
	}
	return out
}

// TestLauncherShowsExactlyAllowedApps signs in on the team domain and reads
// the launcher: only the allowed, visible apps have a tile; hidden, blocked
// and other people's apps have none.
func TestLauncherShowsExactlyAllowedApps(t *testing.T) {
	env := startEnv(t, launcherConfig, "")
	team := fmt.Sprintf("auth.localhost:%d", env.port)

	tests := []struct {
		name  string
		email string
		want  []string
	}{
		{"carol: blocked from payroll", "carol@example.com", []string{"Wiki"}},
		{"dave: staff", "dave@example.com", []string{"Wiki", "Payroll"}},
		{"bob: staff and his tool", "bob@example.com", []string{"Wiki", "Payroll", "Bob tool"}},
		{"outsider: nothing", "eve@elsewhere.org", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, false)
			v := url.Values{"redirect_url": {"/"}}
			resp := env.signInWithPIN(t, c, env.team+"/cdn-cgi/access/login/"+team+"?"+v.Encode(), tt.email)
			page := readBody(t, resp)
			if resp.StatusCode != 200 || resp.Request.URL.String() != env.team+"/" {
				t.Fatalf("after sign-in: %d at %s", resp.StatusCode, resp.Request.URL)
			}
			tiles := parseTiles(page)
			var names []string
			for _, tl := range tiles {
				names = append(names, tl.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("tiles %q, want %q\n%s", names, tt.want, page)
			}
			for _, tl := range tiles {
				if tl.Name != "Wiki" {
					continue
				}
				// The first concrete domain, with the app path, and the logo.
				if want := env.url("wiki", "/space"); tl.URL != want {
					t.Errorf("Wiki tile leads to %q, want %q", tl.URL, want)
				}
				if want := fmt.Sprintf("wiki.localhost:%d/space", env.port); tl.Domain != want {
					t.Errorf("Wiki tile shows domain %q, want %q", tl.Domain, want)
				}
				if tl.Logo != "https://static.example.com/wiki.png" {
					t.Errorf("Wiki tile logo %q", tl.Logo)
				}
			}
		})
	}
}
