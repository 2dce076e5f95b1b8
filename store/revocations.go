package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Kinds of revocations, as stored in the revocations table.
const (
	RevocationSession = "session"  // one global session and its app tokens
	RevocationUser    = "user"     // every session of a user
	RevocationApp     = "app"      // an app's tokens; the user signs in again
	RevocationAppSoft = "app_soft" // an app's tokens; re-issued silently
)

// Revocation is one row of the revocation log.
type Revocation struct {
	ID      int64
	Kind    string // one of the Revocation* constants
	Subject string // session nonce, user email or app audience (AUD tag)
	At      time.Time
	By      string // who revoked, when known

	// Nonces are the global sessions the revocation ended (kinds session
	// and user); filled for listeners, not by Revocations.
	Nonces []string
}

// AppRevocation returns, from memory in O(1), the latest hard and soft
// revocation of the app with audience aud; access.AppRevocation applies the
// same-second rule to it.
func (db *DB) AppRevocation(aud string) access.AppRevocation {
	db.mu.RLock()
	rev := access.AppRevocation{Hard: db.appHard[aud], Soft: db.appSoft[aud]}
	db.mu.RUnlock()
	return rev
}

// SessionRevoked reports, from memory in O(1), whether the session with
// nonce has been revoked.
func (db *DB) SessionRevoked(nonce string) bool {
	db.mu.RLock()
	_, ok := db.revoked[keyOf(nonce)]
	db.mu.RUnlock()
	return ok
}

// nonceKey is a session nonce as a map key without pointers, so that the
// garbage collector never scans the (possibly million-entry) index: byte 0
// holds the length and the rest the nonce, or, for nonces of 24 bytes and
// more, 0xff and a SHA-256 prefix.
type nonceKey [24]byte

// keyOf returns the index key of nonce.
func keyOf[T ~string | ~[]byte](nonce T) nonceKey {
	var k nonceKey
	if len(nonce) < len(k) {
		k[0] = byte(len(nonce))
		copy(k[1:], nonce)
		return k
	}
	sum := sha256.Sum256([]byte(nonce))
	k[0] = 0xff
	copy(k[1:], sum[:])
	return k
}

// Subscribe registers fn to be called after every revocation applied to the
// index, whether written by this process or polled by WatchRevocations.
// fn runs on the revoking goroutine and must not block.
func (db *DB) Subscribe(fn func(r Revocation)) {
	db.mu.Lock()
	db.subs = append(db.subs, fn)
	db.mu.Unlock()
}

// RevokeSessionBy is RevokeSession recording who revoked.
func (db *DB) RevokeSessionBy(ctx context.Context, nonce, by string, now time.Time) error {
	var id int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
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
		id, err = insertRevocation(ctx, tx, RevocationSession, nonce, now, by)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	if id != 0 {
		db.applyLocal(Revocation{ID: id, Kind: RevocationSession, Subject: nonce, At: now, By: by, Nonces: []string{nonce}})
	}
	return nil
}

// RevokeUser revokes every active global session of the user with email
// (and so every app token minted from them), records one revocation of kind
// "user" and returns how many sessions it ended. An unknown user gives
// ErrNotFound. Signing in again creates a new session, which works at once.
func (db *DB) RevokeUser(ctx context.Context, email, by string, now time.Time) (int, error) {
	u, err := db.UserByEmail(ctx, email)
	if err != nil {
		return 0, err
	}
	var (
		id     int64
		nonces []string
	)
	err = db.withTx(ctx, func(tx *sql.Tx) error {
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
		id, err = insertRevocation(ctx, tx, RevocationUser, u.Email, now, by)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: revoke user: %w", err)
	}
	db.applyLocal(Revocation{ID: id, Kind: RevocationUser, Subject: u.Email, At: now, By: by, Nonces: nonces})
	return len(nonces), nil
}

// RevokeApp revokes the app tokens of the app named app with audience aud
// at now. Hard (soft false): tokens issued before now are refused and global
// sessions created before now can no longer mint tokens for the app, so
// users sign in with their IdP again. Soft: tokens issued before now are
// refused and re-issued silently from the global session.
func (db *DB) RevokeApp(ctx context.Context, app, aud string, soft bool, by string, now time.Time) error {
	if aud == "" {
		return fmt.Errorf("store: revoke app %q: empty audience", app)
	}
	kind := RevocationApp
	if soft {
		kind = RevocationAppSoft
	}
	var id int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = insertRevocation(ctx, tx, kind, aud, now, by)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: revoke app %q: %w", app, err)
	}
	db.applyLocal(Revocation{ID: id, Kind: kind, Subject: aud, At: now, By: by})
	return nil
}

