package admin

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestAdminSystemPanel(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name    string
		status  func() SystemStatus
		want    []string
		notWant []string
	}{
		{
			name:    "no status hides the panel",
			notWant: []string{`class="system"`},
		},
		{
			name: "failing renewal and failed reload",
			status: func() SystemStatus {
				return SystemStatus{
					TLSMode: "acme",
					Certs: []CertStatus{
						{Domain: "auth.example.com", NotAfter: now.Add(60 * 24 * time.Hour), LastOKAt: now.Add(-time.Hour)},
						{Domain: "wiki.example.com", NotAfter: now.Add(5 * 24 * time.Hour), LastOKAt: now.Add(-80 * 24 * time.Hour),
							LastError: "renewal: connection refused", LastErrorAt: now.Add(-time.Minute)},
					},
					Reload: ReloadStatus{At: now.Add(-2 * time.Minute), Error: "gatehouse.toml:12: apps[0].policies[0].decision: unknown"},
				}
			},
			want: []string{`<span class="badge">acme</span>`, "<code>auth.example.com</code>", "<code>wiki.example.com</code>",
				`<span class="badge bad">failing</span> <span class="err">renewal: connection refused</span>`,
				"in 4 days", "in 59 days", `title="` + now.Add(5*24*time.Hour).UTC().Format("2006-01-02 15:04:05 MST"),
				`<span class="badge bad">failed</span> <span class="err">gatehouse.toml:12: apps[0].policies[0].decision: unknown</span>`},
		},
		{
			name: "recovered certificate and good reload",
			status: func() SystemStatus {
				return SystemStatus{
					TLSMode: "files",
					Certs: []CertStatus{{Domain: "*.example.com", NotAfter: now.Add(24 * time.Hour), LastOKAt: now,
						LastError: "reload: no such file", LastErrorAt: now.Add(-time.Hour)}},
					Reload: ReloadStatus{At: now, OK: true},
				}
			},
			want:    []string{"<code>*.example.com</code>", `<span class="badge ok">ok</span>`, "Last config reload: <time"},
			notWant: []string{"failing", "no such file", "failed"},
		},
		{
			name: "nodes on the store, one gone",
			status: func() SystemStatus {
				return SystemStatus{TLSMode: "off", Nodes: []access.NodeStatus{
					{Node: access.Node{ID: "a", Name: "node-1", HeartbeatAt: now, StartedAt: now.Add(-time.Hour), Watermark: 42}, Live: true, Self: true},
					{Node: access.Node{ID: "b", Name: "node-2", HeartbeatAt: now.Add(-5 * time.Minute), StartedAt: now.Add(-time.Hour), Watermark: 40}},
				}}
			},
			want: []string{"<code>node-1</code> <span class=\"muted\">(this page)</span>", `<span class="badge ok">live</span>`,
				"up to #42", "<code>node-2</code>", `<span class="badge bad">gone</span>`, "up to #40"},
			notWant: []string{"could not be read"},
		},
		{
			name: "node registry unreadable",
			status: func() SystemStatus {
				return SystemStatus{TLSMode: "off", NodesError: "the node registry could not be read"}
			},
			want:    []string{`<p class="err">Nodes: the node registry could not be read.</p>`},
			notWant: []string{`class="nodes`},
		},
		{
			name:    "tls off, no reload yet",
			status:  func() SystemStatus { return SystemStatus{TLSMode: "off"} },
			want:    []string{`<span class="badge">off</span>`, "none since start"},
			notWant: []string{`class="certs"`, "No certificates yet"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newAdminHarness(t, "boss@example.com")
			if tt.status != nil {
				h.admin.o.Status = func(context.Context) SystemStatus { return tt.status() }
			}
			raw, _ := h.signIn("boss@example.com")
			w := h.do(http.MethodGet, Prefix, nil, map[string]string{access.CookieAuthorization: raw}, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			page := html.UnescapeString(w.Body.String())
			for _, s := range tt.want {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(page, s) {
					t.Errorf("page has %q", s)
				}
			}
			if t.Failed() {
				t.Logf("page:\n%s", page)
			}
		})
	}
}
