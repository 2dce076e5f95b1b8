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
	"time"
)

// originBody is the 1 KiB body the origin answers with.
var originBody = func() []byte {
	b := make([]byte, 1024)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}()

// serveOrigin answers every request with 200 and a 1 KiB body.
func serveOrigin(ctx context.Context, addr string) error {
	size := strconv.Itoa(len(originBody))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr["Content-Type"] = []string{"text/plain"}
		hdr["Content-Length"] = []string{size}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(originBody)
	})
	return serve(ctx, addr, h)
}

// serveBareProxy runs a plain httputil.ReverseProxy to origin with a
// transport tuned like Gatehouse's: many idle connections per host, HTTP/1.1.
func serveBareProxy(ctx context.Context, addr, origin string) error {
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
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     false,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: tr,
	}
	return serve(ctx, addr, rp)
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
