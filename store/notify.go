package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// The notification channels of a PostgreSQL store, which wake the other
// nodes within milliseconds instead of at their next poll.
const (
	// ChannelRevocations carries the ID of every revocation-log entry,
	// notified in the transaction that writes it.
	ChannelRevocations = "gatehouse_revocations"
	// ChannelAcks carries the node ID of every heartbeat, which wakes the
	// revokes waiting for the nodes' watermarks.
	ChannelAcks = "gatehouse_acks"
	// ChannelKeys carries the kid of every signing key a rotation adds,
	// notified in the transaction that writes it, so that every node
	// signs with it at once.
	ChannelKeys = "gatehouse_keys"
)

// Reconnection backoff of Listen after a lost connection.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// notify sends payload on channel through x (inside a transaction, it is
// delivered at commit). A no-op on SQLite, where the other processes poll.
func (db *DB) notify(ctx context.Context, x conn, channel, payload string) error {
	if !db.pg {
		return nil
	}
	if _, err := x.ExecContext(ctx, `SELECT pg_notify(?, ?)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listen calls fn with the payload of every notification on channel until
// ctx ends, over a connection of its own; it calls fn("") after every
// (re)connection too, so that the caller catches up on what it may have
// missed while disconnected. A lost connection is retried with backoff
// (100 ms doubling to 5 s); the caller's poll covers the gap. On SQLite
// there is nothing to listen to: Listen returns nil at once, and the poll
// (and the acknowledgement socket) do the work.
func (db *DB) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	if !db.pg || db.pgcfg == nil {
		return nil
	}
	return listenPostgres(ctx, db.pgcfg.Copy(), channel, fn, db.log)
}

// listenPostgres is Listen on the PostgreSQL database of cfg.
func listenPostgres(ctx context.Context, cfg *pgx.ConnConfig, channel string, fn func(string), log *slog.Logger) error {
	backoff := listenBackoffMin
	for ctx.Err() == nil {
		start := time.Now()
		err := listenOnce(ctx, cfg, channel, fn)
		if ctx.Err() != nil {
			break
		}
		if time.Since(start) > listenBackoffMax {
			backoff = listenBackoffMin // it had been up: retry soon
		}
		log.Warn("store: notifications lost; polling until reconnected", "channel", channel,
			"retry_in", backoff, "err", redact(err, cfg.Password))
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
	return nil
}

// listenOnce connects, listens on channel and delivers notifications until
// the connection fails or ctx ends.
func listenOnce(ctx context.Context, cfg *pgx.ConnConfig, channel string, fn func(string)) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	fn("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
