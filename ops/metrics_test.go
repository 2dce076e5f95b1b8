package ops

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// fakeStats answers the scrape-time queries of the metrics.
type fakeStats struct {
	mu        sync.Mutex
	sessions  int
	err       error
	revoked   []int64  // ids of the revocations made by someone
	since     []int64  // afterID of each CountRevocationsSince call
	rotations []string // trigger of the key rotation with audit id i+1
	now       time.Time
}

func (f *fakeStats) CountActiveSessions(_ context.Context, now time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
	return f.sessions, f.err
}

func (f *fakeStats) CountRevocationsSince(_ context.Context, afterID int64) (int, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.since = append(f.since, afterID)
	if f.err != nil {
		return 0, 0, f.err
	}
	n, last := 0, afterID
	for _, id := range f.revoked {
		if id > afterID {
			n, last = n+1, max(last, id)
		}
	}
	return n, last, nil
}

func (f *fakeStats) CountKeyRotationsSince(_ context.Context, afterID int64) (map[string]int, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, 0, f.err
	}
	out, last := map[string]int{}, afterID
	for i, trigger := range f.rotations {
		if id := int64(i + 1); id > afterID {
			out[trigger]++
			last = id
		}
	}
	return out, last, nil
}

// scrape reads m through /metrics and the Prometheus text parser, as a
// scraper would.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(m, Readiness{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, rec.Body.String())
	}
	return fams
}

func TestMetricsCount(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	stats := &fakeStats{sessions: 3, revoked: []int64{4, 9}, rotations: []string{"manual"}}
	m := NewMetrics(MetricsOptions{Stats: stats, Now: func() time.Time { return now }})

	m.CountRequest(Request{App: "demo", Decision: "allow", Status: 200, Decided: true, Forwarded: true})
	m.CountRequest(Request{App: "demo", Decision: "allow", Status: 504, Decided: true, Forwarded: true})
	m.CountRequest(Request{App: "demo", Decision: "deny", Status: 504, Decided: true}) // not forwarded: no origin timeout
	m.CountRequest(Request{App: "", Decision: "no_app", Status: 404})                  // not decided: no latency
	m.CountAudit(access.Event{Kind: access.EventSignIn, IdP: "pin"})
	m.CountAudit(access.Event{Kind: access.EventSignInFailed, IdP: "pin"})
	m.CountAudit(access.Event{Kind: access.EventRateLimited, Detail: "pin-sends limit reached"})
	m.CountAudit(access.Event{Kind: access.EventRevoked}) // counted from the store, not here
	m.CountReload(nil)
	m.CountReload(errors.New("bad file"))
	m.CountReload(errors.New("bad file"))

	fams := scrape(t, m)
	tests := []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"gatehouse_requests_total", map[string]string{"app": "demo", "decision": "allow"}, 2},
		{"gatehouse_requests_total", map[string]string{"app": "demo", "decision": "deny"}, 1},
		{"gatehouse_requests_total", map[string]string{"app": "", "decision": "no_app"}, 1},
		{"gatehouse_origin_timeouts_total", map[string]string{"app": "demo"}, 1},
		{"gatehouse_authorize_duration_seconds", map[string]string{}, 3},
		{"gatehouse_sign_ins_total", map[string]string{"idp": "pin", "result": "success"}, 1},
		{"gatehouse_sign_ins_total", map[string]string{"idp": "pin", "result": "failure"}, 1},
		{"gatehouse_rate_limited_total", map[string]string{"limit": "pin-sends"}, 1},
		{"gatehouse_config_reloads_total", map[string]string{"result": "success"}, 1},
		{"gatehouse_config_reloads_total", map[string]string{"result": "error"}, 2},
		{"gatehouse_key_rotations_total", map[string]string{"trigger": "manual"}, 1},
		{"gatehouse_key_rotations_total", map[string]string{"trigger": "schedule"}, 0},
		{"gatehouse_active_sessions", map[string]string{}, 3},
		{"gatehouse_revocations_total", map[string]string{}, 2},
	}
	for _, tt := range tests {
		got, ok := testkit.MetricValue(fams, tt.metric, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.metric, tt.labels, got, ok, tt.want)
		}
	}
	if !stats.now.Equal(now) {
		t.Errorf("sessions counted at %v, want the clock's %v", stats.now, now)
	}
}

func TestMetricsReloadsStartAtZero(t *testing.T) {
	fams := scrape(t, NewMetrics(MetricsOptions{Stats: &fakeStats{}}))
	for _, result := range []string{"success", "error"} {
		if got, ok := testkit.MetricValue(fams, "gatehouse_config_reloads_total", map[string]string{"result": result}); !ok || got != 0 {
			t.Errorf("reloads{result=%q} = %v (present %v), want a 0 sample", result, got, ok)
		}
	}
}

func TestMetricsRevocationsCountOnlyNewEvents(t *testing.T) {
	stats := &fakeStats{revoked: []int64{2, 5}}
	m := NewMetrics(MetricsOptions{Stats: stats})
	scrape(t, m)
	stats.mu.Lock()
	stats.revoked = append(stats.revoked, 7)
	stats.mu.Unlock()
	got, _ := testkit.MetricValue(scrape(t, m), "gatehouse_revocations_total", map[string]string{})
	if got != 3 {
		t.Errorf("revocations after a new event = %v, want 3", got)
	}
	if want := []int64{0, 5}; len(stats.since) != 2 || stats.since[0] != want[0] || stats.since[1] != want[1] {
		t.Errorf("revocation log queried after ids %v, want %v", stats.since, want)
	}
}

func TestMetricsStoreDown(t *testing.T) {
	stats := &fakeStats{revoked: []int64{1}}
	m := NewMetrics(MetricsOptions{Stats: stats})
	scrape(t, m)
	stats.mu.Lock()
	stats.err = errors.New("database is locked")
	stats.mu.Unlock()
	fams := scrape(t, m)
	if got, ok := testkit.MetricValue(fams, "gatehouse_active_sessions", map[string]string{}); !ok || !math.IsNaN(got) {
		t.Errorf("active sessions with the store down = %v (present %v), want NaN", got, ok)
	}
	if got, _ := testkit.MetricValue(fams, "gatehouse_revocations_total", map[string]string{}); got != 1 {
		t.Errorf("revocations with the store down = %v, want the last count 1", got)
	}
}

func TestMetricsCertExpiry(t *testing.T) {
	m := NewMetrics(MetricsOptions{Stats: &fakeStats{}})
	const name = "gatehouse_certificate_expiry_timestamp_seconds"
	if _, ok := scrape(t, m)[name]; ok {
		t.Errorf("%s present before the TLS code set its hook", name)
	}
	m.SetCertExpiry(func() map[string]time.Time {
		return map[string]time.Time{"auth.example.com": time.Unix(2000000000, 0)}
	})
	if got, ok := testkit.MetricValue(scrape(t, m), name, map[string]string{"domain": "auth.example.com"}); !ok || got != 2000000000 {
		t.Errorf("certificate expiry = %v (present %v)", got, ok)
	}
	m.SetCertExpiry(nil)
	if _, ok := scrape(t, m)[name]; ok {
		t.Errorf("%s present after the hook was removed", name)
	}
}
