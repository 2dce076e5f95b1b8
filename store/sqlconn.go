package store

import (
	"context"
	"database/sql"
	"math"
	"strconv"
	"strings"
	"sync"
)

// The store's SQL is written once, with SQLite's `?` placeholders (and
// `?N` for a numbered one). conn runs it on either backend: on PostgreSQL
// it rewrites each `?` to `$1..$n` (and `?N` to `$N`), leaving quoted
// strings and identifiers alone, and caches the rewritten text. Booleans
// are passed as the integers 0 and 1 the schema stores them as. PostgreSQL's
// TEXT cannot hold a NUL byte, so on PostgreSQL a string argument's NULs
// become U+FFFD: a stranger's User-Agent or typed address with a NUL in it
// is then stored and looked up the same way, instead of failing the write.

// execer is what a statement runs on: the database pool or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs the store's statements on raw in the dialect of the backend.
type conn struct {
	raw execer
	pg  bool
}

// ExecContext runs a statement that returns no rows. Its error, like
// those of the other methods, is marked by full.
func (c conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := c.raw.ExecContext(ctx, c.query(query), c.args(args)...)
	return res, full(err)
}

// Exec is ExecContext without a context.
func (c conn) Exec(query string, args ...any) (sql.Result, error) {
	return c.ExecContext(context.Background(), query, args...)
}

// QueryContext runs a query that returns rows.
func (c conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := c.raw.QueryContext(ctx, c.query(query), c.args(args)...)
	return rows, full(err)
}

// row is the result of QueryRowContext.
type row struct{ *sql.Row }

// Scan copies the row's columns into dest; sql.ErrNoRows when there is
// no row.
func (r row) Scan(dest ...any) error { return full(r.Row.Scan(dest...)) }

// QueryRowContext runs a query that returns at most one row.
func (c conn) QueryRowContext(ctx context.Context, query string, args ...any) row {
	return row{c.raw.QueryRowContext(ctx, c.query(query), c.args(args)...)}
}

// QueryRow is QueryRowContext without a context.
func (c conn) QueryRow(query string, args ...any) row {
	return c.QueryRowContext(context.Background(), query, args...)
}

// query is the text of query for the backend.
func (c conn) query(query string) string {
	if !c.pg {
		return query
	}
	return rewritePlaceholders(query)
}

// fold is expr for comparing and ordering without ASCII case, where SQLite
// relies on the column's COLLATE NOCASE: expr itself on SQLite,
// lower(expr) on PostgreSQL.
func (c conn) fold(expr string) string {
	if c.pg {
		return "lower(" + expr + ")"
	}
	return expr
}

// eqNoCase compares left and right without ASCII case: COLLATE NOCASE on
// SQLite, lower() of both on PostgreSQL.
func (c conn) eqNoCase(left, right string) string {
	if c.pg {
		return "lower(" + left + ") = lower(" + right + ")"
	}
	return left + " = " + right + " COLLATE NOCASE"
}

// args returns args with every bool replaced by 0 or 1 (booleans are
// INTEGER columns on both backends) and, on PostgreSQL, every NUL byte of a
// string argument replaced by U+FFFD.
func (c conn) args(args []any) []any {
	var out []any
	for i, a := range args {
		var v any
		switch a := a.(type) {
		case bool:
			v = int64(0)
			if a {
				v = int64(1)
			}
		case string:
			if !c.pg || strings.IndexByte(a, 0) < 0 {
				continue
			}
			v = strings.ReplaceAll(a, "\x00", "\uFFFD")
		default:
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = v
	}
	if out == nil {
		return args
	}
	return out
}

// sqlLimit is the LIMIT argument for at most n rows, all of them when n is
// negative (PostgreSQL has no LIMIT -1).
func sqlLimit(n int) int64 {
	if n < 0 {
		return math.MaxInt64
	}
	return int64(n)
}

// rewritten caches rewritePlaceholders: the store's statements are a fixed
// set of strings (a few are assembled from fixed parts).
var rewritten sync.Map // string -> string

// rewritePlaceholders turns `?` placeholders into PostgreSQL's `$n`,
// numbering them in order, and `?N` into `$N`. A `?` inside a '...' string,
// a "..." identifier or a -- comment is left as it is.
func rewritePlaceholders(query string) string {
	if v, ok := rewritten.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				i = len(query)
				continue
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
		case c == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
				i = j - 1
				continue
			}
			n++
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	rewritten.Store(query, out)
	return out
}
