package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/audit"
)

// Audit appends an event to the audit log. A zero e.Time means now; e.ID is
// ignored (the log assigns it).
func (db *DB) Audit(ctx context.Context, e audit.Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	_, err := db.sql.ExecContext(ctx, `
		INSERT INTO audit (at, kind, email, app, idp, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		toMillis(e.Time), e.Kind, e.Email, e.App, e.IdP, e.IP, e.Detail)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AuditEvents returns the newest events first, at most limit (all if
// limit <= 0).
func (db *DB) AuditEvents(ctx context.Context, limit int) ([]audit.Event, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := db.sql.QueryContext(ctx, `
		SELECT id, at, kind, email, app, idp, ip, detail FROM audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	defer rows.Close()
	var out []audit.Event
	for rows.Next() {
		var (
			e  audit.Event
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Email, &e.App, &e.IdP, &e.IP, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: audit events: %w", err)
		}
		e.Time = fromMillis(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	return out, nil
}
