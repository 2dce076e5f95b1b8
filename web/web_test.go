package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestErrorf(t *testing.T) {
	cause := errors.New("disk full")
	e := Errorf(http.StatusBadRequest, "bad input", cause)
	if e.Status != 400 || e.Msg != "bad input" || !errors.Is(e, cause) {
		t.Fatalf("Errorf = %+v", e)
	}
	if !strings.Contains(e.Error(), "disk full") || !strings.Contains(e.Error(), "bad input") {
		t.Fatalf("Error() = %q", e.Error())
	}
	if got := Errorf(404, "nope", nil).Error(); !strings.Contains(got, "404") {
		t.Fatalf("Error() without cause = %q", got)
	}
}

func TestAdapter(t *testing.T) {
	secret := errors.New("db password is hunter2")
	tests := []struct {
		name       string
		err        error
		wroteFirst bool
		json       bool
		page       bool
		wantStatus int
		wantBody   string
		logStatus  int // 0: wantStatus
	}{
		{name: "web error as text", err: Errorf(403, "Forbidden here", secret), wantStatus: 403, wantBody: "Forbidden here"},
		{name: "wrapped web error", err: fmt.Errorf("login: %w", Errorf(404, "No such app", nil)), wantStatus: 404, wantBody: "No such app"},
		{name: "plain error is generic 500", err: secret, wantStatus: 500, wantBody: "Something went wrong"},
		{name: "json", err: Errorf(401, "Sign in", secret), json: true, wantStatus: 401, wantBody: `{"error":"Sign in","status":401}`},
		{name: "json generic", err: secret, json: true, wantStatus: 500, wantBody: `{"error":"Something went wrong","status":500}`},
		{name: "page", err: Errorf(403, "Denied", secret), page: true, wantStatus: 403, wantBody: "PAGE 403 Forbidden: Denied"},
		{name: "already written", err: secret, wroteFirst: true, wantStatus: 202, wantBody: "partial", logStatus: 500},
		{name: "bad status becomes 500", err: Errorf(200, "odd", nil), wantStatus: 500, wantBody: "odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			a := &Adapter{Log: slog.New(slog.NewJSONHandler(&logs, nil))}
			if tt.page {
				a.Page = func(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
					w.WriteHeader(status)
					fmt.Fprintf(w, "PAGE %d %s: %s", status, title, msg)
				}
			}
			h := WithRequestID(a.Wrap(func(w http.ResponseWriter, r *http.Request) error {
				if tt.wroteFirst {
					w.WriteHeader(http.StatusAccepted)
					_, _ = w.Write([]byte("partial"))
				}
				return tt.err
			}))
			req := httptest.NewRequest("GET", "http://app.test/x?y=1", nil)
			if tt.json {
				req.Header.Set("Accept", "application/json")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if body := strings.TrimSpace(rec.Body.String()); body != tt.wantBody {
				t.Fatalf("body = %q, want %q", body, tt.wantBody)
			}
			if strings.Contains(rec.Body.String(), "hunter2") {
				t.Fatal("cause leaked to the client")
			}
			if tt.json && rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("Content-Type = %q", rec.Header().Get("Content-Type"))
			}
			if n := strings.Count(logs.String(), "\n"); n != 1 {
				t.Fatalf("logged %d lines, want 1: %s", n, logs.String())
			}
			if tt.logStatus == 0 {
				tt.logStatus = tt.wantStatus
			}
			var entry map[string]any
			if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
				t.Fatal(err)
			}
			if entry["request_id"] != rec.Header().Get("X-Request-Id") || entry["request_id"] == "" {
				t.Fatalf("request_id = %v, header %q", entry["request_id"], rec.Header().Get("X-Request-Id"))
			}
			if entry["method"] != "GET" || entry["host"] != "app.test" || entry["path"] != "/x" ||
				entry["status"] != float64(tt.logStatus) || entry["err"] != tt.err.Error() {
				t.Fatalf("log entry = %v", entry)
			}
		})
	}
}

func TestAdapterNoError(t *testing.T) {
	var logs bytes.Buffer
	a := &Adapter{Log: slog.New(slog.NewTextHandler(&logs, nil))}
	rec := httptest.NewRecorder()
	a.Wrap(func(w http.ResponseWriter, r *http.Request) error {
		_, _ = w.Write([]byte("ok"))
		return nil
	}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || rec.Body.String() != "ok" || logs.Len() != 0 {
		t.Fatalf("code %d body %q logs %q", rec.Code, rec.Body.String(), logs.String())
	}
}

func TestWantsJSON(t *testing.T) {
	tests := []struct {
		name, xrw, accept string
		want              bool
	}{
		{"nothing", "", "", false},
		{"xhr", "XMLHttpRequest", "", true},
		{"xhr lower case", "xmlhttprequest", "text/html", true},
		{"other x-requested-with", "com.example.app", "", false},
		{"json alone", "", "application/json", true},
		{"any alone", "", "*/*", false},
		{"browser navigation", "", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8", false},
		{"axios default", "", "application/json, text/plain, */*", true},
		{"json preferred by q", "", "text/html;q=0.5, application/json", true},
		{"html preferred by q", "", "application/json;q=0.5, text/html", false},
		{"equal q", "", "application/json, text/html", false},
		{"json refused", "", "application/json;q=0", false},
		{"case and spaces", "", " Application/JSON ; q=0.9 , TEXT/HTML ; Q=0.1", true},
		{"bad q counts as zero", "", "application/json;q=abc", false},
		{"wildcards do not count", "", "application/*", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.xrw != "" {
				r.Header.Set("X-Requested-With", tt.xrw)
			}
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			if got := WantsJSON(r); got != tt.want {
				t.Fatalf("WantsJSON = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestNoCache(t *testing.T) {
	rec := httptest.NewRecorder()
	NoCache(rec)
	if got := rec.Header().Get("Cache-Control"); got != "private, max-age=0, no-store, no-cache, must-revalidate" {
		t.Fatalf("Cache-Control = %q", got)
	}
}

func TestRequestID(t *testing.T) {
	hexID := regexp.MustCompile(`^[0-9a-f]{16}$`)
	var seen string
	h := WithRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = RequestID(r)
	}))
	ids := map[string]bool{}
	for range 3 {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-Request-Id", "attacker-chosen")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !hexID.MatchString(seen) {
			t.Fatalf("RequestID = %q, want 16 hex chars", seen)
		}
		if rec.Header().Get("X-Request-Id") != seen {
			t.Fatalf("header %q != context %q", rec.Header().Get("X-Request-Id"), seen)
		}
		ids[seen] = true
	}
	if len(ids) != 3 {
		t.Fatalf("IDs repeat: %v", ids)
	}
	if got := RequestID(httptest.NewRequest("GET", "/", nil)); got != "" {
		t.Fatalf("RequestID without middleware = %q", got)
	}
	// Nested: the inner WithRequestID keeps the outer one's ID.
	var inner string
	outer := WithRequestID(WithRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = RequestID(r)
	})))
	rec := httptest.NewRecorder()
	outer.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Values("X-Request-Id"); len(got) != 1 || got[0] != inner || !hexID.MatchString(inner) {
		t.Fatalf("nested: header %q, inner ID %q", got, inner)
	}
}

// BenchmarkWithRequestID measures giving a request its ID.
func BenchmarkWithRequestID(b *testing.B) {
	h := WithRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = RequestID(r) }))
	req := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
