package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// writeChecker is a store whose CheckWritable returns err.
type writeChecker struct{ err error }

func (w writeChecker) CheckWritable(context.Context) error { return w.err }

func keyring(t *testing.T) *token.Keyring {
	t.Helper()
	k, err := token.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kr, err := token.NewKeyring("https://auth.example.com", []token.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestReadyz(t *testing.T) {
	kr := keyring(t)
	tests := []struct {
		name     string
		keys     *token.Keyring
		storeErr error
		syncErr  error
		code     int
		body     string
		logged   bool
	}{
		{"ready", kr, nil, nil, http.StatusOK, "ready\n", false},
		{"no keyring", nil, nil, nil, http.StatusServiceUnavailable, "not ready: no signing keys loaded\n", false},
		{"store not writable", kr, errors.New("store: check writable: database is locked"), nil, http.StatusServiceUnavailable, "not ready: database not writable\n", true},
		{"disk full", kr, fmt.Errorf("store: check writable: %w", access.ErrStorageFull), nil, http.StatusServiceUnavailable, "not ready: database not writable: disk full\n", true},
		{"out of sync with the store", kr, nil, access.ErrStoreUnreachable, http.StatusServiceUnavailable, "not ready: not in sync with the session store\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			h := Handler(NewMetrics(MetricsOptions{Stats: &fakeStats{}}), Readiness{
				Keys:   func() *token.Keyring { return tt.keys },
				Store:  writeChecker{tt.storeErr},
				Log:    slog.New(slog.NewTextHandler(&log, nil)),
				InSync: func() error { return tt.syncErr },
			})
			rec := get(h, "/readyz")
			if rec.Code != tt.code || rec.Body.String() != tt.body {
				t.Errorf("/readyz = %d %q, want %d %q", rec.Code, rec.Body.String(), tt.code, tt.body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			// The store's own error is for the operator, not the prober.
			if tt.storeErr != nil && strings.Contains(rec.Body.String(), "locked") {
				t.Errorf("/readyz shows the store's error: %q", rec.Body.String())
			}
			if got := strings.Contains(log.String(), "database not writable"); got != tt.logged {
				t.Errorf("logged = %v, want %v:\n%s", got, tt.logged, log.String())
			}
		})
	}
}

func TestHealthzWhileNotReady(t *testing.T) {
	h := Handler(NewMetrics(MetricsOptions{Stats: &fakeStats{}}), Readiness{
		Keys:  func() *token.Keyring { return nil },
		Store: writeChecker{errors.New("closed")},
	})
	rec := get(h, "/healthz")
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", rec.Code, rec.Body.String())
	}
	if rec := get(h, "/other"); rec.Code != http.StatusNotFound {
		t.Errorf("/other = %d, want 404", rec.Code)
	}
}
