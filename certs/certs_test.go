package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// statuses collects what a Manager reports to OnStatus.
type statuses struct {
	mu  sync.Mutex
	all []Status
}

func (s *statuses) add(st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, st)
}

func (s *statuses) list() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.all)
}

// serveTLS serves m's TLS config on a loopback listener for the test.
func serveTLS(t *testing.T, m *Manager) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:  http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		ErrorLog: log.New(io.Discard, "", 0), // the refused handshakes
	}
	go srv.Serve(tls.NewListener(ln, m.TLSConfig()))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// handshake dials addr with the SNI name and returns the leaf's serial.
func handshake(addr, name string, roots *x509.CertPool, conf *tls.Config) (int64, string, error) {
	if conf == nil {
		conf = &tls.Config{}
	}
	conf.ServerName, conf.RootCAs = name, roots
	conf.InsecureSkipVerify = roots == nil
	if conf.NextProtos == nil {
		conf.NextProtos = []string{"h2", "http/1.1"}
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, conf)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	st := c.ConnectionState()
	return st.PeerCertificates[0].SerialNumber.Int64(), st.NegotiatedProtocol, nil
}

// isTLSAlert reports whether a client handshake failed on an alert sent by
// the server.
func isTLSAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && strings.HasPrefix(op.Err.Error(), "tls: ")
}

func TestFilesServe(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t)
	authCrt, authKey, notAfter := ca.Issue(t, dir, "auth", 100, "auth.gh.test")
	wildCrt, wildKey, _ := ca.Issue(t, dir, "wild", 200, "*.gh.test")
	var st statuses
	m, err := New(Options{
		Mode: ModeFiles,
		Files: []File{
			{Label: "tls.certs[0]", Domains: []string{"Auth.gh.test"}, CertFile: authCrt, KeyFile: authKey},
			{Label: "tls.certs[1]", Domains: []string{"*.gh.test"}, CertFile: wildCrt, KeyFile: wildKey},
		},
		Log:      slog.New(slog.DiscardHandler),
		OnStatus: st.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got, want := m.Managed(), []string{"*.gh.test", "auth.gh.test"}; !slices.Equal(got, want) {
		t.Errorf("Managed = %q, want %q", got, want)
	}
	var loaded []string
	for _, s := range st.list() {
		if s.Error != "" || s.At.IsZero() {
			t.Errorf("status at load: %+v", s)
		}
		loaded = append(loaded, s.Name)
	}
	if want := []string{"*.gh.test", "auth.gh.test"}; !slices.Equal(loaded, want) {
		t.Errorf("reported loaded %q, want %q", loaded, want)
	}
	if got := m.NotAfter("auth.gh.test"); !got.Equal(notAfter) {
		t.Errorf("NotAfter = %v, want %v", got, notAfter)
	}
	if got := m.NotAfter("other.example.com"); !got.IsZero() {
		t.Errorf("NotAfter of an unknown name = %v", got)
	}

	addr := serveTLS(t, m)
	t.Run("certificate by SNI", func(t *testing.T) {
		for sni, want := range map[string]int64{"auth.gh.test": 100, "AUTH.gh.test.": 100, "app.gh.test": 200} {
			serial, proto, err := handshake(addr, sni, ca.Pool, nil)
			if err != nil {
				t.Fatalf("%s: %v", sni, err)
			}
			if serial != want || proto != "h2" {
				t.Errorf("%s: serial %d ALPN %q, want %d h2", sni, serial, proto, want)
			}
		}
	})
	t.Run("unknown SNI refused with an alert", func(t *testing.T) {
		for _, sni := range []string{"evil.example.com", "a.b.gh.test", ""} {
			if _, _, err := handshake(addr, sni, nil, nil); !isTLSAlert(err) {
				t.Errorf("SNI %q: err = %v, want a TLS alert", sni, err)
			}
		}
	})
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		_, _, err := handshake(addr, "auth.gh.test", ca.Pool, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			t.Fatal("TLS 1.1 handshake succeeded")
		}
	})
}

