package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Audit appends an event to the audit log. A zero e.Time means now; e.ID is
// ignored (the log assigns it).
func (db *DB) Audit(ctx context.Context, e access.Event) error {
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
