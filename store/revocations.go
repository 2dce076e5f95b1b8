package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// The revocations table is the durable revocation log: every revocation
// written here gets an entry (its ID orders the log), and the Revoke*
// methods return it so that the caller can enforce it at once
// (revocation.Engine.Apply). LoadRevoked and RevocationsSince let the
// revocation engine load the log at start and follow it, which makes the
// store a revocation.Source.

// RevokeSession marks the global session with nonce revoked at now, records
// by (who revoked, may be empty) in a log entry of kind "session" and
// returns the entry. Revoking an already revoked session writes nothing and
// returns an entry with ID 0; an unknown one gives ErrNotFound.
func (db *DB) RevokeSession(ctx context.Context, nonce, by string, now time.Time) (access.Revocation, error) {
	var id int64
	err := db.withTx(ctx, func(tx conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE nonce = ? AND revoked_at IS NULL`,
			toMillis(now), nonce)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE nonce = ?`, nonce).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err // nil: already revoked
		}
		if id, err = insertRevocation(ctx, tx, access.RevocationSession, nonce, now, by); err != nil {
			return err
		}
		return db.notifyRevocation(ctx, tx, id)
	})
	if errors.Is(err, ErrNotFound) {
		return access.Revocation{}, ErrNotFound
	}
	if err != nil {
		return access.Revocation{}, fmt.Errorf("store: revoke session: %w", err)
	}
	if id == 0 {
		return access.Revocation{}, nil
	}
	return access.Revocation{ID: id, Kind: access.RevocationSession, Subject: nonce, At: now, By: by, Nonces: []string{nonce}}, nil
}

// RevokeUser revokes every active global session of the user with email
// (and so every app token minted from them), records one log entry of kind
// "user" and returns it, with the ended sessions in Nonces. An unknown user
// gives ErrNotFound. Signing in again creates a new session, which works at
// once.
func (db *DB) RevokeUser(ctx context.Context, email, by string, now time.Time) (access.Revocation, error) {
	u, err := db.UserByEmail(ctx, email)
	if err != nil {
		return access.Revocation{}, err
	}
	var (
		id     int64
		nonces []string
	)
	err = db.withTx(ctx, func(tx conn) error {
		rows, err := tx.QueryContext(ctx,
			`SELECT nonce FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`,
			u.ID, toMillis(now))
		if err != nil {
			return err
		}
		nonces, err = scanStrings(rows)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`,
			toMillis(now), u.ID, toMillis(now)); err != nil {
			return err
		}
		if id, err = insertRevocation(ctx, tx, access.RevocationUser, u.Email, now, by); err != nil {
			return err
		}
		return db.notifyRevocation(ctx, tx, id)
	})
	if err != nil {
		return access.Revocation{}, fmt.Errorf("store: revoke user: %w", err)
	}
	return access.Revocation{ID: id, Kind: access.RevocationUser, Subject: u.Email, At: now, By: by, Nonces: nonces}, nil
}

// RevokeApp revokes the app tokens of the app named app with audience aud
// at now, and returns the log entry. Hard (soft false): tokens issued before
// now are refused and global sessions created before now can no longer mint
// tokens for the app, so users sign in with their IdP again. Soft: tokens
// issued before now are refused and re-issued silently from the global
// session.
func (db *DB) RevokeApp(ctx context.Context, app, aud string, soft bool, by string, now time.Time) (access.Revocation, error) {
	if aud == "" {
		return access.Revocation{}, fmt.Errorf("store: revoke app %q: empty audience", app)
	}
	kind := access.RevocationApp
	if soft {
		kind = access.RevocationAppSoft
	}
	var id int64
	err := db.withTx(ctx, func(tx conn) error {
		var err error
		if id, err = insertRevocation(ctx, tx, kind, aud, now, by); err != nil {
			return err
		}
		return db.notifyRevocation(ctx, tx, id)
	})
	if err != nil {
		return access.Revocation{}, fmt.Errorf("store: revoke app %q: %w", app, err)
	}
	return access.Revocation{ID: id, Kind: kind, Subject: aud, At: now, By: by}, nil
}

// UserSessions returns the active (unrevoked, unexpired at now) global
// sessions of the user with userID, newest first.
func (db *DB) UserSessions(ctx context.Context, userID string, now time.Time) ([]access.Session, error) {
	return db.querySessions(ctx, "user sessions", `
		SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, nonce DESC`, userID, toMillis(now))
}

// scanStrings reads single-column string rows and closes rows.
func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// insertRevocation records a revocation inside tx and returns its id.
func insertRevocation(ctx context.Context, tx conn, kind, subject string, at time.Time, by string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO revocations (kind, subject, at, by) VALUES (?, ?, ?, ?) RETURNING id`,
		kind, subject, toMillis(at), by).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record revocation: %w", err)
	}
	return id, nil
}

