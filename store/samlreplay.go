package store

import (
	"context"
	"database/sql"
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
	replayed := false
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM saml_assertions WHERE expires_at <= ?`, toMillis(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO saml_assertions (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
			id, toMillis(expires))
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
	if err != nil {
		return fmt.Errorf("store: use assertion id: %w", err)
	}
	if replayed {
		return fmt.Errorf("store: use assertion id %q: %w", id, ErrAssertionReplayed)
	}
	return nil
}
