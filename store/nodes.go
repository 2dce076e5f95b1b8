package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// The nodes table is the node registry: every serving Gatehouse on this
// store has a row with its heartbeat and its watermark (the newest
// revocation-log entry it has applied). A revoke waits until every other
// live node's watermark reaches the revocation's log ID (package cluster).

// RegisterNode records n (its heartbeat and watermark as given), replacing
// a row with the same ID.
func (db *DB) RegisterNode(ctx context.Context, n access.Node) error {
	if _, err := db.sql.ExecContext(ctx, `
		INSERT INTO nodes (id, name, started_at, heartbeat_at, watermark) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, started_at = excluded.started_at,
			heartbeat_at = excluded.heartbeat_at, watermark = excluded.watermark`,
		n.ID, n.Name, toMillis(n.StartedAt), toMillis(n.HeartbeatAt), n.Watermark); err != nil {
		return full(fmt.Errorf("store: register node: %w", err))
	}
	return nil
}

// Heartbeat records that node n was in sync with the store at
// n.HeartbeatAt, having applied the revocation log up to n.Watermark. A
// watermark never goes back. A node whose row is gone (pruned while it was
// cut off) is registered again. On PostgreSQL the heartbeat is notified on
// ChannelAcks, which wakes the revokes waiting for it.
func (db *DB) Heartbeat(ctx context.Context, n access.Node) error {
	if _, err := db.sql.ExecContext(ctx, `
		INSERT INTO nodes (id, name, started_at, heartbeat_at, watermark) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
			watermark = CASE WHEN excluded.watermark > nodes.watermark THEN excluded.watermark ELSE nodes.watermark END`,
		n.ID, n.Name, toMillis(n.StartedAt), toMillis(n.HeartbeatAt), n.Watermark); err != nil {
		return full(fmt.Errorf("store: heartbeat: %w", err))
	}
	if err := db.notify(ctx, db.sql, ChannelAcks, n.ID); err != nil {
		return fmt.Errorf("store: heartbeat: %w", err)
	}
	return nil
}

// RemoveNode deletes the row of the node with id (a clean stop). Removing
// an unknown node is not an error.
func (db *DB) RemoveNode(ctx context.Context, id string) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM nodes WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: remove node: %w", err)
	}
	return nil
}

// PruneNodes deletes the rows of the nodes whose last heartbeat is before
// before (nodes that died without a clean stop) and returns how many.
func (db *DB) PruneNodes(ctx context.Context, before time.Time) (int, error) {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM nodes WHERE heartbeat_at < ?`, toMillis(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune nodes: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune nodes: %w", err)
	}
	return int(n), nil
}

// Nodes returns the registered nodes whose heartbeat is at or after since
// (every node for the zero time), by name then ID.
func (db *DB) Nodes(ctx context.Context, since time.Time) ([]access.Node, error) {
	var ms int64
	if !since.IsZero() {
		ms = toMillis(since)
	}
	rows, err := db.sql.QueryContext(ctx, `
		SELECT id, name, started_at, heartbeat_at, watermark FROM nodes
		WHERE heartbeat_at >= ? ORDER BY name, id`, ms)
	if err != nil {
		return nil, fmt.Errorf("store: nodes: %w", err)
	}
	defer rows.Close()
	var out []access.Node
	for rows.Next() {
		var (
			n             access.Node
			started, beat int64
		)
		if err := rows.Scan(&n.ID, &n.Name, &started, &beat, &n.Watermark); err != nil {
			return nil, fmt.Errorf("store: nodes: %w", err)
		}
		n.StartedAt, n.HeartbeatAt = fromMillis(started), fromMillis(beat)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: nodes: %w", err)
	}
	return out, nil
}