// notifyRevocation tells the other nodes (PostgreSQL) about the log entry
// id inside the transaction that writes it, so that they apply it at once.
func (db *DB) notifyRevocation(ctx context.Context, tx conn, id int64) error {
	return db.notify(ctx, tx, ChannelRevocations, strconv.FormatInt(id, 10))
}

// Revocations returns the newest log entries first, at most limit (all if
// limit <= 0), without their Nonces.
func (db *DB) Revocations(ctx context.Context, limit int) ([]access.Revocation, error) {
	if limit <= 0 {
		limit = -1 // all
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, kind, subject, at, by FROM revocations ORDER BY id DESC LIMIT ?`, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: revocations: %w", err)
	}
	out, err := scanRevocations(rows)
	if err != nil {
		return nil, fmt.Errorf("store: revocations: %w", err)
	}
	return out, nil
}

// scanRevocations reads rows of id, kind, subject, at, by and closes rows.
func scanRevocations(rows *sql.Rows) ([]access.Revocation, error) {
	defer rows.Close()
	var out []access.Revocation
	for rows.Next() {
		var (
			r  access.Revocation
			at int64
		)
		if err := rows.Scan(&r.ID, &r.Kind, &r.Subject, &at, &r.By); err != nil {
			return nil, err
		}
		r.At = fromMillis(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RevocationsSince returns the log entries with an ID above afterID, oldest
// first, each with the Nonces of the sessions it ended: the nonce of a
// session revocation, and for a user revocation every session of the user
// revoked and still unexpired at its time. The revocation engine polls it for
// the entries written by other processes, such as `gatehouse revoke`.
func (db *DB) RevocationsSince(ctx context.Context, afterID int64) ([]access.Revocation, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, kind, subject, at, by FROM revocations WHERE id > ? ORDER BY id`, afterID)
	if err != nil {
		return nil, fmt.Errorf("store: revocations since: %w", err)
	}
	revs, err := scanRevocations(rows)
	if err != nil {
		return nil, fmt.Errorf("store: revocations since: %w", err)
	}
	for i, r := range revs {
		switch r.Kind {
		case access.RevocationSession:
			revs[i].Nonces = []string{r.Subject}
		case access.RevocationUser:
			rows, err := db.sql.QueryContext(ctx, `
				SELECT s.nonce FROM sessions s JOIN users u ON u.id = s.user_id
				WHERE u.email = ? AND s.revoked_at IS NOT NULL AND s.expires_at > ?`,
				r.Subject, toMillis(r.At))
			if err != nil {
				return nil, fmt.Errorf("store: revocations since: %w", err)
			}
			if revs[i].Nonces, err = scanStrings(rows); err != nil {
				return nil, fmt.Errorf("store: revocations since: %w", err)
			}
		}
	}
	return revs, nil
}

// LoadRevoked reads the revocations in force at now, for the revocation
// engine's start: it calls session with the nonce of every revoked session
// still unexpired at now (expired sessions are refused anyway; nonce is only
// valid during the call), and returns the latest hard and soft revocation of
// every app and the ID of the newest log entry. That ID is read first, so
// that an entry written during the load is polled again rather than missed.
func (db *DB) LoadRevoked(ctx context.Context, now time.Time, session func(nonce []byte)) (map[string]access.AppRevocation, int64, error) {
	var last sql.NullInt64
	if err := db.sql.QueryRowContext(ctx, `SELECT MAX(id) FROM revocations`).Scan(&last); err != nil {
		return nil, 0, fmt.Errorf("store: load revocations: %w", err)
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT nonce FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > ?`, toMillis(now))
	if err != nil {
		return nil, 0, fmt.Errorf("store: load revocations: %w", err)
	}
	for rows.Next() {
		var nonce sql.RawBytes // no string per row: a million of them at start-up
		if err := rows.Scan(&nonce); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("store: load revocations: %w", err)
		}
		session(nonce)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: load revocations: %w", err)
	}
	apps := make(map[string]access.AppRevocation)
	rows, err = db.sql.QueryContext(ctx, `
		SELECT kind, subject, MAX(at) FROM revocations
		WHERE kind IN ('app', 'app_soft') GROUP BY kind, subject`)
	if err != nil {
		return nil, 0, fmt.Errorf("store: load revocations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, aud string
			at        int64
		)
		if err := rows.Scan(&kind, &aud, &at); err != nil {
			return nil, 0, fmt.Errorf("store: load revocations: %w", err)
		}
		rev := apps[aud]
		if kind == access.RevocationApp {
			rev.Hard = fromMillis(at)
		} else {
			rev.Soft = fromMillis(at)
		}
		apps[aud] = rev
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: load revocations: %w", err)
	}
	return apps, last.Int64, nil
}
