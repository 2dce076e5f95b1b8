package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/gatehouse-dev/gatehouse/access"
)

// ErrConflict marks a write refused because a unique value (a SCIM user's
// userName) is taken.
var ErrConflict = access.ErrConflict

// The SCIM resources, as access declares them.
type (
	SCIMUser   = access.SCIMUser
	SCIMMember = access.SCIMMember
	SCIMGroup  = access.SCIMGroup
	SCIMFilter = access.SCIMFilter
)

// scimColumns maps a filterable attribute to its column, per table.
var scimColumns = map[string]map[string]string{
	"scim_users":  {"id": "id", "username": "user_name", "externalid": "external_id"},
	"scim_groups": {"id": "id", "displayname": "display_name", "externalid": "external_id"},
}

// scimUserName is the stored form of a SCIM userName and the form it is
// looked up in: trimmed, its non-ASCII letters lower-cased as
// access.NormalizeEmail lower-cases a sign-in email. The column's NOCASE
// collation folds ASCII letters only, so without this a userName
// "ÅSA@example.com" would not be the user who signs in as åsa@example.com
// (and deactivating it would not refuse that sign-in). ASCII letters keep
// the case the client sent.
func scimUserName(s string) string {
	return strings.Map(func(c rune) rune {
		if c > unicode.MaxASCII {
			return unicode.ToLower(c)
		}
		return c
	}, strings.TrimSpace(s))
}

// scimWhere returns the WHERE clause of f on table, or an error for an
// attribute that is not a column.
func scimWhere(c conn, f SCIMFilter, table string) (string, []any, error) {
	if f.Attr == "" {
		return "", nil, nil
	}
	col, ok := scimColumns[table][strings.ToLower(f.Attr)]
	if !ok {
		return "", nil, fmt.Errorf("store: no column for SCIM attribute %q", f.Attr)
	}
	v := f.Value
	if col == "user_name" {
		v = scimUserName(v)
	}
	if col == "user_name" || col == "display_name" { // COLLATE NOCASE on SQLite
		return " WHERE " + c.fold(col) + " = " + c.fold("?"), []any{v}, nil
	}
	return " WHERE " + col + " = ?", []any{v}, nil
}

// conflict turns a unique-constraint failure into ErrConflict.
func conflict(err error) error {
	if uniqueViolation(err) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return full(err)
}

const scimUserColumns = `id, user_name, external_id, display_name, active, attributes, created_at, updated_at`

func scanSCIMUser(r rowScanner) (SCIMUser, error) {
	var (
		u                SCIMUser
		attrs            string
		created, updated int64
	)
	if err := r.Scan(&u.ID, &u.UserName, &u.ExternalID, &u.DisplayName, &u.Active, &attrs, &created, &updated); err != nil {
		return SCIMUser{}, err
	}
	u.Attributes = []byte(attrs)
	u.Created, u.Updated = fromMillis(created), fromMillis(updated)
	return u, nil
}

// CreateSCIMUser stores a new SCIM user with a fresh id and returns it;
// a taken userName gives ErrConflict. A deleted user of that userName is
// forgotten.
func (db *DB) CreateSCIMUser(ctx context.Context, u SCIMUser, now time.Time) (SCIMUser, error) {
	u.ID = uuid.NewString()
	u.UserName = scimUserName(u.UserName)
	u.Created, u.Updated = now.UTC().Truncate(time.Millisecond), now.UTC().Truncate(time.Millisecond)
	if len(u.Attributes) == 0 {
		u.Attributes = []byte("{}")
	}
	err := db.withTx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_users (`+scimUserColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.UserName, u.ExternalID, u.DisplayName, u.Active, string(u.Attributes), toMillis(now), toMillis(now)); err != nil {
			return conflict(err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM scim_deleted WHERE user_name = `+tx.fold("?"), u.UserName)
		return err
	})
	if err != nil {
		return SCIMUser{}, fmt.Errorf("store: create SCIM user: %w", err)
	}
	return u, nil
}

