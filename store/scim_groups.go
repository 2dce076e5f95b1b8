package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

const scimGroupColumns = `id, display_name, external_id, created_at, updated_at`

// scimGroup reads the group with id and its members through q.
func scimGroup(ctx context.Context, q conn, id string) (SCIMGroup, error) {
	var (
		g                SCIMGroup
		created, updated int64
	)
	err := q.QueryRowContext(ctx, `SELECT `+scimGroupColumns+` FROM scim_groups WHERE id = ?`, id).
		Scan(&g.ID, &g.DisplayName, &g.ExternalID, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return SCIMGroup{}, ErrNotFound
	}
	if err != nil {
		return SCIMGroup{}, err
	}
	g.Created, g.Updated = fromMillis(created), fromMillis(updated)
	if g.Members, err = scimMembers(ctx, q, id); err != nil {
		return SCIMGroup{}, err
	}
	return g, nil
}

// scimMembers returns the members of group id, by userName.
func scimMembers(ctx context.Context, q conn, id string) ([]SCIMMember, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id, u.user_name FROM scim_members m
		JOIN scim_users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY `+q.fold("u.user_name")+`, u.user_name, u.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SCIMMember{}
	for rows.Next() {
		var m SCIMMember
		if err := rows.Scan(&m.ID, &m.UserName); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// writeMembers replaces the members of group id with the SCIM users among
// ids (unknown ids are skipped) and returns the members it wrote.
func writeMembers(ctx context.Context, tx conn, id string, members []SCIMMember) ([]SCIMMember, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM scim_members WHERE group_id = ?`, id); err != nil {
		return nil, err
	}
	for _, m := range members {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_members (group_id, user_id)
			SELECT ?, id FROM scim_users WHERE id = ? ON CONFLICT (group_id, user_id) DO NOTHING`, id, m.ID); err != nil {
			return nil, err
		}
	}
	return scimMembers(ctx, tx, id)
}

// CreateSCIMGroup stores a new SCIM group with a fresh id and its members
// (the SCIM users among g.Members; unknown ids are skipped) and returns it.
func (db *DB) CreateSCIMGroup(ctx context.Context, g SCIMGroup, now time.Time) (SCIMGroup, error) {
	g.ID = uuid.NewString()
	g.Created, g.Updated = now.UTC().Truncate(time.Millisecond), now.UTC().Truncate(time.Millisecond)
	err := db.withTx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_groups (`+scimGroupColumns+`) VALUES (?, ?, ?, ?, ?)`,
			g.ID, g.DisplayName, g.ExternalID, toMillis(now), toMillis(now)); err != nil {
			return err
		}
		var err error
		g.Members, err = writeMembers(ctx, tx, g.ID, g.Members)
		return err
	})
	if err != nil {
		return SCIMGroup{}, fmt.Errorf("store: create SCIM group: %w", err)
	}
	return g, nil
}

// SCIMGroup returns the SCIM group with id and its members, or ErrNotFound.
func (db *DB) SCIMGroup(ctx context.Context, id string) (SCIMGroup, error) {
	g, err := scimGroup(ctx, db.sql, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return SCIMGroup{}, fmt.Errorf("store: SCIM group: %w", err)
	}
	return g, err
}

// SCIMGroups returns the SCIM groups matching f in creation order, at most
// limit (all when limit < 0) after skipping offset, and how many match.
func (db *DB) SCIMGroups(ctx context.Context, f SCIMFilter, offset, limit int) ([]SCIMGroup, int, error) {
	where, args, err := scimWhere(db.sql, f, "scim_groups")
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_groups`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: SCIM groups: %w", err)
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT id FROM scim_groups`+where+
		` ORDER BY created_at, id LIMIT ? OFFSET ?`, append(args, sqlLimit(limit), offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: SCIM groups: %w", err)
	}
	ids, err := scanStrings(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("store: SCIM groups: %w", err)
	}
	out := make([]SCIMGroup, 0, len(ids))
	for _, id := range ids {
		g, err := scimGroup(ctx, db.sql, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since
		}
		if err != nil {
			return nil, 0, fmt.Errorf("store: SCIM groups: %w", err)
		}
		out = append(out, g)
	}
	return out, total, nil
}

// UpdateSCIMGroup reads the SCIM group with id, lets fn change it (name,
// external id, members) and writes it back, in one transaction; it returns
// the group before and after. An unknown id gives ErrNotFound.
func (db *DB) UpdateSCIMGroup(ctx context.Context, id string, now time.Time, fn func(*SCIMGroup) error) (before, after SCIMGroup, err error) {
	err = db.withTx(ctx, func(tx conn) error {
		g, err := scimGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		before = g
		after = g
		after.Members = append([]SCIMMember(nil), g.Members...)
		if err := fn(&after); err != nil {
			return err
		}
		after.ID, after.Created, after.Updated = g.ID, g.Created, now.UTC().Truncate(time.Millisecond)
		if _, err := tx.ExecContext(ctx, `UPDATE scim_groups SET display_name = ?, external_id = ?, updated_at = ? WHERE id = ?`,
			after.DisplayName, after.ExternalID, toMillis(now), id); err != nil {
			return err
		}
		after.Members, err = writeMembers(ctx, tx, id, after.Members)
		return err
	})
	if err != nil {
		return SCIMGroup{}, SCIMGroup{}, fmt.Errorf("store: update SCIM group: %w", err)
	}
	return before, after, nil
}

// DeleteSCIMGroup deletes the SCIM group with id and returns it (with the
// members it had), or ErrNotFound.
func (db *DB) DeleteSCIMGroup(ctx context.Context, id string) (SCIMGroup, error) {
	var g SCIMGroup
	err := db.withTx(ctx, func(tx conn) error {
		var err error
		if g, err = scimGroup(ctx, tx, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM scim_groups WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return SCIMGroup{}, fmt.Errorf("store: delete SCIM group: %w", err)
	}
	return g, nil
}
