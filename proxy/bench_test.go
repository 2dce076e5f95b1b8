package proxy

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"

	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/revocation"
	"github.com/gatehouse-dev/gatehouse/store"
)

// BenchmarkAuthorize measures an allowed request with a valid cookie to an
// app whose origin is an in-process no-op handler.
func BenchmarkAuthorize(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	f := newFixture(b, OriginWhoami, func(o *Options) {
		o.Whoami = noop
		o.Now = time.Now
	})
	raw := appToken(b, f.keys, "ann@example.com", audDemo, nonceA, time.Now(), time.Hour)
	req := httptest.NewRequest("GET", "http://app.example.com/dashboard?tab=1", nil)
	req.Header.Set("Cookie", "theme=dark; "+access.CookieAuthorization+"="+raw)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", "bench")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.status = 0
		f.h.ServeHTTP(w, req)
		if w.status != http.StatusNoContent {
			b.Fatalf("status %d", w.status)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(s int)           { d.status = s }

// BenchmarkAuthorizeRevocationIndex measures the authorize path against the
// real store's in-memory index: empty, and holding 1,000,000 revoked
// sessions plus 10,000 revoked users (each with a revoked session) loaded
// from SQLite. The lookups are map reads, so both must cost the same.
func BenchmarkAuthorizeRevocationIndex(b *testing.B) {
	for _, tc := range []struct {
		name     string
		sessions int
		users    int
	}{
		{"empty", 0, 0},
		{"1M_sessions_10k_users", 1_000_000, 10_000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			db := benchStore(b, tc.sessions, tc.users)
			noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
			f := newFixture(b, OriginWhoami, func(o *Options) {
				o.Whoami = noop
				o.Now = time.Now
				o.Store = db
			})
			if tc.sessions > 0 && !db.SessionRevoked("r0000999999") {
				b.Fatal("index not loaded")
			}
			raw := appToken(b, f.keys, "ann@example.com", audDemo, nonceA, time.Now(), time.Hour)
			req := httptest.NewRequest("GET", "http://app.example.com/dashboard?tab=1", nil)
			req.Header.Set("Cookie", "theme=dark; "+access.CookieAuthorization+"="+raw)
			req.Header.Set("Accept", "text/html")
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w.status = 0
				f.h.ServeHTTP(w, req)
				if w.status != http.StatusNoContent {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}

// realStore is the real store with the revocation engine in front, wired as
// app wires them.
type realStore struct {
	*store.DB
	*revocation.Engine
}

func (s realStore) RevokeSession(ctx context.Context, nonce, by string, now time.Time) error {
	r, err := s.DB.RevokeSession(ctx, nonce, by, now)
	if err == nil {
		s.Apply(r)
	}
	return err
}

// benchStore opens a real store holding sessions revoked sessions and users
// revoked users, written in bulk with SQL and loaded into the revocation
// engine by reopening.
func benchStore(b *testing.B, sessions, users int) realStore {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	exp := time.Now().Add(24 * time.Hour).UnixMilli()
	stmts := []string{
		`INSERT INTO users (id, email, created_at, last_sign_in) VALUES ('bulk', 'bulk@example.com', 0, 0)`,
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < %d)
			INSERT INTO sessions (nonce, user_id, identity, created_at, expires_at, revoked_at)
			SELECT printf('r%%010d', i), 'bulk', '{}', 0, %d, 1 FROM n`, sessions, exp),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < %d)
			INSERT INTO users (id, email, created_at, last_sign_in) SELECT printf('u%%d', i), printf('u%%d@example.com', i), 0, 0 FROM n`, users),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < %d)
			INSERT INTO sessions (nonce, user_id, identity, created_at, expires_at, revoked_at)
			SELECT printf('u%%010d', i), printf('u%%d', i), '{}', 0, %d, 1 FROM n`, users, exp),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < %d)
			INSERT INTO revocations (kind, subject, at) SELECT 'user', printf('u%%d@example.com', i), 1 FROM n`, users),
	}
	if sessions > 0 {
		for _, q := range stmts {
			if _, err := db.SQL().ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	}
	db.Close()
	if db, err = store.Open(ctx, path, nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	rev, err := revocation.New(ctx, db, time.Now(), nil)
	if err != nil {
		b.Fatal(err)
	}
	// The live session behind the tokens the benchmarks mint with nonceA.
	now := time.Now()
	u, err := db.UpsertUser(ctx, "ann@example.com", "pin", now)
	if err != nil {
		b.Fatal(err)
	}
	userID := u.ID
	err = db.CreateSession(ctx, access.Session{Nonce: nonceA, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(24 * time.Hour),
		Identity: access.Identity{UserID: userID, Email: "ann@example.com", IdP: access.IdP{ID: "pin", Type: "onetimepin"}}})
	if err != nil {
		b.Fatal(err)
	}
	return realStore{db, rev}
}

// BenchmarkForward compares, over loopback to a real origin, a bare pooled
// httputil.ReverseProxy (the same transport tuning and copy buffers as
// Gatehouse) with Gatehouse's authorize-and-forward path for a request with
// a valid cookie. bare_contract is the bare proxy passing the origin the
// identity headers of the contract too (the origin here is in-process, so
// its parsing of them counts): gatehouse / bare_contract is what deciding
// costs.
// gatehouse_expired sends, again and again, one expired token whose global
// session is alive: the silent refresh, memoised per session and app.
func BenchmarkForward(b *testing.B) {
	var hits atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("hello from the origin\n"))
	}))
	defer origin.Close()
	target, _ := url.Parse(origin.URL)
	tr := defaultTransport()
	tr.ResponseHeaderTimeout = access.DefaultOriginTimeout // as transportFor gives Gatehouse's app
	bare := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
		Transport:  tr,
		BufferPool: copyBuffers,
	}
	f := newFixture(b, origin.URL, func(o *Options) { o.Now = time.Now })
	f.addSession(nonceA, time.Now().Add(-time.Hour), 24*time.Hour)
	raw := appToken(b, f.keys, "ann@example.com", audDemo, nonceA, time.Now(), time.Hour)
	// bare_contract also passes the contract's identity headers, unverified:
	// the origin parses the same bytes as behind Gatehouse.
	bareContract := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header[keyJWTAssertion] = []string{raw}
			pr.Out.Header[keyUserEmail] = []string{"ann@example.com"}
		},
		Transport:  tr,
		BufferPool: copyBuffers,
	}
	expired := appToken(b, f.keys, "ann@example.com", audDemo, nonceA, time.Now().Add(-2*time.Hour), time.Hour)
	for _, tc := range []struct {
		name string
		h    http.Handler
		raw  string
	}{{"bare", bare, raw}, {"bare_contract", bareContract, raw}, {"gatehouse", f.h, raw}, {"gatehouse_expired", f.h, expired}} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "http://app.example.com/dashboard?tab=1", nil)
			req.RemoteAddr = "192.0.2.7:5555"
			req.Header.Set("Cookie", "theme=dark; "+access.CookieAuthorization+"="+tc.raw)
			req.Header.Set("Accept", "text/html")
			w := &discardWriter{h: http.Header{}}
			hits.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			n := int64(0)
			for b.Loop() {
				w.status = 0
				clear(w.h)
				tc.h.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
				n++
			}
			if got := hits.Load(); got != n {
				b.Fatalf("origin counted %d requests, the benchmark sent %d", got, n)
			}
		})
	}
}