// UserSessions returns the active (unrevoked, unexpired at now) global
// sessions of the user with userID, newest first.
func (db *DB) UserSessions(ctx context.Context, userID string, now time.Time) ([]access.Session, error) {
	rows, err := db.sql.QueryContext(ctx, `
		SELECT nonce, identity, created_at, expires_at, revoked_at FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, nonce DESC`, userID, toMillis(now))
	if err != nil {
		return nil, fmt.Errorf("store: user sessions: %w", err)
	}
	defer rows.Close()
	var out []access.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("store: user sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: user sessions: %w", err)
	}
	return out, nil
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
func insertRevocation(ctx context.Context, tx *sql.Tx, kind, subject string, at time.Time, by string) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO revocations (kind, subject, at, by) VALUES (?, ?, ?, ?)`,
		kind, subject, toMillis(at), by)
	if err != nil {
		return 0, fmt.Errorf("record revocation: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("record revocation: %w", err)
	}
	return id, nil
}

// applyLocal applies a revocation written by this process to the index,
// remembers its id so that the watcher does not apply it twice, and tells
// the subscribers.
func (db *DB) applyLocal(r Revocation) {
	db.mu.Lock()
	db.localIDs[r.ID] = struct{}{}
	db.mu.Unlock()
	db.apply(r)
}

// apply adds r to the in-memory index and tells the subscribers.
func (db *DB) apply(r Revocation) {
	db.mu.Lock()
	for _, n := range r.Nonces {
		db.revoked[keyOf(n)] = struct{}{}
	}
	switch r.Kind {
	case RevocationApp:
		if r.At.After(db.appHard[r.Subject]) {
			db.appHard[r.Subject] = r.At
		}
	case RevocationAppSoft:
		if r.At.After(db.appSoft[r.Subject]) {
			db.appSoft[r.Subject] = r.At
		}
	}
	subs := db.subs
	db.mu.Unlock()
	for _, fn := range subs {
		fn(r)
	}
}

// Revocations returns the newest revocations first, at most limit (all if
// limit <= 0).
func (db *DB) Revocations(ctx context.Context, limit int) ([]Revocation, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, kind, subject, at, by FROM revocations ORDER BY id DESC LIMIT ?`, limit)
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
func scanRevocations(rows *sql.Rows) ([]Revocation, error) {
	defer rows.Close()
	var out []Revocation
	for rows.Next() {
		var (
			r  Revocation
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

// WatchRevocations polls the revocations table every interval until ctx ends,
// applying to the index (and telling subscribers about) the rows written by
// other processes, such as `gatehouse revoke`.
func (db *DB) WatchRevocations(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := db.PollRevocations(ctx); err != nil && ctx.Err() == nil {
				db.log.Warn("store: poll revocations", "err", err)
			}
		}
	}
}

// PollRevocations applies once the revocation rows newer than the last one
// applied; WatchRevocations calls it on every tick.
func (db *DB) PollRevocations(ctx context.Context) error {
	db.pollMu.Lock()
	defer db.pollMu.Unlock()
	db.mu.RLock()
	last := db.lastRevID
	db.mu.RUnlock()
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, kind, subject, at, by FROM revocations WHERE id > ? ORDER BY id`, last)
	if err != nil {
		return fmt.Errorf("store: poll revocations: %w", err)
	}
	revs, err := scanRevocations(rows)
	if err != nil {
		return fmt.Errorf("store: poll revocations: %w", err)
	}
	for _, r := range revs {
		db.mu.Lock()
		_, local := db.localIDs[r.ID]
		delete(db.localIDs, r.ID)
		db.lastRevID = r.ID
		db.mu.Unlock()
		if local {
			continue
		}
		switch r.Kind {
		case RevocationSession:
			r.Nonces = []string{r.Subject}
		case RevocationUser:
			rows, err := db.sql.QueryContext(ctx, `
				SELECT s.nonce FROM sessions s JOIN users u ON u.id = s.user_id
				WHERE u.email = ? AND s.revoked_at IS NOT NULL AND s.expires_at > ?`,
				r.Subject, toMillis(r.At))
			if err != nil {
				return fmt.Errorf("store: poll revocations: %w", err)
			}
			if r.Nonces, err = scanStrings(rows); err != nil {
				return fmt.Errorf("store: poll revocations: %w", err)
			}
		}
		db.apply(r)
	}
	return db.pollServiceTokens(ctx)
}

// loadRevoked fills the in-memory index from SQLite: the revoked sessions
// still unexpired at now (expired sessions are refused anyway), the latest
// hard and soft revocation of every app, and the last revocation id.
func (db *DB) loadRevoked(ctx context.Context, now time.Time) error {
	var n int
	if err := db.sql.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > ?`, toMillis(now)).Scan(&n); err != nil {
		return fmt.Errorf("store: load revocations: %w", err)
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT nonce FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > ?`, toMillis(now))
	if err != nil {
		return fmt.Errorf("store: load revocations: %w", err)
	}
	idx := make(map[nonceKey]struct{}, n)
	for rows.Next() {
		var nonce sql.RawBytes // no string per row: a million of them at start-up
		if err := rows.Scan(&nonce); err != nil {
			rows.Close()
			return fmt.Errorf("store: load revocations: %w", err)
		}
		idx[keyOf(nonce)] = struct{}{}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: load revocations: %w", err)
	}
	hard, soft := make(map[string]time.Time), make(map[string]time.Time)
	rows, err = db.sql.QueryContext(ctx, `
		SELECT kind, subject, MAX(at) FROM revocations
		WHERE kind IN ('app', 'app_soft') GROUP BY kind, subject`)
	if err != nil {
		return fmt.Errorf("store: load revocations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, aud string
			at        int64
		)
		if err := rows.Scan(&kind, &aud, &at); err != nil {
			return fmt.Errorf("store: load revocations: %w", err)
		}
		if kind == RevocationApp {
			hard[aud] = fromMillis(at)
		} else {
			soft[aud] = fromMillis(at)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: load revocations: %w", err)
	}
	var last sql.NullInt64
	if err := db.sql.QueryRowContext(ctx, `SELECT MAX(id) FROM revocations`).Scan(&last); err != nil {
		return fmt.Errorf("store: load revocations: %w", err)
	}
	db.mu.Lock()
	db.revoked, db.appHard, db.appSoft, db.lastRevID = idx, hard, soft, last.Int64
	db.mu.Unlock()
	return nil
}
