package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// ErrLogoutReplayed is returned (wrapped) by UseLogoutJTI for a logout
// token id that was already accepted and has not expired yet.
var ErrLogoutReplayed = errors.New("store: logout token already used")

// SaveIdPSession records what the OpenID provider s.IdP said about its own
// session when the global session with nonce was started.
func (db *DB) SaveIdPSession(ctx context.Context, nonce string, s access.IdPSession) error {
	if nonce == "" || s.IdP == "" {
		return errors.New("store: save idp session: empty nonce or provider")
	}
	_, err := db.sql.ExecContext(ctx, `
		INSERT INTO idp_sessions (nonce, idp, subject, sid, id_token) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (nonce) DO UPDATE SET idp = excluded.idp, subject = excluded.subject,
			sid = excluded.sid, id_token = excluded.id_token`,
		nonce, s.IdP, s.Subject, s.SID, s.IDToken)
	if err != nil {
		return fmt.Errorf("store: save idp session: %w", full(err))
	}
	return nil
}

// IdPSession returns the provider session recorded with the global session
// with nonce, or ErrNotFound (a sign-in without one, such as a PIN's).
func (db *DB) IdPSession(ctx context.Context, nonce string) (access.IdPSession, error) {
	var s access.IdPSession
	err := db.sql.QueryRowContext(ctx, `SELECT idp, subject, sid, id_token FROM idp_sessions WHERE nonce = ?`, nonce).
		Scan(&s.IdP, &s.Subject, &s.SID, &s.IDToken)
	if errors.Is(err, sql.ErrNoRows) {
		return access.IdPSession{}, ErrNotFound
	}
	if err != nil {
		return access.IdPSession{}, fmt.Errorf("store: idp session: %w", err)
	}
	return s, nil
}

// IdPSessions returns the global sessions, active at now, that a logout of
// the provider idp names. With sid: the sessions that recorded that sid
// (and, when sub is given too, that subject), and the sessions of sub that
// recorded no sid at all. Without sid: every session of sub from idp. Newest first.
func (db *DB) IdPSessions(ctx context.Context, idp, sid, sub string, now time.Time) ([]access.Session, error) {
	if sid == "" && sub == "" {
		return nil, errors.New("store: idp sessions: neither sid nor sub")
	}
	match := `subject = ?`
	args := []any{idp, sub}
	if sid != "" {
		// A sid names a session only together with the token's sub, when
		// the token has one: a sid never ends another subject's session.
		match = `(sid = ? AND (? = '' OR subject = ?)) OR (sid = '' AND ? != '' AND subject = ?)`
		args = []any{idp, sid, sub, sub, sub, sub}
	}
	return db.querySessions(ctx, "idp sessions", `
		SELECT `+sessionColumns+` FROM sessions
		WHERE nonce IN (SELECT nonce FROM idp_sessions WHERE idp = ? AND (`+match+`))
			AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, nonce DESC`, append(args, toMillis(now))...)
}

// UseLogoutJTI records that the logout token jti of idp (the issuer) was
// accepted at now and must not be accepted again until expires. It fails
// with ErrLogoutReplayed when the jti is already recorded and unexpired.
// Expired entries are purged on the way.
func (db *DB) UseLogoutJTI(ctx context.Context, idp, jti string, expires, now time.Time) error {
	if idp == "" || jti == "" {
		return errors.New("store: use logout jti: empty provider or jti")
	}
	replayed, err := db.useOnce(ctx, `DELETE FROM logout_jtis WHERE expires_at <= ?`,
		`INSERT INTO logout_jtis (idp, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT (idp, jti) DO NOTHING`,
		now, idp, jti, toMillis(expires))
	if err != nil {
		return fmt.Errorf("store: use logout jti: %w", err)
	}
	if replayed {
		return fmt.Errorf("store: use logout jti %q: %w", jti, ErrLogoutReplayed)
	}
	return nil
}
