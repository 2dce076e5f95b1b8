// Package web is the HTTP plumbing shared by the team domain, the protected
// hosts and the admin pages: one error adapter, one redirect sanitizer,
// browser security headers, request IDs and client detection.
package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
)

// HandlerFunc is an HTTP handler that returns its error to the Adapter.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Error is an error with a status and a message safe to show the user. Err,
// the cause, is logged and never shown.
type Error struct {
	Status int
	Msg    string
	Err    error
	// Title heads the error page; "" for the status text.
	Title string
	// LoginURL, for a 401, is where the user signs in; it is part of the
	// JSON body so that scripts can send the user there.
	LoginURL string
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("web: %d %s", e.Status, e.Msg)
	}
	return fmt.Sprintf("web: %d %s: %v", e.Status, e.Msg, e.Err)
}
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with status and public message msg wrapping err.
func Errorf(status int, msg string, err error) *Error {
	return &Error{Status: status, Msg: msg, Err: err}
}

// PageFunc renders a branded error page (status, title, message).
type PageFunc func(w http.ResponseWriter, r *http.Request, status int, title, msg string)

// Adapter turns HandlerFuncs into http.Handlers: an *Error is shown with its
// status and message (as JSON when WantsJSON), anything else as a generic 500;
// every error is logged once with the request ID.
type Adapter struct {
	Log  *slog.Logger
	Page PageFunc
	// JSON answers every error as the JSON shape, whatever the client
	// accepts (APIs).
	JSON bool
}

// genericMsg is what users see for errors that are not an *Error.
const genericMsg = "Something went wrong"

// Wrap adapts h. If h already wrote the response headers when it returns an
// error, the error is only logged. Without a Page, errors render as text.
func (a *Adapter) Wrap(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackWriter{ResponseWriter: w}
		err := h(tw, r)
		if err == nil {
			return
		}
		if tw.wrote {
			a.logError(r, statusOf(err), err)
			return
		}
		a.Respond(w, r, err)
	})
}

