package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// limitTimeout bounds one database round of a Limit, whose callers pass no
// context.
const limitTimeout = 5 * time.Second

// limitFailWait is the wait a Limit reports when the database fails: a
// limit that cannot count refuses.
const limitFailWait = time.Minute

// Limit allows n events per window for each key, as a token bucket (a
// burst of n, refilled evenly over window) like limit.Keyed, but counted in
// the database, so that every node counts against the same buckets. Each
// key's bucket is one row holding its theoretical arrival time (GCRA); the
// row is purged once the bucket is full again. Keys (e-mail addresses) are
// kept as their SHA-256. A failing database refuses the event.
type Limit struct {
	db       *DB
	name     string
	window   int64 // ms
	interval int64 // ms: window / n, the refill time of one event
}

// Limit returns the shared limit called name (one of each name per
// database) of n events per window for each key.
func (db *DB) Limit(name string, n int, window time.Duration) *Limit {
	n = max(n, 1)
	w := max(window.Milliseconds(), 1)
	return &Limit{db: db, name: name, window: w, interval: max(w/int64(n), 1)}
}

// Take counts one event for key at now. It reports whether the event is
// within the limit and, when it is not, how long until it would be.
func (l *Limit) Take(key string, now time.Time) (bool, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limitTimeout)
	defer cancel()
	ms := toMillis(now)
	var (
		ok   bool
		wait time.Duration
	)
	err := l.db.withTx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM limit_counters WHERE tat_ms <= ?`, ms); err != nil {
			return err
		}
		tat, err := l.scanTat(tx.QueryRowContext(ctx, tatQuery, l.name, hashNonce(key)))
		if err != nil {
			return err
		}
		var next int64
		if ok, wait, next = l.judge(tat, ms); !ok {
			return nil
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO limit_counters (name, key_hash, tat_ms) VALUES (?, ?, ?)
			ON CONFLICT (name, key_hash) DO UPDATE SET tat_ms = excluded.tat_ms`,
			l.name, hashNonce(key), next)
		return err
	})
	if err != nil {
		l.db.log.Error("store: limit take", "limit", l.name, "err", err)
		return false, limitFailWait
	}
	return ok, wait
}

// Allowed reports, without counting anything, whether one more event for
// key is within the limit at now and, when not, how long until it is.
func (l *Limit) Allowed(key string, now time.Time) (bool, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limitTimeout)
	defer cancel()
	tat, err := l.scanTat(l.db.sql.QueryRowContext(ctx, tatQuery, l.name, hashNonce(key)))
	if err != nil {
		l.db.log.Error("store: limit allowed", "limit", l.name, "err", err)
		return false, limitFailWait
	}
	ok, wait, _ := l.judge(tat, toMillis(now))
	return ok, wait
}

// tatQuery reads a key's theoretical arrival time (name, key hash).
const tatQuery = `SELECT tat_ms FROM limit_counters WHERE name = ? AND key_hash = ?`

// scanTat reads the theoretical arrival time of tatQuery's row (0: none).
func (l *Limit) scanTat(r row) (int64, error) {
	var tat int64
	err := r.Scan(&tat)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: limit %s: %w", l.name, err)
	}
	return tat, nil
}

// judge decides one more event at now (ms) for a bucket whose theoretical
// arrival time is tat: whether it is within the limit, else the wait, and
// the bucket's next arrival time when it is.
func (l *Limit) judge(tat, now int64) (bool, time.Duration, int64) {
	next := max(tat, now) + l.interval
	if over := next - now - l.window; over > 0 {
		return false, ceilSecond(time.Duration(over) * time.Millisecond), 0
	}
	return true, 0, next
}

// ceilSecond rounds d up to a whole second (Retry-After has seconds).
func ceilSecond(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}
