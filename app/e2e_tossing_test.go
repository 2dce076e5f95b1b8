package app

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

var tossingConfig = e2eHeader() + `
[[apps]]
name = "demo"
domains = ["app.corp.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
`

// TestCookieTossingInAJar: a sibling subdomain plants another user's valid
// token as a parent-domain cookie in the victim's (real) cookie jar. The
// origin never sees the planted identity: the request is sent through the
// sign-in again and lands as the victim, and the planted copy is expired.
func TestCookieTossingInAJar(t *testing.T) {
	env := startEnv(t, tossingConfig, "")
	page := env.url("app.corp", "/?format=json")

	mallory := newClient(t, false)
	readBody(t, env.signInWithPIN(t, mallory, page, "mallory@example.com"))
	pu, _ := url.Parse(page)
	var planted string
	for _, c := range mallory.Jar.Cookies(pu) {
		if c.Name == access.CookieAuthorization {
			planted = c.Value
		}
	}
	if planted == "" {
		t.Fatal("mallory got no app cookie")
	}

	victim := newClient(t, false)
	if w := decodeWhoami(t, env.signInWithPIN(t, victim, page, "carol@example.com")); w.Email != "carol@example.com" {
		t.Fatalf("victim signed in as %q", w.Email)
	}
	sibling, _ := url.Parse(env.url("evil.corp", "/"))
	// A longer Path puts the planted cookie first in the Cookie header.
	victim.Jar.SetCookies(sibling, []*http.Cookie{{Name: access.CookieAuthorization, Value: planted, Domain: "corp.localhost", Path: "/api"}})
	api, _ := url.Parse(env.url("app.corp", "/api/notes?format=json"))
	if cs := victim.Jar.Cookies(api); len(cs) < 2 || cs[0].Value != planted {
		t.Fatalf("the jar does not send the planted cookie first: %d cookies", len(cs))
	}
	for i := range 3 {
		resp, err := victim.Get(api.String())
		if err != nil {
			t.Fatal(err)
		}
		if w := decodeWhoami(t, resp); w.Email != "carol@example.com" {
			t.Fatalf("request %d: the origin saw %q, want the victim", i, w.Email)
		}
	}
	for _, c := range victim.Jar.Cookies(api) {
		if c.Name == access.CookieAuthorization && c.Value == planted {
			t.Error("the planted parent-domain cookie is still in the jar")
		}
	}
}
