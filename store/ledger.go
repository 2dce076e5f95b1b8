package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-dev/gatehouse/access"
)

// The metrics count mutations from the durable ledgers, so that every path
// (admin page, API, command line, another process) counts the same.

// CountRevocationsSince counts the revocations of the revocation log with
// an id above afterID that someone made (an admin, the API, the command
// line: a non-empty revoker), leaving out sign-outs, and returns the
// highest id of the log (afterID when there is none above it).
func (db *DB) CountRevocationsSince(ctx context.Context, afterID int64) (int, int64, error) {
	var (
		n    int
		last int64
	)
	err := db.sql.QueryRowContext(ctx,
		`SELECT COUNT(*) FILTER (WHERE by <> ''), COALESCE(MAX(id), ?) FROM revocations WHERE id > ?`,
		afterID, afterID).Scan(&n, &last)
	if err != nil {
		return 0, afterID, fmt.Errorf("store: count revocations: %w", err)
	}
	return n, last, nil
}

// CountKeyRotationsSince counts the key-rotation audit events
// (access.EventKeyRotated) with an id above afterID by trigger (the word
// before the colon of their detail, access.KeyRotationDetail), and returns
// the highest audit id (afterID when there is none above it).
func (db *DB) CountKeyRotationsSince(ctx context.Context, afterID int64) (map[string]int, int64, error) {
	last := afterID
	if err := db.sql.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), ?) FROM audit WHERE id > ?`, afterID, afterID).Scan(&last); err != nil {
		return nil, afterID, fmt.Errorf("store: count key rotations: %w", err)
	}
	colon := `instr(detail, ':')` // where the trigger ends
	if db.pg {
		colon = `strpos(detail, ':')`
	}
	rows, err := db.sql.QueryContext(ctx, `
		SELECT substr(detail, 1, `+colon+` - 1), COUNT(*) FROM audit
		WHERE id > ? AND id <= ? AND kind = ? AND `+colon+` > 0
		GROUP BY 1`, afterID, last, access.EventKeyRotated)
	if err != nil {
		return nil, afterID, fmt.Errorf("store: count key rotations: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			trigger string
			n       int
		)
		if err := rows.Scan(&trigger, &n); err != nil {
			return nil, afterID, fmt.Errorf("store: count key rotations: %w", err)
		}
		out[trigger] = n
	}
	if err := rows.Err(); err != nil {
		return nil, afterID, fmt.Errorf("store: count key rotations: %w", err)
	}
	return out, last, nil
}
