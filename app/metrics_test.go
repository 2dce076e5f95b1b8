package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads a's metrics through the Prometheus text parser.
func scrape(t *testing.T, a *App) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	a.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
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

func TestMetricsAfterTraffic(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	c := newClient(t, false)
	resp := env.signInWithPIN(t, c, env.url("app", "/"), "ann@example.com")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in ended with %d", resp.StatusCode)
	}
	readBody(t, resp)
	for range 3 {
		resp, err := c.Get(env.url("app", "/x"))
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
	}
	anon := newClient(t, true)
	for range 2 {
		resp, err := anon.Get(env.url("other", "/"))
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
	}

	fams := scrape(t, env.app)
	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		// The sign-in ends on the app (1), then three more requests.
		{"allowed requests", "gatehouse_requests_total", map[string]string{"app": "demo", "decision": "allow"}, 4},
		// The first visit before sign-in, and two anonymous ones.
		{"login redirects demo", "gatehouse_requests_total", map[string]string{"app": "demo", "decision": "login"}, 1},
		{"login redirects other", "gatehouse_requests_total", map[string]string{"app": "other", "decision": "login"}, 2},
		{"authorize latency samples", "gatehouse_authorize_duration_seconds", map[string]string{}, 7},
		{"sign-ins", "gatehouse_sign_ins_total", map[string]string{"idp": "pin", "result": "success"}, 1},
		{"active sessions", "gatehouse_active_sessions", map[string]string{}, 1},
		{"revocations", "gatehouse_revocations_total", map[string]string{}, 0},
		{"reloads ok", "gatehouse_config_reloads_total", map[string]string{"result": "success"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := metricValue(fams, tt.metric, tt.labels)
			if !ok {
				t.Fatalf("%s%v missing", tt.metric, tt.labels)
			}
			if got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}

	// The certificate hook shows up once set.
	env.app.ops.metrics.SetCertExpiry(func() map[string]time.Time {
		return map[string]time.Time{"auth.example.com": time.Unix(2000000000, 0)}
	})
	got, ok := metricValue(scrape(t, env.app), "gatehouse_certificate_expiry_timestamp_seconds", map[string]string{"domain": "auth.example.com"})
	if !ok || got != 2000000000 {
		t.Errorf("certificate expiry = %v (present %v)", got, ok)
	}
}

func TestHealthAndReady(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	h := env.app.MetricsHandler()
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
	}
	// A database that opens and reads but refuses writes (as a full disk
	// does): readiness means "can record sign-ins and revocations".
	if _, err := env.app.Store().SQL().Exec(`CREATE TRIGGER no_writes BEFORE INSERT ON heartbeat BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "disk full") {
		t.Errorf("/readyz with writes refused: %d %q", rec.Code, rec.Body.String())
	}
	if _, err := env.app.Store().SQL().Exec(`DROP TRIGGER no_writes`); err != nil {
		t.Fatal(err)
	}
	env.app.Store().SQL().Close() // a dead database: no longer ready, still alive
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database closed: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "ok" {
		t.Errorf("/healthz: %d %q", rec.Code, rec.Body.String())
	}
}

// metricValue is testkit.MetricValue.
var metricValue = testkit.MetricValue