// SCIMUser returns the SCIM user with id, or ErrNotFound.
func (db *DB) SCIMUser(ctx context.Context, id string) (SCIMUser, error) {
	u, err := scanSCIMUser(db.sql.QueryRowContext(ctx, `SELECT `+scimUserColumns+` FROM scim_users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return SCIMUser{}, ErrNotFound
	}
	if err != nil {
		return SCIMUser{}, fmt.Errorf("store: SCIM user: %w", err)
	}
	return u, nil
}

// SCIMUsers returns the SCIM users matching f in creation order, at most
// limit (all when limit < 0) after skipping offset, and how many match.
func (db *DB) SCIMUsers(ctx context.Context, f SCIMFilter, offset, limit int) ([]SCIMUser, int, error) {
	where, args, err := scimWhere(db.sql, f, "scim_users")
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_users`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: SCIM users: %w", err)
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT `+scimUserColumns+` FROM scim_users`+where+
		` ORDER BY created_at, id LIMIT ? OFFSET ?`, append(args, sqlLimit(limit), offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: SCIM users: %w", err)
	}
	defer rows.Close()
	out := []SCIMUser{}
	for rows.Next() {
		u, err := scanSCIMUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: SCIM users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: SCIM users: %w", err)
	}
	return out, total, nil
}

// UpdateSCIMUser reads the SCIM user with id, lets fn change it and writes
// it back, in one transaction; it returns the user before and after. The
// id and creation time stay; a userName taken by another user gives
// ErrConflict, an unknown id ErrNotFound.
func (db *DB) UpdateSCIMUser(ctx context.Context, id string, now time.Time, fn func(*SCIMUser) error) (before, after SCIMUser, err error) {
	err = db.withTx(ctx, func(tx conn) error {
		u, err := scanSCIMUser(tx.QueryRowContext(ctx, `SELECT `+scimUserColumns+` FROM scim_users WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		before, after = u, u
		if err := fn(&after); err != nil {
			return err
		}
		after.ID, after.Created, after.Updated = u.ID, u.Created, now.UTC().Truncate(time.Millisecond)
		after.UserName = scimUserName(after.UserName)
		if len(after.Attributes) == 0 {
			after.Attributes = []byte("{}")
		}
		if _, err = tx.ExecContext(ctx, `UPDATE scim_users SET user_name = ?, external_id = ?, display_name = ?,
			active = ?, attributes = ?, updated_at = ? WHERE id = ?`,
			after.UserName, after.ExternalID, after.DisplayName, after.Active, string(after.Attributes), toMillis(now), id); err != nil {
			return conflict(err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM scim_deleted WHERE user_name = `+tx.fold("?"), after.UserName)
		return err
	})
	if err != nil {
		return SCIMUser{}, SCIMUser{}, fmt.Errorf("store: update SCIM user: %w", err)
	}
	return before, after, nil
}

// DeleteSCIMUser deletes the SCIM user with id (and its memberships) and
// returns it, or ErrNotFound. Its userName is remembered as deleted until
// provisioned again (SCIMDirectoryOf).
func (db *DB) DeleteSCIMUser(ctx context.Context, id string, now time.Time) (SCIMUser, error) {
	var u SCIMUser
	err := db.withTx(ctx, func(tx conn) error {
		var err error
		u, err = scanSCIMUser(tx.QueryRowContext(ctx, `SELECT `+scimUserColumns+` FROM scim_users WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM scim_users WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO scim_deleted (user_name, deleted_at) VALUES (`+tx.fold("?")+`, ?)
			ON CONFLICT (user_name) DO UPDATE SET deleted_at = excluded.deleted_at`, u.UserName, toMillis(now))
		return err
	})
	if err != nil {
		return SCIMUser{}, fmt.Errorf("store: delete SCIM user: %w", err)
	}
	return u, nil
}

// SCIMDirectoryOf returns what SCIM says about the user who signs in as
// email: whether a SCIM user has that userName (any case), whether it is
// active, and the displayNames of its groups, sorted. A deleted user is
// known and inactive, in no group.
func (db *DB) SCIMDirectoryOf(ctx context.Context, email string) (access.Directory, error) {
	var (
		d  access.Directory
		id string
	)
	err := db.sql.QueryRowContext(ctx, `SELECT id, active FROM scim_users WHERE `+db.sql.fold("user_name")+` = `+db.sql.fold("?"),
		scimUserName(email)).Scan(&id, &d.Active)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_deleted WHERE user_name = `+db.sql.fold("?"),
			scimUserName(email)).Scan(&n); err != nil {
			return access.Directory{}, fmt.Errorf("store: SCIM directory: %w", err)
		}
		return access.Directory{Known: n > 0}, nil
	}
	if err != nil {
		return access.Directory{}, fmt.Errorf("store: SCIM directory: %w", err)
	}
	d.Known = true
	rows, err := db.sql.QueryContext(ctx, `SELECT g.display_name FROM scim_members m
		JOIN scim_groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY `+db.sql.fold("g.display_name")+`, g.display_name`, id)
	if err != nil {
		return access.Directory{}, fmt.Errorf("store: SCIM directory: %w", err)
	}
	if d.Groups, err = scanStrings(rows); err != nil {
		return access.Directory{}, fmt.Errorf("store: SCIM directory: %w", err)
	}
	return d, nil
}
