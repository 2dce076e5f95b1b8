package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// CreateSession stores a new global session. s.Identity.UserID must name a
// user created by UpsertUser (it is a foreign key). A session stored already
// revoked has no revocation log entry: it is enforced from the next start.
func (db *DB) CreateSession(ctx context.Context, s access.Session) error {
	if s.Nonce == "" {
		return errors.New("store: create session: empty nonce")
	}
	ident, err := json.Marshal(s.Identity)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	_, err = db.sql.ExecContext(ctx, `
		INSERT INTO sessions (nonce, user_id, identity, created_at, expires_at, revoked_at, user_agent, last_seen_at, last_ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.Nonce, s.Identity.UserID, string(ident), toMillis(s.CreatedAt), toMillis(s.ExpiresAt), toNullMillis(s.RevokedAt),
		access.Clip(s.UserAgent, maxUserAgent), toNullMillis(s.LastSeenAt), s.LastIP)
	if err != nil {
		return fmt.Errorf("store: create session: %w", full(err))
	}
	return nil
}

// rowScanner is satisfied by *sql.Row and *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// sessionColumns are the columns scanSession reads, in order.
const sessionColumns = `nonce, identity, created_at, expires_at, revoked_at, user_agent, last_seen_at, last_ip`

// maxUserAgent bounds the User-Agent kept of a session (a stranger's
// header, but only a signed-in one's is ever stored).
const maxUserAgent = 512

// scanSession reads sessionColumns.
func scanSession(r rowScanner) (access.Session, error) {
	var (
		s                access.Session
		ident            string
		created, expires int64
		revoked, seen    sql.NullInt64
	)
	if err := r.Scan(&s.Nonce, &ident, &created, &expires, &revoked, &s.UserAgent, &seen, &s.LastIP); err != nil {
		return access.Session{}, err
	}
	s.LastSeenAt = fromNullMillis(seen)
	if err := json.Unmarshal([]byte(ident), &s.Identity); err != nil {
		return access.Session{}, fmt.Errorf("decode identity: %w", err)
	}
	s.CreatedAt = fromMillis(created)
	s.ExpiresAt = fromMillis(expires)
	s.RevokedAt = fromNullMillis(revoked)
	return s, nil
}

// Session returns the global session with nonce (revoked or not), or ErrNotFound.
func (db *DB) Session(ctx context.Context, nonce string) (access.Session, error) {
	s, err := scanSession(db.sql.QueryRowContext(ctx, `
		SELECT `+sessionColumns+` FROM sessions WHERE nonce = ?`, nonce))
	if errors.Is(err, sql.ErrNoRows) {
		return access.Session{}, ErrNotFound
	}
	if err != nil {
		return access.Session{}, fmt.Errorf("store: session: %w", err)
	}
	return s, nil
}

// ListSessions returns global sessions newest first, at most limit (all if
// limit <= 0). With activeOnly, only sessions unrevoked and unexpired at now.
func (db *DB) ListSessions(ctx context.Context, activeOnly bool, now time.Time, limit int) ([]access.Session, error) {
	if limit <= 0 {
		limit = -1 // all
	}
	q := `SELECT ` + sessionColumns + ` FROM sessions`
	args := []any{}
	if activeOnly {
		q += ` WHERE revoked_at IS NULL AND expires_at > ?`
		args = append(args, toMillis(now))
	}
	q += ` ORDER BY created_at DESC, nonce DESC LIMIT ?`
	args = append(args, sqlLimit(limit))
	return db.querySessions(ctx, "list sessions", q, args...)
}

// querySessions runs q, which selects sessionColumns, and returns its
// sessions; what names the query in errors.
func (db *DB) querySessions(ctx context.Context, what, q string, args ...any) ([]access.Session, error) {
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []access.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// SessionSeen records that the session with nonce was seen at now, from ip
// with userAgent (kept when empty). Callers throttle it (at most once a
// minute per session); a session that does not exist is no error.
func (db *DB) SessionSeen(ctx context.Context, nonce, ip, userAgent string, now time.Time) error {
	_, err := db.sql.ExecContext(ctx, `
		UPDATE sessions SET last_seen_at = ?, last_ip = ?,
			user_agent = CASE WHEN ? = '' THEN user_agent ELSE ? END
		WHERE nonce = ?`,
		toMillis(now), ip, userAgent, access.Clip(userAgent, maxUserAgent), nonce)
	if err != nil {
		return fmt.Errorf("store: session seen: %w", full(err))
	}
	return nil
}

// ActiveSessions returns every global session active at now.
func (db *DB) ActiveSessions(ctx context.Context, now time.Time) ([]access.Session, error) {
	return db.ListSessions(ctx, true, now, 0)
}
