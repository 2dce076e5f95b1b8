package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/app"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/ops"
	"github.com/gatehouse-dev/gatehouse/store"
)

const nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// nonce returns 16 alphanumeric characters, the shape of a session nonce.
func nonce(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = nonceAlphabet[r.IntN(len(nonceAlphabet))]
	}
	return string(b[:])
}

// seedUsers is how many users the seeded sessions are spread over.
const seedUsers = 10000

// seedBatch is how many rows one multi-row INSERT carries.
const seedBatch = 200

// seed bulk-inserts sessions active and revoked revoked (unexpired) global
// sessions, with one revocation log row per revoked session, in a single
// transaction through prepared multi-row statements.
func seed(ctx context.Context, cfgPath string, sessions, revoked int, w io.Writer) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	start := time.Now()
	path := filepath.Join(cfg.DataDir, "gatehouse.db")
	// Open through the store once so the schema is migrated exactly as
	// Gatehouse does it, then write through a connection of our own without
	// a journal: the seeded file is scratch data, and Gatehouse switches it
	// back to WAL when it opens it.
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	sqldb, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=foreign_keys(0)&_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer sqldb.Close()
	sqldb.SetMaxOpenConns(1)
	tx, err := sqldb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	indexes, err := dropIndexes(ctx, tx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := seedRows(ctx, tx, sessions, revoked); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	for _, q := range indexes {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("seed: recreate index: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed: commit: %w", err)
	}
	_, err = fmt.Fprintf(w, "seeded %d users, %d sessions, %d revoked sessions in %s\n",
		seedUsers, sessions, revoked, time.Since(start).Round(time.Millisecond))
	return err
}

// dropIndexes drops the secondary indexes of the seeded tables and returns
// the statements that recreate them (as stored in sqlite_master), so they
// are built once, sorted, after the bulk insert.
func dropIndexes(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master
		WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('users', 'sessions', 'revocations')`)
	if err != nil {
		return nil, err
	}
	var names, creates []string
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, name)
		creates = append(creates, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return nil, err
		}
	}
	return creates, nil
}

// inserter runs one prepared multi-row INSERT per full batch of rows.
type inserter struct {
	ctx    context.Context
	tx     *sql.Tx
	prefix string
	cols   int
	stmt   *sql.Stmt
	args   []any
}

func newInserter(ctx context.Context, tx *sql.Tx, prefix string, cols int) (*inserter, error) {
	in := &inserter{ctx: ctx, tx: tx, prefix: prefix, cols: cols}
	stmt, err := tx.PrepareContext(ctx, in.query(seedBatch))
	if err != nil {
		return nil, err
	}
	in.stmt = stmt
	return in, nil
}

// query is the INSERT of n rows.
func (in *inserter) query(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", in.cols), ",") + ")"
	return in.prefix + " VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// add queues one row, flushing a full batch.
func (in *inserter) add(vals ...any) error {
	in.args = append(in.args, vals...)
	if len(in.args) < seedBatch*in.cols {
		return nil
	}
	_, err := in.stmt.ExecContext(in.ctx, in.args...)
	in.args = in.args[:0]
	return err
}

// flush writes the rows of an incomplete batch and closes the statement.
func (in *inserter) flush() error {
	defer in.stmt.Close()
	if len(in.args) == 0 {
		return nil
	}
	_, err := in.tx.ExecContext(in.ctx, in.query(len(in.args)/in.cols), in.args...)
	in.args = in.args[:0]
	return err
}

func seedRows(ctx context.Context, tx *sql.Tx, sessions, revoked int) error {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 42))
	now := time.Now()
	users, err := newInserter(ctx, tx, `INSERT INTO users (id, email, created_at, last_sign_in, last_idp)`, 5)
	if err != nil {
		return err
	}
	ids := make([]string, seedUsers)
	idents := make([]string, seedUsers)
	for i := range seedUsers {
		ids[i] = uuid.NewString()
		email := fmt.Sprintf("seed%d@bench.test", i)
		b, err := json.Marshal(access.Identity{
			UserID: ids[i], Email: email,
			IdP: access.IdP{ID: "pin", Type: "onetimepin"}, IssuedAt: now.Unix(),
		})
		if err != nil {
			return err
		}
		idents[i] = string(b)
		if err := users.add(ids[i], email, now.UnixMilli(), now.UnixMilli(), "pin"); err != nil {
			return err
		}
	}
	if err := users.flush(); err != nil {
		return err
	}

	sess, err := newInserter(ctx, tx, `INSERT INTO sessions (nonce, user_id, identity, created_at, expires_at, revoked_at)`, 6)
	if err != nil {
		return err
	}
	revs, err := newInserter(ctx, tx, `INSERT INTO revocations (kind, subject, at, by)`, 4)
	if err != nil {
		return err
	}
	created := now.Add(-time.Hour).UnixMilli()
	expires := now.Add(23 * time.Hour).UnixMilli()
	// Nonces in ascending order turn the primary-key inserts into appends.
	nonces := make([]string, sessions+revoked)
	for i := range nonces {
		nonces[i] = nonce(r)
	}
	slices.Sort(nonces)
	for i, n := range nonces {
		u := r.IntN(seedUsers)
		var revokedAt any
		// Exactly `revoked` rows, spread evenly over the nonce order.
		if total := len(nonces); i*revoked/total != (i+1)*revoked/total {
			revokedAt = now.UnixMilli()
			if err := revs.add(access.RevocationSession, n, now.UnixMilli(), "bench"); err != nil {
				return err
			}
		}
		if err := sess.add(n, ids[u], idents[u], created, expires, revokedAt); err != nil {
			return err
		}
	}
	return errors.Join(sess.flush(), revs.flush())
}

// serveProfiled runs Gatehouse in this process like `gatehouse serve`,
// writing a CPU profile of the whole run to prof and an allocation profile
// to mem at exit, each when not empty.
func serveProfiled(ctx context.Context, cfgPath, prof, mem string) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if mem != "" {
		defer func() {
			if f, err := os.Create(mem); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	// The logger of `gatehouse serve`: batched lines, the configured level.
	logBuf := ops.NewLogBuffer(os.Stderr)
	defer logBuf.Flush()
	log := ops.NewLogger(logBuf, cfg.Log.Level, cfg.Log.Format)
	defer ops.TuneGC(log).Stop()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