// statusOf is the status err answers with: an *Error's, 503 for a full
// store, else 500.
func statusOf(err error) int {
	if e, ok := errors.AsType[*Error](err); ok && e.Status >= 400 && e.Status <= 599 {
		return e.Status
	}
	if errors.Is(err, access.ErrStorageFull) || errors.Is(err, access.ErrStoreUnreachable) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// msgStorageFull is what users see when the store cannot record anything.
const msgStorageFull = "Gatehouse cannot sign anyone in right now. Please try again in a few minutes."

// Respond answers the request with err, which it logs once: an *Error with
// its status, title and message, anything else as a generic 500; as the
// one JSON error shape (ErrorBody) when the client wants JSON, else as the
// branded page.
func (a *Adapter) Respond(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, title, login := statusOf(err), genericMsg, "", ""
	if e, ok := errors.AsType[*Error](err); ok {
		msg, title, login = e.Msg, e.Title, e.LoginURL
	} else if errors.Is(err, access.ErrStoreUnreachable) {
		msg = access.ErrStoreUnreachable.Error()
		w.Header().Set("Retry-After", "5")
	} else if status == http.StatusServiceUnavailable {
		msg = msgStorageFull
		w.Header().Set("Retry-After", "60")
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	if title == "" {
		title = http.StatusText(status)
	}
	a.logError(r, status, err)
	switch {
	case a.JSON || WantsJSON(r):
		WriteJSON(w, status, ErrorBody{Error: msg, Status: status, LoginURL: login})
	case a.Page != nil:
		a.Page(w, r, status, title, msg)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_, _ = fmt.Fprintln(w, msg)
	}
}

func (a *Adapter) logError(r *http.Request, status int, err error) {
	log := a.Log
	if log == nil {
		log = slog.Default()
	}
	level := slog.LevelWarn
	switch {
	case status >= 500:
		level = slog.LevelError
	case r.URL.Path == "/favicon.ico" || r.URL.Path == "/robots.txt":
		level = slog.LevelDebug // browsers ask on their own
	case status == http.StatusNotFound:
		level = slog.LevelInfo
	}
	log.LogAttrs(r.Context(), level, "request failed",
		slog.String("request_id", RequestID(r)),
		slog.String("method", r.Method),
		slog.String("host", r.Host),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.String("err", err.Error()),
	)
}

// ErrorBody is the one JSON shape of every error Gatehouse answers, on the
// team domain, the admin pages and every protected host.
type ErrorBody struct {
	Error    string `json:"error"`               // what went wrong, for people
	Status   int    `json:"status"`              // the HTTP status
	LoginURL string `json:"login_url,omitempty"` // 401 only: where to sign in
}

// WriteJSON writes v as the JSON body with status, uncacheable.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(ErrorBody{Error: genericMsg, Status: status})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// trackWriter records whether the handler started the response. Unwrap lets
// http.ResponseController reach Flush and Hijack.
type trackWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		t.wrote = true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

func (t *trackWriter) Flush() {
	t.wrote = true
	_ = http.NewResponseController(t.ResponseWriter).Flush()
}

func (t *trackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	t.wrote = true
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

func (t *trackWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// WantsJSON reports whether r is an XHR/fetch that should get JSON instead
// of a redirect or an HTML page: X-Requested-With: XMLHttpRequest, or an
// Accept header that prefers application/json over text/html. Only the
// explicit media types count: a missing text/html has q=0, so
// "application/json, */*" wants JSON and "*/*" alone does not.
func WantsJSON(r *http.Request) bool {
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Requested-With")), "XMLHttpRequest") {
		return true
	}
	var qJSON, qHTML float64
	for _, line := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(line, ",") {
			media, params, _ := strings.Cut(part, ";")
			media = strings.ToLower(strings.TrimSpace(media))
			if media != "application/json" && media != "text/html" {
				continue
			}
			q := acceptQ(params)
			if media == "application/json" {
				qJSON = max(qJSON, q)
			} else {
				qHTML = max(qHTML, q)
			}
		}
	}
	return qJSON > qHTML
}

// acceptQ returns the q parameter of an Accept entry: 1 when absent, 0 when
// malformed, clamped to [0, 1].
func acceptQ(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q != q { // NaN
			return 0
		}
		return min(max(q, 0), 1)
	}
	return 1
}

// CSP is the Content-Security-Policy of the pages Gatehouse renders. Forms
// post to the same host but the redirects after them go elsewhere, so
// form-action stays permissive.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; " +
	"form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'"

// SecurityHeaders sets CSP (default-src 'none'; frame-ancestors 'none'; ...),
// X-Frame-Options DENY, nosniff, Referrer-Policy and Cache-Control no-store
// on the pages Gatehouse renders itself.
func SecurityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// NoCache forbids any cache, shared or private, from keeping the response.
func NoCache(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate")
}

type requestIDKey struct{}

// requestIDContext is the context WithRequestID gives a request: one
// allocation carries the ID, and the X-Request-Id header value is a slice
// of it.
type requestIDContext struct {
	context.Context
	id [1]string
}

// Value returns the context itself for requestIDKey (a pointer, so that
// reading the ID allocates nothing).
func (c *requestIDContext) Value(key any) any {
	if key == (requestIDKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// RequestID returns the request's ID (set by WithRequestID), or "".
func RequestID(r *http.Request) string {
	if c, ok := r.Context().Value(requestIDKey{}).(*requestIDContext); ok {
		return c.id[0]
	}
	return ""
}

// keyRequestID is X-Request-Id as a key of an http.Header.
var keyRequestID = http.CanonicalHeaderKey("X-Request-Id")

// WithRequestID gives every request an ID (X-Request-Id response header):
// 16 random hex characters. An inbound X-Request-Id is not trusted; an ID
// already set by an outer WithRequestID is kept.
func WithRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := r.Context().Value(requestIDKey{}).(*requestIDContext)
		if !ok {
			c = &requestIDContext{Context: r.Context(), id: [1]string{newRequestID()}}
			r = r.WithContext(c)
		}
		w.Header()[keyRequestID] = c.id[:]
		h.ServeHTTP(w, r)
	})
}

// newRequestID returns 16 random hex characters. A request ID names a
// request in the logs and guards nothing, so it comes from the runtime's
// per-thread generator (ChaCha8 seeded from the system), not a system call.
func newRequestID() string {
	const hex = "0123456789abcdef"
	var b [16]byte
	v := mrand.Uint64()
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hex[v&0xf]
		v >>= 4
	}
	return string(b[:])
}
