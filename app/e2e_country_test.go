package app

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// countryConfig trusts the loopback peer as a proxy, so that tests choose
// the client address with X-Forwarded-For and may send CF-IPCountry.
const countryConfig = `
[geoip]
database = "{{DB}}"
country_header = "CF-IPCountry"

[[apps]]
name = "demo"
domains = ["app.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "everyone"
  decision = "allow"
  include = [{ everyone = true }]

[[apps]]
name = "lisbon"
domains = ["pt.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "from Portugal"
  decision = "allow"
  include = [{ everyone = true }]
  require = [{ countries = ["PT"] }]
`

// getJSON GETs target with c and decodes its JSON body into v.
func getJSON(t *testing.T, c *http.Client, target string, v any) int {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("%s: %v\n%s", target, err, body)
		}
	}
	return resp.StatusCode
}

// TestEndToEndCountry signs in through a trusted proxy from a Portuguese
// address of a MaxMind database the test wrote, and checks the country in
// the app token, in get-identity on both hosts, and the countries selector,
// judged on every request: the same session is refused from a US address,
// and let in again when the proxy's CF-IPCountry says PT.
func TestEndToEndCountry(t *testing.T) {
	db := filepath.Join(t.TempDir(), "GeoLite2-Country.mmdb")
	testkit.WriteCountryDB(t, db, map[string]string{"192.0.2.0/24": "PT", "198.51.100.0/24": "US"})
	cfg := e2eHeader(`trusted_proxies = ["127.0.0.1/32"]`) + strings.ReplaceAll(countryConfig, "{{DB}}", filepath.ToSlash(db))
	env := startEnv(t, cfg, "")
	c, hdr := clientWith(t, false, map[string]string{"X-Forwarded-For": "192.0.2.9"})

	resp := env.signInWithPIN(t, c, env.url("app", "/?format=json"), "ana@example.com")
	w := decodeWhoami(t, resp)
	if got := w.JWTPayload["country"]; got != "PT" {
		t.Errorf("app token country = %v, want PT (payload %v)", got, w.JWTPayload)
	}
	var ident struct {
		Geo struct {
			Country string `json:"country"`
		} `json:"geo"`
		IP string `json:"ip"`
	}
	if code := getJSON(t, c, env.url("app", "/cdn-cgi/access/get-identity"), &ident); code != http.StatusOK || ident.Geo.Country != "PT" || ident.IP != "192.0.2.9" {
		t.Errorf("app host get-identity: %d %+v", code, ident)
	}
	ident.Geo.Country = ""
	if code := getJSON(t, c, env.team+"/cdn-cgi/access/get-identity", &ident); code != http.StatusOK || ident.Geo.Country != "PT" {
		t.Errorf("team get-identity: %d %+v", code, ident)
	}

	get := func(target string) int {
		t.Helper()
		resp, err := c.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		return resp.StatusCode
	}
	lisbon := env.url("pt", "/?format=json")
	if code := get(lisbon); code != http.StatusOK {
		t.Fatalf("lisbon from Portugal: %d, want 200", code)
	}
	hdr.Set("X-Forwarded-For", "198.51.100.7")
	if code := get(lisbon); code != http.StatusForbidden {
		t.Errorf("lisbon from the US with a Portuguese sign-in: %d, want 403 (countries are judged per request)", code)
	}
	if code := get(env.url("app", "/")); code != http.StatusOK {
		t.Errorf("demo from the US: %d, want 200", code)
	}
	hdr.Set("CF-IPCountry", "PT")
	if code := get(lisbon); code != http.StatusOK {
		t.Errorf("lisbon with CF-IPCountry PT from the trusted proxy: %d, want 200", code)
	}
	hdr.Set("CF-IPCountry", "XX")
	if code := get(lisbon); code != http.StatusForbidden {
		t.Errorf("lisbon with CF-IPCountry XX from a US address: %d, want 403", code)
	}
}
