// Package ops is Gatehouse's operational side: the Prometheus metrics, the
// /healthz and /readyz probes, the status of certificates and reloads for
// the admin page, the access log and the process logger. It reads the store
// through the small interfaces it declares and takes everything else as
// plain values.
package ops

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse-dev/gatehouse/access"
)

// scrapeTimeout bounds the database queries made at scrape time.
const scrapeTimeout = 2 * time.Second

// Stats is what the metrics read from the store when scraped.
type Stats interface {
	// CountActiveSessions counts the global sessions neither expired nor
	// revoked at now.
	CountActiveSessions(ctx context.Context, now time.Time) (int, error)
	// CountRevocationsSince counts the revocations of the revocation log
	// that someone made (not sign-outs) with an id above afterID, and
	// returns the highest id of the log (afterID when none).
	CountRevocationsSince(ctx context.Context, afterID int64) (n int, last int64, err error)
	// CountKeyRotationsSince counts the signing-key rotations recorded in
	// the audit log with an id above afterID, by trigger, and returns the
	// highest audit id (afterID when none).
	CountKeyRotationsSince(ctx context.Context, afterID int64) (byTrigger map[string]int, last int64, err error)
}

// MetricsOptions configure NewMetrics.
type MetricsOptions struct {
	Stats Stats
	Log   *slog.Logger     // scrape problems; discarded when nil
	Now   func() time.Time // clock; time.Now when nil
}

// Metrics are Gatehouse's Prometheus collectors, in a private registry.
// They are safe for concurrent use.
type Metrics struct {
	o        MetricsOptions
	reg      *prometheus.Registry
	requests *prometheus.CounterVec // app, decision
	// counters are the requests children already resolved, by app and
	// decision, so that counting a request hashes no label values.
	countersMu sync.RWMutex
	counters   map[[2]string]prometheus.Counter
	authorize  prometheus.Histogram   // seconds to decide about a request
	signIns    *prometheus.CounterVec // idp, result
	reloads    *prometheus.CounterVec // result
	limited    *prometheus.CounterVec // what (rate limits reached)
	timeouts   *prometheus.CounterVec // app (origin timeouts)
	// certExpiry lists the expiry of every TLS certificate by domain; set
	// with SetCertExpiry.
	certExpiry atomic.Pointer[func() map[string]time.Time]
	revMu      sync.Mutex
	revLastID  int64 // highest revocation id counted into revTotal
	revTotal   int
	keyMu      sync.Mutex
	keyLastID  int64          // highest audit id counted into keyTotals
	keyTotals  map[string]int // key rotations by trigger
}

// NewMetrics registers the collectors; the gauges query o.Stats when
// scraped.
func NewMetrics(o MetricsOptions) *Metrics {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		o:         o,
		reg:       prometheus.NewRegistry(),
		keyTotals: map[string]int{access.KeyRotationSchedule: 0, access.KeyRotationManual: 0},
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
		m.requests, m.authorize, m.signIns, m.reloads, m.limited, m.timeouts,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_active_sessions",
			Help: "Global sessions neither expired nor revoked.",
		}, m.activeSessions),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_revocations_total",
			Help: "Revocations in the revocation log made from the admin page, the API or the command line (users, apps hard and soft, sessions); sign-outs are not counted.",
		}, m.revocations),
		&keyRotationsCollector{m: m, desc: prometheus.NewDesc(
			"gatehouse_key_rotations_total",
			"Signing-key rotations recorded in the audit log, by trigger (schedule, manual: gatehouse keys rotate).",
			[]string{"trigger"}, nil)},
		&certExpiryCollector{m: m, desc: prometheus.NewDesc(
			"gatehouse_certificate_expiry_timestamp_seconds",
			"Expiry of the TLS certificate of each domain, as a Unix time.",
			[]string{"domain"}, nil)},
	)
	return m
}

// Request is what the proxy reports about one request to a protected host.
type Request struct {
	App      string // the app's name; "" when no app claims the request
	Decision string // the proxy's decision (allow, bypass, login, deny, no_app, endpoint)
	User     string // the email or "service:" client ID; "" when anonymous
	Status   int
	Duration time.Duration // the whole request, origin included
	// Decided tells whether the proxy judged the request (not an endpoint,
	// not a host without an app); only then does Authorize count.
	Decided   bool
	Authorize time.Duration // time to decide, without the origin's time
	// Forwarded tells whether the request went to the origin, so that a
	// 504 is the origin timing out.
	Forwarded bool
}

