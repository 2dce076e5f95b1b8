package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// originBody is the 1 KiB body the origin answers with.
var originBody = func() []byte {
	b := make([]byte, 1024)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}()

// hitsPath answers the origin's hit count (the requests to any other path)
// without counting itself.
const hitsPath = "/__bench/hits"

// identityPath answers, without counting itself, the identity headers of
// the contract the request carried: the Cf-Access-Jwt-Assertion and the
// Cf-Access-Authenticated-User-Email values, a line each.
const identityPath = "/__bench/identity"

// serveOrigin answers every request with 200 and a 1 KiB body, hitsPath
// with the number of those it has answered, and identityPath with the
// identity headers it was sent.
func serveOrigin(ctx context.Context, addr string) error {
	size := strconv.Itoa(len(originBody))
	var hits atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case hitsPath:
			_, _ = fmt.Fprintln(w, hits.Load())
			return
		case identityPath:
			_, _ = fmt.Fprintf(w, "%s\n%s\n", r.Header.Get(access.HeaderJWTAssertion), r.Header.Get(access.HeaderUserEmail))
			return
		}
		hits.Add(1)
		hdr := w.Header()
		hdr["Content-Type"] = []string{"text/plain"}
		hdr["Content-Length"] = []string{size}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(originBody)
	})
	return serve(ctx, addr, h)
}

// serveBareProxy runs the best plain httputil.ReverseProxy to origin:
// the transport Gatehouse uses for an app (proxy.defaultTransport with the
// default origin_timeout as its response-header timeout: many idle
// connections per host, HTTP/1.1) and the same pooled 32 KiB copy buffers,
// so that the difference to Gatehouse is what authorization costs.
//
// With contract, it also passes the origin the identity headers of
// Gatehouse's origin contract, unverified: the CF_Authorization cookie's
// value as Cf-Access-Jwt-Assertion and a fixed
// Cf-Access-Authenticated-User-Email. The origin then parses the same
// bytes as behind Gatehouse, so the difference to Gatehouse is what
// deciding costs, without what sending the contract's headers costs.
func serveBareProxy(ctx context.Context, addr, origin string, contract bool) error {
	target, err := url.Parse(origin)
	if err != nil {
		return fmt.Errorf("bareproxy: origin: %w", err)
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: access.DefaultOriginTimeout,
		ForceAttemptHTTP2:     false,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			if contract {
				if v, _ := web.CookieValues(pr.In.Header, access.CookieAuthorization); v != "" {
					pr.Out.Header[jwtHeader] = []string{v}
					pr.Out.Header[emailHeader] = contractEmail
				}
			}
		},
		Transport:  tr,
		BufferPool: &bufferPool{},
	}
	return serve(ctx, addr, rp)
}

// The identity headers the contract bare proxy sets.
var (
	jwtHeader     = http.CanonicalHeaderKey(access.HeaderJWTAssertion)
	emailHeader   = http.CanonicalHeaderKey(access.HeaderUserEmail)
	contractEmail = []string{"bench@bench.test"}
)

// bufferPool is the reverse proxy's pool of 32 KiB copy buffers, as
// Gatehouse's (proxy.bufferPool).
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) != 32<<10 {
		return
	}
	buf = buf[:32<<10]
	b.p.Put(&buf)
}

// serve serves h on addr until ctx is done.
func serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// freePorts prints n distinct loopback TCP ports in [20000, 32000) that
// could be bound just now, one per line.
func freePorts(n int, w io.Writer) error {
	seen := map[int]bool{}
	for tries := 0; len(seen) < n && tries < 1000; tries++ {
		p := 20000 + rand.IntN(12000)
		if seen[p] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		ln.Close()
		seen[p] = true
		if _, err := fmt.Fprintln(w, p); err != nil {
			return err
		}
	}
	if len(seen) < n {
		return errors.New("ports: not enough free ports")
	}
	return nil
}
