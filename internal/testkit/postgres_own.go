package testkit

import (
	"context"
	"testing"
)

// Postgres is a PostgreSQL server of one test's own, which the test may
// stop and start again under a running Gatehouse (the shared cluster of
// PostgresDSN must stay up for the other tests). It holds one database,
// "gatehouse". Its commits survive Crash.
type Postgres struct {
	c *pgCluster
}

// NewPostgres initialises and starts a server of t's own on a free
// loopback port, stopped and removed when t ends. In the fast lane (go
// test -short) it skips t.
func NewPostgres(t testing.TB) *Postgres {
	t.Helper()
	skipShort(t, "PostgreSQL")
	c, err := startPostgres(true)
	if err != nil {
		t.Fatalf("testkit: PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if err := c.stop(); err != nil {
			t.Errorf("testkit: %v", err)
		}
	})
	if _, err := c.admin.ExecContext(context.Background(), `CREATE DATABASE gatehouse`); err != nil {
		t.Fatalf("testkit: create database: %v", err)
	}
	return &Postgres{c: c}
}

// DSN is the DSN of the server's database; it stays the same across Stop
// and Start.
func (p *Postgres) DSN() string { return p.c.dsn("gatehouse") }

// Stop shuts the server down the way an operator does (pg_ctl -m fast:
// sessions are ended, then the server exits).
func (p *Postgres) Stop(t testing.TB) {
	t.Helper()
	if err := p.c.halt("fast"); err != nil {
		t.Fatalf("testkit: stop PostgreSQL: %v", err)
	}
}

// Crash makes the server quit at once, as on a crash (pg_ctl -m
// immediate: no shutdown checkpoint, recovery on the next start).
func (p *Postgres) Crash(t testing.TB) {
	t.Helper()
	if err := p.c.halt("immediate"); err != nil {
		t.Fatalf("testkit: crash PostgreSQL: %v", err)
	}
}

// Start runs the stopped server again on the same port and data.
func (p *Postgres) Start(t testing.TB) {
	t.Helper()
	if err := p.c.start(); err != nil {
		t.Fatalf("testkit: start PostgreSQL: %v", err)
	}
}
