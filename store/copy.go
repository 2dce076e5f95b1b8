package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// copyTables are the tables Copy copies, parents before the tables whose
// foreign keys name them. With copySkipped and schema_migrations they are
// every table of the schema (a test checks it), so that a table a new
// migration adds must be placed in one list or the other.
var copyTables = []string{
	"users",
	"sessions",     // -> users
	"idp_sessions", // -> sessions
	"handoffs",
	"pins",
	"signing_keys",
	"apps",
	"audit",
	"revocations",
	"certmagic_data",
	"saml_assertions",
	"logout_jtis",
	"service_tokens",
	"api_tokens",
	"scim_users",
	"scim_groups",
	"scim_members", // -> scim_users, scim_groups
	"scim_deleted",
	"signin_states",  // pending sign-ins and sign-outs: one may finish on a node
	"limit_counters", // the PIN limits go on counting
}

// copySkipped are the tables whose rows mean something only to the
// processes running on the source database, with the reason Copy reports.
var copySkipped = map[string]string{
	"heartbeat":       "rewritten by every /readyz",
	"certmagic_locks": "held only by a running serve, for one ACME order",
	"nodes":           "each node registers itself when it starts",
}

// copyBatchRows is how many rows one INSERT of Copy carries at most
// (fewer for wide tables: a statement takes at most 65535 parameters).
const copyBatchRows = 500

// ErrTargetNotEmpty is Copy's answer when the PostgreSQL database already
// holds rows: Copy only fills an empty database.
var ErrTargetNotEmpty = errors.New("store: copy: the target database is not empty")

// CopyReport is what Copy copied.
type CopyReport struct {
	SchemaVersion int            // of both databases
	Tables        []TableRows    // copied tables, in the order copied
	Skipped       []SkippedTable // tables left out
	// RevocationsAfter counts the revocations the source recorded after
	// its snapshot was read (a serve still running on it): they are not
	// in the target, so the sessions they ended would be valid there.
	RevocationsAfter int
}

// TableRows is the number of rows Copy copied into one table.
type TableRows struct {
	Table string
	Rows  int64
}

// SkippedTable is a table Copy leaves out, and why.
type SkippedTable struct {
	Table string
	Why   string
}

// Copy copies every row of the SQLite database from into the empty
// PostgreSQL database to, keeping IDs (revocation log IDs stay the
// watermarks they were; the identity sequences are moved past them) so
// that sessions, keys, tokens and revocations mean the same on both. Both
// databases must be at the same schema version (open both with this
// binary: Open and OpenPostgres migrate them). The source is read in one
// read transaction, a consistent snapshot even while a serve writes to it;
// the target is written in one transaction holding the write lock, so a
// failed copy leaves it empty. CopyReport.RevocationsAfter tells whether
// revocations reached the source after its snapshot. A target with rows in any copied table is
// refused with ErrTargetNotEmpty, naming the table.
func Copy(ctx context.Context, from, to *DB) (CopyReport, error) {
	if from.pg || !to.pg {
		return CopyReport{}, errors.New("store: copy: copies an SQLite database into a PostgreSQL one")
	}
	src, err := from.raw.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return CopyReport{}, fmt.Errorf("store: copy: read %w", err)
	}
	defer src.Rollback() //nolint:errcheck // read only
	source := conn{raw: src}

	var rep CopyReport
	var lastRevocation int64
	for _, name := range slices.Sorted(maps.Keys(copySkipped)) {
		rep.Skipped = append(rep.Skipped, SkippedTable{Table: name, Why: copySkipped[name]})
	}
	err = to.withTx(ctx, func(target conn) error {
		v, err := sameSchema(ctx, source, target)
		if err != nil {
			return err
		}
		rep.SchemaVersion = v
		for _, table := range copyTables {
			var rows bool
			if err := target.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+`)`).Scan(&rows); err != nil {
				return fmt.Errorf("table %s: %w", table, err)
			}
			if rows {
				return fmt.Errorf("%w: table %s has rows (copy only into a new, empty database)", ErrTargetNotEmpty, table)
			}
		}
		for _, table := range copyTables {
			n, err := copyTable(ctx, source, target, table)
			if err != nil {
				return fmt.Errorf("table %s: %w", table, err)
			}
			rep.Tables = append(rep.Tables, TableRows{Table: table, Rows: n})
		}
		if err := target.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM revocations`).Scan(&lastRevocation); err != nil {
			return fmt.Errorf("table revocations: %w", err)
		}
		return resetIdentities(ctx, source, target)
	})
	if err != nil {
		if errors.Is(err, ErrTargetNotEmpty) {
			return CopyReport{}, err
		}
		return CopyReport{}, fmt.Errorf("store: copy: %w", err)
	}
	if err := src.Rollback(); err != nil {
		return CopyReport{}, fmt.Errorf("store: copy: end of the read: %w", err)
	}
	if err := from.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM revocations WHERE id > ?`, lastRevocation).Scan(&rep.RevocationsAfter); err != nil {
		return CopyReport{}, fmt.Errorf("store: copy: revocations since: %w", err)
	}
	// The service token index of to was loaded from the empty table.
	if err := to.reloadServiceTokens(ctx); err != nil {
		return CopyReport{}, err
	}
	return rep, nil
}