func TestFilesReload(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t)
	certFile, keyFile, _ := ca.Issue(t, dir, "app", 1, "app.gh.test")
	logs := &syncBuffer{}
	now := time.Now()
	var st statuses
	m, err := New(Options{
		Mode:     ModeFiles,
		Files:    []File{{Domains: []string{"app.gh.test"}, CertFile: certFile, KeyFile: keyFile}},
		Log:      slog.New(slog.NewTextHandler(logs, nil)),
		OnStatus: st.add,
		Now:      func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	get := m.TLSConfig().GetCertificate
	serial := func() int64 {
		t.Helper()
		c, err := get(&tls.ClientHelloInfo{ServerName: "APP.gh.test."})
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.SerialNumber.Int64()
	}
	if got := serial(); got != 1 {
		t.Fatalf("serial = %d", got)
	}
	ca.Issue(t, dir, "app", 2, "app.gh.test")
	later := time.Now().Add(time.Minute) // mtimes must differ from the first write
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(fileCheckEvery / 2)
	if got := serial(); got != 1 {
		t.Errorf("reloaded before the check interval: serial %d", got)
	}
	now = now.Add(fileCheckEvery)
	if got := serial(); got != 2 {
		t.Errorf("after the interval: serial %d, want 2 (reloaded)", got)
	}
	if err := os.WriteFile(certFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	evenLater := later.Add(time.Minute)
	os.Chtimes(certFile, evenLater, evenLater)
	now = now.Add(2 * fileCheckEvery)
	if got := serial(); got != 2 {
		t.Errorf("a broken file replaced the served certificate: serial %d", got)
	}
	if !strings.Contains(logs.String(), "reload certificate failed") {
		t.Errorf("failed reload not logged:\n%s", logs.String())
	}
	all := st.list()
	if len(all) != 3 || all[0].Error != "" || all[1].Error != "" || !strings.HasPrefix(all[2].Error, "reload: load ") {
		t.Errorf("statuses = %+v, want loaded, reloaded, reload failed", all)
	}
	if !all[2].At.Equal(now) {
		t.Errorf("failure at %v, want the clock's %v", all[2].At, now)
	}
	if _, err := get(&tls.ClientHelloInfo{ServerName: "other.gh.test"}); err == nil {
		t.Error("unknown name got a certificate")
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t)
	certFile, keyFile, _ := ca.Issue(t, dir, "a", 1, "a.gh.test")
	notPEM := filepath.Join(dir, "root.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	storage := &certmagic.FileStorage{Path: t.TempDir()}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"unknown mode", Options{Mode: "magic"}, `certs: unknown mode "magic"`},
		{"missing key", Options{Mode: ModeFiles, Files: []File{
			{Label: "tls.certs[0]", Domains: []string{"a.gh.test"}, CertFile: certFile, KeyFile: keyFile},
			{Label: "tls.certs[1]", Domains: []string{"b.gh.test"}, CertFile: certFile, KeyFile: filepath.Join(dir, "none.key")},
		}}, "certs: tls.certs[1]: key: "},
		{"acme without storage", Options{Mode: ModeACME}, "certs: mode acme needs a storage"},
		{"acme root missing", Options{Mode: ModeACME, Storage: storage, Root: filepath.Join(dir, "none.pem")}, "certs: CA root: "},
		{"acme root not PEM", Options{Mode: ModeACME, Storage: storage, Root: notPEM}, "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Log = slog.New(slog.DiscardHandler)
			m, err := New(tt.o)
			if err == nil {
				m.Close()
				t.Fatalf("New succeeded, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestOff(t *testing.T) {
	m, err := New(Options{Mode: ModeOff, Names: []string{"auth.gh.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.TLSConfig() != nil || m.Managed() != nil || m.Start(t.Context()) != nil || m.SetNames(nil) != nil {
		t.Error("mode off has TLS")
	}
	m.Close()
}

func TestRedirect(t *testing.T) {
	tests := []struct {
		name      string
		httpsAddr string
		url       string
		status    int
		location  string
	}{
		{"app", "127.0.0.1:8443", "http://app.gh.test:8080/a/b?c=d", http.StatusPermanentRedirect, "https://app.gh.test:8443/a/b?c=d"},
		{"team", "127.0.0.1:8443", "http://AUTH.gh.test./", http.StatusPermanentRedirect, "https://auth.gh.test:8443/"},
		{"port 443 left out", "[::]:443", "http://app.gh.test/x", http.StatusPermanentRedirect, "https://app.gh.test/x"},
		{"wildcard", "127.0.0.1:443", "http://api-dev.gh.test/", http.StatusPermanentRedirect, "https://api-dev.gh.test/"},
		{"unknown host", "127.0.0.1:8443", "http://evil.example.com/", http.StatusNotFound, ""},
		{"unclaimed challenge", "127.0.0.1:8443", "http://app.gh.test/.well-known/acme-challenge/x", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(Options{Mode: ModeOff, HTTPSAddr: tt.httpsAddr,
				Names: []string{"auth.gh.test:8443", "app.gh.test:8443", "*-dev.gh.test"}})
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			m.HTTPHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, tt.url, nil))
			if w.Code != tt.status || w.Header().Get("Location") != tt.location {
				t.Errorf("%d %q, want %d %q", w.Code, w.Header().Get("Location"), tt.status, tt.location)
			}
		})
	}
}

func TestRedirectSetNames(t *testing.T) {
	m, err := New(Options{Mode: ModeOff, HTTPSAddr: "127.0.0.1:443", Names: []string{"auth.gh.test", "old.gh.test"}})
	if err != nil {
		t.Fatal(err)
	}
	code := func(host string) int {
		w := httptest.NewRecorder()
		m.HTTPHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://"+host+"/", nil))
		return w.Code
	}
	if code("old.gh.test") != http.StatusPermanentRedirect || code("new.gh.test") != http.StatusNotFound {
		t.Fatal("before SetNames")
	}
	if err := m.SetNames([]string{"auth.gh.test", "new.gh.test:8443"}); err != nil {
		t.Fatal(err)
	}
	if code("old.gh.test") != http.StatusNotFound || code("new.gh.test") != http.StatusPermanentRedirect {
		t.Error("SetNames did not change the names redirected")
	}
}

func TestACMENames(t *testing.T) {
	got := acmeNames([]string{"Auth.Example.com:8443", "app.example.com:8443", "app.example.com", "*.wild.example.com", " b.example.com. ", ""})
	want := []string{"app.example.com", "auth.example.com", "b.example.com"}
	if !slices.Equal(got, want) {
		t.Errorf("acmeNames = %q, want %q", got, want)
	}
}

func TestHostMatches(t *testing.T) {
	tests := []struct {
		name, pattern, host string
		want                bool
	}{
		{"exact", "a.example.com", "a.example.com", true},
		{"other", "a.example.com", "b.example.com", false},
		{"wildcard", "*.example.com", "x.example.com", true},
		{"wildcard one label only", "*.example.com", "y.x.example.com", false},
		{"wildcard not the apex", "*.example.com", "example.com", false},
		{"prefix wildcard", "*-dev.example.com", "api-dev.example.com", true},
		{"prefix wildcard mismatch", "*-dev.example.com", "api.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostMatches(tt.pattern, tt.host); got != tt.want {
				t.Errorf("hostMatches(%q, %q) = %v", tt.pattern, tt.host, got)
			}
		})
	}
}

// TestACMEEvents: certmagic's events become Status reports for the names
// managed, with the failure's text; a name no longer managed reports
// nothing.
func TestACMEEvents(t *testing.T) {
	var st statuses
	logs := &syncBuffer{}
	m, err := New(Options{
		Mode:     ModeACME,
		Names:    []string{"auth.gh.test", "app.gh.test:8443"},
		Storage:  &certmagic.FileStorage{Path: t.TempDir()},
		Log:      slog.New(slog.NewTextHandler(logs, nil)),
		OnStatus: st.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got, want := m.Managed(), []string{"app.gh.test", "auth.gh.test"}; !slices.Equal(got, want) {
		t.Errorf("Managed = %q, want %q", got, want)
	}
	const msg = "acme: order failed: urn:ietf:params:acme:error:connection: no route to host"
	ctx := t.Context()
	ev := m.acme.event
	ev(ctx, "cert_failed", map[string]any{"renewal": true, "identifier": "app.gh.test", "remaining": 72 * time.Hour,
		"error": fmt.Errorf("[app.gh.test] %w", errors.New(msg))})
	ev(ctx, "cert_failed", map[string]any{"identifier": "auth.gh.test", "error": "rate limited"})
	ev(ctx, "cert_failed", map[string]any{"identifier": "auth.gh.test"})
	ev(ctx, "cert_obtaining", map[string]any{"identifier": "auth.gh.test"})
	ev(ctx, "cert_obtained", map[string]any{"renewal": true, "identifier": "app.gh.test"})
	ev(ctx, "cert_obtained", map[string]any{"identifier": "gone.gh.test"}) // not managed
	want := []Status{
		{Name: "app.gh.test", Error: "renewal: [app.gh.test] " + msg},
		{Name: "auth.gh.test", Error: "obtain: rate limited"},
		{Name: "auth.gh.test", Error: "obtain failed"},
		{Name: "app.gh.test"},
	}
	got := st.list()
	for i := range got {
		got[i].At = time.Time{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("statuses = %+v\nwant %+v", got, want)
	}
	for _, line := range []string{`msg="tls: certificate failed; will retry"`, `msg="tls: cert obtaining" identifier=auth.gh.test`} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("log lacks %s:\n%s", line, logs.String())
		}
	}
}

// TestACMESetNamesBeforeStart: names changed before Start are the ones
// Start manages; nothing is obtained until then.
func TestACMESetNamesBeforeStart(t *testing.T) {
	m, err := New(Options{Mode: ModeACME, Names: []string{"a.gh.test"}, Storage: &certmagic.FileStorage{Path: t.TempDir()},
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SetNames([]string{"b.gh.test", "*.gh.test", "B.gh.test:443"}); err != nil {
		t.Fatal(err)
	}
	if got := m.Managed(); !slices.Equal(got, []string{"b.gh.test"}) {
		t.Errorf("Managed = %q", got)
	}
	if len(m.acme.running) != 0 {
		t.Errorf("managing before Start: %v", m.acme.running)
	}
}
