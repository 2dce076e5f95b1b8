package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// copyTables are the tables Copy moves, in an order that respects their
// foreign keys. copyTransient are the tables it leaves behind: the schema's
// own record, and what describes one running machine (its heartbeat row,
// its node registration), which the nodes on the target write themselves.
var (
	copyTables = []string{
		"users", "sessions", "handoffs", "pins", "signing_keys", "apps",
		"audit", "revocations", "certmagic_data", "certmagic_locks",
		"saml_assertions", "service_tokens", "api_tokens",
		"scim_users", "scim_groups", "scim_members", "scim_deleted",
		"idp_sessions", "logout_jtis", "signin_states", "limit_counters",
	}
	copyTransient = []string{"schema_migrations", "heartbeat", "nodes"}
)

// identityTables have an ID column that PostgreSQL numbers itself: after a
// copy, its sequence continues above the copied IDs, so that the revocation
// log and the audit log go on from where they were.
var identityTables = []string{"audit", "revocations"}

// ErrTargetNotEmpty is returned (wrapped) by Copy when the target already
// holds rows.
var ErrTargetNotEmpty = errors.New("store: copy: the target database is not empty")

// CopyCount is how many rows of one table Copy moved.
type CopyCount struct {
	Table string
	Rows  int
}

// Copy copies every row of from (an SQLite database) into to (an empty
// PostgreSQL database at the same schema version): keys, sessions,
// revocations with their log IDs, AUDs, tokens, the audit log and the
// certificates, so that the tokens in circulation stay valid across the
// move. It reads from in one transaction (a consistent snapshot even while
// a serve writes) and writes to in one transaction: on any error nothing is
// written.
func Copy(ctx context.Context, from, to *DB) ([]CopyCount, error) {
	if from.pg || !to.pg {
		return nil, errors.New("store: copy: from an SQLite database into a PostgreSQL one")
	}
	fv, err := from.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	tv, err := to.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if fv != tv {
		return nil, fmt.Errorf("store: copy: schema versions differ (source %d, target %d): open both with this binary first", fv, tv)
	}
	src, err := from.raw.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: copy: read %w", err)
	}
	defer src.Rollback() //nolint:errcheck // read only
	var counts []CopyCount
	err = to.withTx(ctx, func(tx conn) error {
		for _, table := range copyTables {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("%w: table %s has %d rows", ErrTargetNotEmpty, table, n)
			}
		}
		for _, table := range copyTables {
			n, err := copyTable(ctx, src, tx, table)
			if err != nil {
				return fmt.Errorf("table %s: %w", table, err)
			}
			counts = append(counts, CopyCount{Table: table, Rows: n})
		}
		for _, table := range identityTables {
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'),
				GREATEST(COALESCE(MAX(id), 0), 1), COALESCE(MAX(id), 0) > 0) FROM `+table); err != nil {
				return fmt.Errorf("table %s: continue its IDs: %w", table, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: copy: %w", err)
	}
	return counts, nil
}

// copyTable inserts every row of table from src into dst, column by name.
func copyTable(ctx context.Context, src *sql.Tx, dst conn, table string) (int, error) {
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	insert := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES (` +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + `)`
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if table == "scim_deleted" {
			// PostgreSQL keeps these keys lower-cased (SQLite compares them NOCASE).
			for i, c := range cols {
				if s, ok := vals[i].(string); ok && c == "user_name" {
					vals[i] = strings.ToLower(s)
				}
			}
		}
		if _, err := dst.ExecContext(ctx, insert, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}
