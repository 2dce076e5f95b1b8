package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// UserSummary is one row of the admin users page.
type UserSummary = access.UserSummary

// UsersSince returns the users whose last sign-in is at or after since,
// most recent first, with their count of sessions active at now.
func (db *DB) UsersSince(ctx context.Context, since, now time.Time) ([]UserSummary, error) {
	rows, err := db.sql.QueryContext(ctx, `
		SELECT u.id, u.email, u.created_at, u.last_sign_in, u.last_idp,
			(SELECT COUNT(*) FROM sessions s
			 WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > ?)
		FROM users u WHERE u.last_sign_in >= ?
		ORDER BY u.last_sign_in DESC, u.email`,
		toMillis(now), toMillis(since))
	if err != nil {
		return nil, fmt.Errorf("store: users since: %w", err)
	}
	defer rows.Close()
	var out []UserSummary
	for rows.Next() {
		var (
			u                 UserSummary
			created, lastSeen int64
		)
		if err := rows.Scan(&u.ID, &u.Email, &created, &lastSeen, &u.LastIdP, &u.ActiveSessions); err != nil {
			return nil, fmt.Errorf("store: users since: %w", err)
		}
		u.CreatedAt = fromMillis(created)
		u.LastSignIn = fromMillis(lastSeen)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: users since: %w", err)
	}
	return out, nil
}

// AuditFilter selects audit events.
type AuditFilter = access.AuditFilter

// AuditSearch returns one page of events matching f, newest first, and
// whether older events match too.
func (db *DB) AuditSearch(ctx context.Context, f AuditFilter) ([]access.Event, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var (
		where []string
		args  []any
	)
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, f.Kind)
	}
	if f.Email != "" {
		where = append(where, db.sql.eqNoCase("email", "?"))
		args = append(args, strings.TrimSpace(f.Email))
	}
	if f.App != "" {
		where = append(where, "app = ?")
		args = append(args, f.App)
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := `SELECT id, at, kind, email, app, idp, ip, detail FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: audit search: %w", err)
	}
	defer rows.Close()
	var out []access.Event
	for rows.Next() {
		var (
			e  access.Event
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Email, &e.App, &e.IdP, &e.IP, &e.Detail); err != nil {
			return nil, false, fmt.Errorf("store: audit search: %w", err)
		}
		e.Time = fromMillis(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("store: audit search: %w", err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// Counts are the figures of the admin overview.
type Counts = access.Counts

// AdminCounts returns the overview figures; since is the start of the
// period the "since" figures cover.
func (db *DB) AdminCounts(ctx context.Context, since, now time.Time) (Counts, error) {
	var c Counts
	err := db.sql.QueryRowContext(ctx, `
		SELECT
			(SELECT COUNT(*) FROM users),
			(SELECT COUNT(*) FROM users WHERE last_sign_in >= ?1),
			(SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?2),
			(SELECT COUNT(*) FROM audit WHERE kind = ?3 AND at >= ?1),
			(SELECT COUNT(*) FROM audit WHERE kind = ?4 AND at >= ?1),
			(SELECT COUNT(*) FROM revocations)`,
		toMillis(since), toMillis(now), access.EventSignIn, access.EventDenied,
	).Scan(&c.Users, &c.UsersSince, &c.ActiveSessions, &c.SignInsSince, &c.DeniedSince, &c.Revocations)
	if err != nil {
		return Counts{}, fmt.Errorf("store: admin counts: %w", err)
	}
	return c, nil
}

// AppUser says who was given a token for which app.
type AppUser = access.AppUser

// AppUsers lists who uses which app: the access audit events (an app token
// issued at the team domain) of users whose global session, started before
// the event, is still active at now.
func (db *DB) AppUsers(ctx context.Context, now time.Time) ([]AppUser, error) {
	var out []AppUser
	rows, err := db.sql.QueryContext(ctx, `
		SELECT a.app, a.email, MAX(a.at) FROM audit a
		JOIN users u ON `+db.sql.eqNoCase("u.email", "a.email")+`
		WHERE a.kind = ? AND a.app != '' AND EXISTS (
			SELECT 1 FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL
				AND s.expires_at > ? AND s.created_at <= a.at)
		GROUP BY a.app, a.email`, access.EventAccess, toMillis(now))
	if err != nil {
		return nil, fmt.Errorf("store: app users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u  AppUser
			at int64
		)
		if err := rows.Scan(&u.App, &u.Email, &at); err != nil {
			return nil, fmt.Errorf("store: app users: %w", err)
		}
		u.At = fromMillis(at)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: app users: %w", err)
	}
	return out, nil
}

// audiences reads a JWT aud claim: a string or an array of strings.
func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
