package app

import (
	"net/http"
	"testing"
)

// TestTrustedProxyBareIP: trusted_proxies accepts a bare address as well as
// a CIDR, and the client IP is then taken from X-Forwarded-For. The app
// bypasses Gatehouse only for 10.1.2.3, so the X-Forwarded-For value the
// trusted peer (127.0.0.1, the test client) sends decides the answer.
func TestTrustedProxyBareIP(t *testing.T) {
	cfg := e2eHeader(`trusted_proxies = ["127.0.0.1"]`) + `
[[apps]]
name = "office"
domains = ["office.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "office network"
  decision = "bypass"
  include = [{ ip_ranges = ["10.1.2.3/32"] }]
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com"] }]
`
	env := startEnv(t, cfg, "")
	tests := []struct {
		name string
		xff  string
		want int
	}{
		{"from the office, through the trusted proxy", "10.1.2.3", http.StatusOK},
		{"from elsewhere", "192.0.2.7", http.StatusFound},
		{"no forwarded address", "", http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", env.url("office", "/?format=json"), nil)
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			resp, err := newClient(t, true).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}
