package app

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/store"
)

// scrapeTimeout bounds the database queries made at scrape time.
const scrapeTimeout = 2 * time.Second

// metrics are Gatehouse's Prometheus collectors, in a private registry.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec // app, decision
	authorize prometheus.Histogram   // seconds to decide about a request
	signIns   *prometheus.CounterVec // idp, result
	reloads   *prometheus.CounterVec // result
	keyRotate *prometheus.CounterVec // trigger
	limited   *prometheus.CounterVec // what (rate limits reached)
	timeouts  *prometheus.CounterVec // app (origin timeouts)
	revMu     sync.Mutex
	revLastID int64 // highest audit id counted into revTotal
	revTotal  int
}

// newMetrics registers the collectors of a; the gauges query a's store
// when scraped.
func newMetrics(a *App) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_requests_total",
			Help: "Requests to protected hosts by app and decision (allow, bypass, login, deny, no_app, endpoint).",
		}, []string{"app", "decision"}),
		authorize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gatehouse_authorize_duration_seconds",
			Help:    "Time to decide about a request to a protected host, without the origin's time.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_sign_ins_total",
			Help: "Sign-ins by identity provider and result (success, failure).",
		}, []string{"idp", "result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_config_reloads_total",
			Help: "Configuration reloads by result (success, error).",
		}, []string{"result"}),
		keyRotate: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_key_rotations_total",
			Help: "Signing keys created by this process, by trigger (schedule, manual).",
		}, []string{"trigger"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_rate_limited_total",
			Help: "Requests refused by a limit on what strangers can trigger (PIN emails, wrong codes, sign-ins).",
		}, []string{"limit"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_origin_timeouts_total",
			Help: "Requests answered 504 because the origin did not start answering within origin_timeout.",
		}, []string{"app"}),
	}
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("error")
	m.reg.MustRegister(
		m.requests, m.authorize, m.signIns, m.reloads, m.keyRotate, m.limited, m.timeouts,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_active_sessions",
			Help: "Global sessions neither expired nor revoked.",
		}, func() float64 { return a.activeSessions() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_revocations_total",
			Help: "Revocations recorded in the audit log (users, apps and sessions).",
		}, func() float64 { return m.revocations(a.db) }),
		&certExpiryCollector{a: a, desc: prometheus.NewDesc(
			"gatehouse_certificate_expiry_timestamp_seconds",
			"Expiry of the TLS certificate of each domain, as a Unix time.",
			[]string{"domain"}, nil)},
	)
	return m
}

// countAudit counts the sign-in events of e.
func (m *metrics) countAudit(e access.Event) {
	switch e.Kind {
	case access.EventSignIn:
		m.signIns.WithLabelValues(e.IdP, "success").Inc()
	case access.EventSignInFailed:
		m.signIns.WithLabelValues(e.IdP, "failure").Inc()
	case access.EventRateLimited:
		m.limited.WithLabelValues(strings.TrimSuffix(e.Detail, " limit reached")).Inc()
	}
}

// revocations returns the number of "revoked" audit events, counting only
// the events added since the previous scrape.
func (m *metrics) revocations(db *store.DB) float64 {
	m.revMu.Lock()
	defer m.revMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	n, last, err := db.CountAuditSince(ctx, access.EventRevoked, m.revLastID)
	if err == nil {
		m.revTotal += n
		m.revLastID = last
	}
	return float64(m.revTotal)
}

// activeSessions counts the live global sessions; NaN when the database
// cannot answer.
func (a *App) activeSessions() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	n, err := a.db.CountActiveSessions(ctx, a.now())
	if err != nil {
		a.log.Warn("metrics: count sessions", "err", err)
		return math.NaN()
	}
	return float64(n)
}

// certExpiryCollector publishes App.certExpiry, the hook the TLS code sets.
type certExpiryCollector struct {
	a    *App
	desc *prometheus.Desc
}

func (c *certExpiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *certExpiryCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.a.certExpiry.Load()
	if f == nil {
		return
	}
	for domain, t := range (*f)() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.Unix()), domain)
	}
}

// SetCertExpiry installs the function the metrics call at scrape time for
// the expiry of every TLS certificate, by domain. The TLS code calls it
// once it manages certificates; safe to call at any time.
func (a *App) SetCertExpiry(f func() map[string]time.Time) {
	if f == nil {
		a.certExpiry.Store(nil)
		return
	}
	a.certExpiry.Store(&f)
}

// MetricsHandler serves /metrics, /healthz and /readyz: the handler of the
// metrics listener.
func (a *App) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.ops.metrics.reg, promhttp.HandlerOpts{
		ErrorLog: slogPromLogger{a},
	}))
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	return mux
}

// slogPromLogger sends promhttp's errors to the process log.
type slogPromLogger struct{ a *App }

func (l slogPromLogger) Println(v ...any) { l.a.log.Warn("metrics: scrape", "err", v) }