// sameSchema returns the schema version of source and target, an error
// unless both applied the same migrations.
func sameSchema(ctx context.Context, source, target conn) (int, error) {
	var versions [2][]int
	for i, c := range []conn{source, target} {
		rows, err := c.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			return 0, fmt.Errorf("schema version: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return 0, fmt.Errorf("schema version: %w", err)
			}
			versions[i] = append(versions[i], v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("schema version: %w", err)
		}
	}
	if !slices.Equal(versions[0], versions[1]) || len(versions[0]) == 0 {
		return 0, fmt.Errorf("the databases are at different schema versions (SQLite %v, PostgreSQL %v): open both with the same gatehouse binary",
			versions[0], versions[1])
	}
	return versions[0][len(versions[0])-1], nil
}

// pgColumn is a column of a PostgreSQL table and its type.
type pgColumn struct {
	name  string
	bytea bool // BYTEA, else text or a number
	text  bool
}

// targetColumns returns the columns of table in the target, in order.
func targetColumns(ctx context.Context, target conn, table string) ([]pgColumn, error) {
	rows, err := target.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []pgColumn
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		cols = append(cols, pgColumn{name: name, bytea: typ == "bytea", text: typ == "text"})
	}
	return cols, rows.Err()
}

// sourceColumns returns the column names of table in the source.
func sourceColumns(ctx context.Context, source conn, table string) ([]string, error) {
	rows, err := source.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		cols = append(cols, name)
	}
	return cols, rows.Err()
}

// copyTable copies every row of table from source into target, in
// batches, and returns how many it copied.
func copyTable(ctx context.Context, source, target conn, table string) (int64, error) {
	cols, err := targetColumns(ctx, target, table)
	if err != nil {
		return 0, err
	}
	srcCols, err := sourceColumns(ctx, source, table)
	if err != nil {
		return 0, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	if len(names) == 0 || !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(srcCols))) {
		return 0, fmt.Errorf("columns differ: SQLite %v, PostgreSQL %v", srcCols, names)
	}
	list := strings.Join(names, ", ")
	rows, err := source.QueryContext(ctx, `SELECT `+list+` FROM `+table+` ORDER BY rowid`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()

	perBatch := min(copyBatchRows, 65535/len(cols))
	batch := make([]any, 0, perBatch*len(cols))
	var copied int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n := len(batch) / len(cols)
		if _, err := target.raw.ExecContext(ctx, insertRows(table, list, len(cols), n), batch...); err != nil {
			return err
		}
		copied += int64(n)
		batch = batch[:0]
		return nil
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		for i, v := range vals {
			v, err := targetValue(v, cols[i])
			if err != nil {
				return 0, fmt.Errorf("column %s: %w", cols[i].name, err)
			}
			batch = append(batch, v)
		}
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return copied, nil
}

// insertRows is the PostgreSQL INSERT of n rows of width columns.
func insertRows(table, list string, width, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + list + ") VALUES ")
	p := 0
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range width {
			if c > 0 {
				b.WriteString(", ")
			}
			p++
			b.WriteString("$" + strconv.Itoa(p))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// targetValue is v, as SQLite returned it, in the Go type col takes:
// SQLite keeps any value in any column, PostgreSQL does not.
func targetValue(v any, col pgColumn) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		if col.text {
			return string(x), nil
		}
		if col.bytea {
			return x, nil
		}
	case string:
		if col.bytea {
			return []byte(x), nil
		}
		if col.text {
			return x, nil
		}
	case int64:
		if !col.text && !col.bytea {
			return x, nil
		}
	}
	return nil, fmt.Errorf("a %T value does not fit its PostgreSQL type", v)
}

// resetIdentities moves every identity sequence of the copied tables past
// the highest ID copied (or the highest SQLite ever handed out, for an
// AUTOINCREMENT table), so that the next revocation or audit event takes
// a higher ID than any copied one.
func resetIdentities(ctx context.Context, source, target conn) error {
	rows, err := target.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return fmt.Errorf("identity columns: %w", err)
	}
	type ident struct{ table, column string }
	var idents []ident
	for rows.Next() {
		var id ident
		if err := rows.Scan(&id.table, &id.column); err != nil {
			rows.Close()
			return fmt.Errorf("identity columns: %w", err)
		}
		idents = append(idents, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("identity columns: %w", err)
	}
	for _, id := range idents {
		if !slices.Contains(copyTables, id.table) {
			continue
		}
		var high int64
		if err := target.QueryRowContext(ctx, `SELECT COALESCE(MAX(`+id.column+`), 0) FROM `+id.table).Scan(&high); err != nil {
			return fmt.Errorf("table %s: %w", id.table, err)
		}
		var seq sql.NullInt64
		err := source.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?`, id.table).Scan(&seq)
		switch {
		case err == nil:
			high = max(high, seq.Int64)
		case errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), "no such table"):
		default:
			return fmt.Errorf("table %s: %w", id.table, err)
		}
		if high == 0 {
			continue
		}
		if _, err := target.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), ?)`, id.table, id.column, high); err != nil {
			return fmt.Errorf("table %s: identity: %w", id.table, err)
		}
	}
	return nil
}
