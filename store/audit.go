package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Audit appends an event to the audit log. A zero e.Time means now; e.ID is
// ignored (the log assigns it). Like the revocation log, the audit log is
// followed by its IDs (the key-rotation ledger, CountKeyRotationsSince), so
// on PostgreSQL the insert takes the write lock: IDs become visible in
// increasing order.
func (db *DB) Audit(ctx context.Context, e access.Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	err := db.writeOne(ctx, func(c conn) error {
		_, err := c.ExecContext(ctx, `
		INSERT INTO audit (at, kind, email, app, idp, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			toMillis(e.Time), e.Kind, e.Email, e.App, e.IdP, e.IP, e.Detail)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}
