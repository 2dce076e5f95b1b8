package policy

import "time"

// App is a protected application as the request path sees it.
type App struct {
	Name            string
	AUD             string   // 64 hex
	Domains         []string // "app.example.com", "*.example.com", optionally with ":port"
	Path            string   // "" or "/prefix"; the most specific path wins
	Origin          string   // origin URL, or "whoami" for the built-in origin
	SessionDuration time.Duration
	Policies        []Policy
	IdPs            []string // allowed provider ids; empty: all
}

// Table matches requests to apps. It is immutable once built.
type Table struct{}

// NewTable indexes apps for matching.
func NewTable(apps []*App) *Table { panic("unimplemented") }

// Match returns the app for host (with or without port) and path: exact host
// before wildcard host, then the longest matching path prefix. nil if none.
func (t *Table) Match(host, path string) *App { panic("unimplemented") }

// ByName returns the app named name, or nil.
func (t *Table) ByName(name string) *App { panic("unimplemented") }

// Apps returns every app in config order.
func (t *Table) Apps() []*App { panic("unimplemented") }
