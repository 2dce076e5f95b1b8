// Package web is the HTTP plumbing shared by the team domain, the protected
// hosts and the admin pages: one error adapter, one redirect sanitizer,
// browser security headers, request IDs and client detection.
package web

import (
	"log/slog"
	"net/http"
)

// HandlerFunc is an HTTP handler that returns its error to the Adapter.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Error is an error with a status and a message safe to show the user. Err,
// the cause, is logged and never shown.
type Error struct {
	Status int
	Msg    string
	Err    error
}

func (e *Error) Error() string { panic("unimplemented") }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with status and public message msg wrapping err.
func Errorf(status int, msg string, err error) *Error { panic("unimplemented") }

// PageFunc renders a branded error page (status, title, message).
type PageFunc func(w http.ResponseWriter, r *http.Request, status int, title, msg string)

// Adapter turns HandlerFuncs into http.Handlers: an *Error is shown with its
// status and message (as JSON when WantsJSON), anything else as a generic 500;
// every error is logged once with the request ID.
type Adapter struct {
	Log  *slog.Logger
	Page PageFunc
}

// Wrap adapts h.
func (a *Adapter) Wrap(h HandlerFunc) http.Handler { panic("unimplemented") }

// WantsJSON reports whether r is an XHR/fetch that should get JSON instead
// of a redirect or an HTML page: X-Requested-With: XMLHttpRequest, or an
// Accept header that prefers application/json over text/html.
func WantsJSON(r *http.Request) bool { panic("unimplemented") }

// SecurityHeaders sets CSP (default-src 'self'; frame-ancestors 'none'; ...),
// X-Frame-Options DENY, nosniff, Referrer-Policy and Cache-Control no-store
// on the pages Gatehouse renders itself.
func SecurityHeaders(h http.Handler) http.Handler { panic("unimplemented") }

// RequestID returns the request's ID (set by WithRequestID), or "".
func RequestID(r *http.Request) string { panic("unimplemented") }

// WithRequestID gives every request an ID (X-Request-Id response header).
func WithRequestID(h http.Handler) http.Handler { panic("unimplemented") }