// CountRequest counts r by app and decision, its authorize latency, and an
// origin timeout.
func (m *Metrics) CountRequest(r Request) {
	m.requestCounter(r.App, r.Decision).Inc()
	if r.Forwarded && r.Status == http.StatusGatewayTimeout {
		m.timeouts.WithLabelValues(r.App).Inc()
	}
	if r.Decided {
		m.authorize.Observe(r.Authorize.Seconds())
	}
}

// requestCounter returns the requests counter of app and decision.
func (m *Metrics) requestCounter(app, decision string) prometheus.Counter {
	k := [2]string{app, decision}
	m.countersMu.RLock()
	c, ok := m.counters[k]
	m.countersMu.RUnlock()
	if ok {
		return c
	}
	c = m.requests.WithLabelValues(app, decision)
	m.countersMu.Lock()
	if m.counters == nil || len(m.counters) >= maxCounters {
		m.counters = make(map[[2]string]prometheus.Counter)
	}
	m.counters[k] = c
	m.countersMu.Unlock()
	return c
}

// maxCounters bounds the resolved counters; when full they start over.
const maxCounters = 1024

// CountAudit counts the sign-in and rate-limit events of e, as the login
// handler audits them.
func (m *Metrics) CountAudit(e access.Event) {
	switch e.Kind {
	case access.EventSignIn:
		m.signIns.WithLabelValues(e.IdP, "success").Inc()
	case access.EventSignInFailed:
		m.signIns.WithLabelValues(e.IdP, "failure").Inc()
	case access.EventRateLimited:
		m.limited.WithLabelValues(strings.TrimSuffix(e.Detail, " limit reached")).Inc()
	}
}

// CountReload counts a configuration reload that ended with err.
func (m *Metrics) CountReload(err error) {
	if err != nil {
		m.reloads.WithLabelValues("error").Inc()
		return
	}
	m.reloads.WithLabelValues("success").Inc()
}

// SetCertExpiry installs the function called at scrape time for the expiry
// of every TLS certificate, by domain; nil removes it. Safe to call at any
// time.
func (m *Metrics) SetCertExpiry(f func() map[string]time.Time) {
	if f == nil {
		m.certExpiry.Store(nil)
		return
	}
	m.certExpiry.Store(&f)
}

// revocations returns the number of revocations in the revocation log,
// counting only the entries added since the previous scrape.
func (m *Metrics) revocations() float64 {
	m.revMu.Lock()
	defer m.revMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	n, last, err := m.o.Stats.CountRevocationsSince(ctx, m.revLastID)
	if err != nil {
		m.o.Log.Warn("metrics: count revocations", "err", err)
	} else {
		m.revTotal += n
		m.revLastID = last
	}
	return float64(m.revTotal)
}

// keyRotations returns the key rotations by trigger, counting only the
// audit events added since the previous scrape.
func (m *Metrics) keyRotations() map[string]int {
	m.keyMu.Lock()
	defer m.keyMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	by, last, err := m.o.Stats.CountKeyRotationsSince(ctx, m.keyLastID)
	if err != nil {
		m.o.Log.Warn("metrics: count key rotations", "err", err)
	} else {
		for trigger, n := range by {
			m.keyTotals[trigger] += n
		}
		m.keyLastID = last
	}
	out := make(map[string]int, len(m.keyTotals))
	for k, v := range m.keyTotals {
		out[k] = v
	}
	return out
}

// keyRotationsCollector publishes the key rotations counted from the
// audit log.
type keyRotationsCollector struct {
	m    *Metrics
	desc *prometheus.Desc
}

func (c *keyRotationsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *keyRotationsCollector) Collect(ch chan<- prometheus.Metric) {
	for trigger, n := range c.m.keyRotations() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), trigger)
	}
}

// activeSessions counts the live global sessions; NaN when the database
// cannot answer.
func (m *Metrics) activeSessions() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	n, err := m.o.Stats.CountActiveSessions(ctx, m.o.Now())
	if err != nil {
		m.o.Log.Warn("metrics: count sessions", "err", err)
		return math.NaN()
	}
	return float64(n)
}

// certExpiryCollector publishes the hook set with SetCertExpiry.
type certExpiryCollector struct {
	m    *Metrics
	desc *prometheus.Desc
}

func (c *certExpiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *certExpiryCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.m.certExpiry.Load()
	if f == nil {
		return
	}
	for domain, t := range (*f)() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.Unix()), domain)
	}
}
