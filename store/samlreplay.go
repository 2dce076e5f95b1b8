package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrAssertionReplayed is returned (wrapped) by UseAssertionID for an
// assertion ID that was already accepted and has not expired yet.
var ErrAssertionReplayed = errors.New("store: SAML assertion already used")

// UseAssertionID records that the SAML assertion id was accepted at now and
// must not be accepted again until expires. It fails with
// ErrAssertionReplayed when id is already recorded and unexpired. Expired
// entries are purged on the way.
func (db *DB) UseAssertionID(ctx context.Context, id string, expires, now time.Time) error {
	if id == "" {
		return errors.New("store: use assertion id: empty id")
	}
	replayed, err := db.useOnce(ctx, `DELETE FROM saml_assertions WHERE expires_at <= ?`,
		`INSERT INTO saml_assertions (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		now, id, toMillis(expires))
	if err != nil {
		return fmt.Errorf("store: use assertion id: %w", err)
	}
	if replayed {
		return fmt.Errorf("store: use assertion id %q: %w", id, ErrAssertionReplayed)
	}
	return nil
}

// useOnce records a value that may be used once until it expires: in one
// transaction it deletes what purge (taking now) finds expired, then runs
// insert (an INSERT ... ON CONFLICT DO NOTHING with args) and reports
// whether the value was already there.
func (db *DB) useOnce(ctx context.Context, purge, insert string, now time.Time, args ...any) (replayed bool, err error) {
	err = db.withTx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, purge, toMillis(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, insert, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		replayed = n == 0
		return nil
	})
	return replayed, full(err)
}
