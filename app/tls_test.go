package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
	"github.com/gatehouse-dev/gatehouse/web"
)

// handedOut holds the ports freePort returned, none of which it returns
// again: a port is free only until its user binds it, so two calls before
// that (pebble's ACME and challtestsrv's management port) could otherwise
// both get it.
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// freePort returns a TCP port below the ephemeral range (see the test
// harness notes) that is free on 127.0.0.1 right now and that no earlier
// call of this test binary returned.
func freePort(t testing.TB) int {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 200 {
		p := 20000 + mrand.IntN(12000)
		if handedOut.ports[p] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			ln.Close()
			handedOut.ports[p] = true
			return p
		}
	}
	t.Fatal("no free port below 32000")
	return 0
}

// tlsEnv is a Gatehouse started with Run (TLS on) on fixed loopback ports.
type tlsEnv struct {
	app       *App
	httpPort  int
	httpsPort int
	mail      *pinMailer
	logs      *syncBuffer
	cancel    context.CancelFunc
	done      chan error
}

// startTLSEnv boots Gatehouse with Run. In cfgText, {{HTTP}}, {{HTTPS}} and
// {{DATA}} are replaced by the ports and the data directory.
func startTLSEnv(t testing.TB, cfgText, dataDir string, httpPort, httpsPort int) *tlsEnv {
	t.Helper()
	text := strings.NewReplacer("{{HTTP}}", fmt.Sprint(httpPort), "{{HTTPS}}", fmt.Sprint(httpsPort),
		"{{DATA}}", filepath.ToSlash(dataDir)).Replace(cfgText)
	cfg, err := config.Parse([]byte(text), "test.toml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mail := newPinMailer()
	a, err := NewWithOptions(context.Background(), cfg, log, Options{Mail: mail})
	if err != nil {
		t.Fatalf("new app: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &tlsEnv{app: a, httpPort: httpPort, httpsPort: httpsPort, mail: mail, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { e.done <- a.Run(ctx) }()
	t.Cleanup(func() { e.stop(t) })
	// Ready means the HTTPS port accepts connections and the certificate
	// manager is set up: Run binds listen_https before it loads the
	// certificates and feeds the status and the expiry metric from them
	// (app/tls.go), so an open port alone does not mean those are there yet.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort), time.Second)
		if err == nil {
			c.Close()
			if a.certs.Load() != nil {
				break
			}
			err = errors.New("certificate manager not set up yet")
		}
		select {
		case err := <-e.done:
			t.Fatalf("run ended: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("HTTPS listener never came up: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return e
}

func (e *tlsEnv) stop(t testing.TB) {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	awaitStop(t, "run", e.done, e.app, e.logs)
}

// handshake dials the HTTPS port on 127.0.0.1 with the SNI name and returns
// the connection state. roots nil skips verification.
func handshake(port int, name string, roots *x509.CertPool, protos ...string) (tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	conf := &tls.Config{ServerName: name, RootCAs: roots, InsecureSkipVerify: roots == nil, NextProtos: protos}
	c, err := tls.DialWithDialer(d, "tcp", fmt.Sprintf("127.0.0.1:%d", port), conf)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.ConnectionState(), nil
}

// isTLSAlert reports whether a client handshake failed on an alert sent by
// the server (Go reports it as a "remote error").
func isTLSAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && strings.HasPrefix(op.Err.Error(), "tls: ")
}

// httpsClient reaches every name on loopback and trusts roots.
func httpsClient(roots *x509.CertPool) *http.Client {
	return &http.Client{
		Timeout:       20 * time.Second,
		Transport:     &http.Transport{DialContext: loopbackDialer, TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

const filesConfig = `team_domain = "auth.gh.test:{{HTTPS}}"
listen = "127.0.0.1:{{HTTP}}"
listen_https = "127.0.0.1:{{HTTPS}}"
data_dir = "{{DATA}}"
[metrics]
listen = ""
[tls]
mode = "files"
[[tls.certs]]
domains = ["auth.gh.test"]
cert_file = "{{DATA}}/auth.crt"
key_file = "{{DATA}}/auth.key"
[[tls.certs]]
domains = ["*.gh.test"]
cert_file = "{{DATA}}/wild.crt"
key_file = "{{DATA}}/wild.key"
[[idps]]
id = "pin"
kind = "otp"
[[apps]]
name = "demo"
domains = ["app.gh.test:{{HTTPS}}"]
origin = "whoami"
[[apps.policies]]
name = "all"
decision = "allow"
include = [{ everyone = true }]
`

func TestTLSFilesServe(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t)
	ca.Issue(t, dir, "auth", 100, "auth.gh.test")
	ca.Issue(t, dir, "wild", 200, "*.gh.test")
	e := startTLSEnv(t, filesConfig, dir, freePort(t), freePort(t))

	t.Run("certificate by SNI", func(t *testing.T) {
		tests := []struct {
			name   string
			sni    string
			serial int64
		}{
			{"exact name", "auth.gh.test", 100},
			{"wildcard", "app.gh.test", 200},
			{"wildcard other name", "other.gh.test", 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st, err := handshake(e.httpsPort, tt.sni, ca.Pool, "h2", "http/1.1")
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				if got := st.PeerCertificates[0].SerialNumber.Int64(); got != tt.serial {
					t.Errorf("serial = %d, want %d", got, tt.serial)
				}
				if st.NegotiatedProtocol != "h2" {
					t.Errorf("ALPN = %q, want h2", st.NegotiatedProtocol)
				}
			})
		}
	})
	t.Run("unknown SNI refused with an alert", func(t *testing.T) {
		for _, sni := range []string{"evil.example.com", "a.b.gh.test", ""} {
			_, err := handshake(e.httpsPort, sni, nil)
			if !isTLSAlert(err) {
				t.Errorf("SNI %q: err = %v, want a TLS alert", sni, err)
			}
		}
	})
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		d := &net.Dialer{Timeout: 5 * time.Second}
		c, err := tls.DialWithDialer(d, "tcp", fmt.Sprintf("127.0.0.1:%d", e.httpsPort),
			&tls.Config{ServerName: "auth.gh.test", RootCAs: ca.Pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			c.Close()
			t.Fatal("TLS 1.1 handshake succeeded")
		}
	})
	t.Run("HSTS on the team domain and app hosts", func(t *testing.T) {
		c := httpsClient(ca.Pool)
		resp, err := c.Get(fmt.Sprintf("https://auth.gh.test:%d/", e.httpsPort))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != web.HSTSValue {
			t.Errorf("team HSTS = %q", got)
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol %s, want HTTP/2", resp.Proto)
		}
		resp, err = c.Get(fmt.Sprintf("https://app.gh.test:%d/", e.httpsPort))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != web.HSTSValue {
			t.Errorf("app host HSTS = %q, want %q", got, web.HSTSValue)
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, fmt.Sprintf("https://auth.gh.test:%d/", e.httpsPort)) {
			t.Errorf("app host without session: %d %q, want a 302 to the https team domain", resp.StatusCode, loc)
		}
		for _, ck := range resp.Cookies() {
			if !ck.Secure {
				t.Errorf("cookie %s not Secure under TLS", ck.Name)
			}
		}
	})
	t.Run("HTTP redirects to HTTPS", func(t *testing.T) {
		c := newClient(t, true)
		tests := []struct {
			name, url string
			status    int
			location  string
		}{
			{"app", fmt.Sprintf("http://app.gh.test:%d/a/b?c=d", e.httpPort), http.StatusPermanentRedirect, fmt.Sprintf("https://app.gh.test:%d/a/b?c=d", e.httpsPort)},
			{"team", fmt.Sprintf("http://auth.gh.test:%d/", e.httpPort), http.StatusPermanentRedirect, fmt.Sprintf("https://auth.gh.test:%d/", e.httpsPort)},
			{"unknown host", fmt.Sprintf("http://evil.example.com:%d/", e.httpPort), http.StatusNotFound, ""},
			{"unclaimed challenge", fmt.Sprintf("http://app.gh.test:%d/.well-known/acme-challenge/x", e.httpPort), http.StatusNotFound, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, err := c.Get(tt.url)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
					t.Errorf("%d %q, want %d %q", resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
				}
			})
		}
	})
}

func TestTLSFilesStartFailsOnMissingFile(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t)
	ca.Issue(t, dir, "auth", 100, "auth.gh.test") // no wild.crt
	text := strings.NewReplacer("{{HTTP}}", fmt.Sprint(freePort(t)), "{{HTTPS}}", fmt.Sprint(freePort(t)), "{{DATA}}", dir).Replace(filesConfig)
	cfg, err := config.Parse([]byte(text), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "tls.certs[1]") {
		t.Fatalf("Run = %v, want an error naming tls.certs[1]", err)
	}
}

// TestFreePortNotTwice: ports handed out before anyone bound them are not
// handed out again (500 random draws among 12000 ports would repeat one
// almost surely).
func TestFreePortNotTwice(t *testing.T) {
	seen := map[int]bool{}
	for range 500 {
		p := freePort(t)
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}
