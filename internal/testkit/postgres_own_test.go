package testkit

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestPostgresStopStart: a row written before Stop or Crash is there
// after Start, and while the server is down a query fails.
func TestPostgresStopStart(t *testing.T) {
	p := NewPostgres(t)
	db, err := sql.Open("pgx", p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE kept (n int)`); err != nil {
		t.Fatal(err)
	}
	for i, down := range []struct {
		name string
		halt func(testing.TB)
	}{{"stop", p.Stop}, {"crash", p.Crash}} {
		t.Run(down.name, func(t *testing.T) {
			if _, err := db.ExecContext(ctx, `INSERT INTO kept VALUES ($1)`, i); err != nil {
				t.Fatal(err)
			}
			down.halt(t)
			qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := db.PingContext(qctx); err == nil {
				t.Fatal("the server answers after it was halted")
			}
			p.Start(t)
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM kept`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != i+1 {
				t.Errorf("%d rows after the restart, want %d", n, i+1)
			}
		})
	}
}
