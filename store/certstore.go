package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
)

// Lock timing of CertStorage.
const (
	// DefaultCertLockTTL is how long a lock outlives its last lease renewal:
	// the lock of a crashed holder goes stale after this.
	DefaultCertLockTTL = 2 * time.Minute
	// DefaultCertLockPoll is how often Lock retries a held lock.
	DefaultCertLockPoll = 250 * time.Millisecond
)

// CertStorage is certmagic.Storage on the Gatehouse database: certificates,
// keys and ACME accounts in the certmagic_data table, locks in
// certmagic_locks. Keys are slash-separated paths; a "directory" is any
// prefix of stored keys, ending at a '/'. Locks exclude every process that
// shares the database file; a held lock's lease is renewed in the background
// until Unlock, so only a crashed holder's lock goes stale.
type CertStorage struct {
	db *DB
	// LockTTL is the lease of a lock (DefaultCertLockTTL when zero).
	LockTTL time.Duration
	// LockPoll is the retry interval of Lock (DefaultCertLockPoll when zero).
	LockPoll time.Duration

	mu   sync.Mutex
	held map[string]*heldLock // lock name -> our lease
}

// heldLock is one lock this CertStorage holds.
type heldLock struct {
	owner string
	stop  chan struct{}
	done  chan struct{}
}

var _ certmagic.Storage = (*CertStorage)(nil)

// CertStorage returns the certmagic storage backed by db.
func (db *DB) CertStorage() *CertStorage {
	return &CertStorage{db: db, held: make(map[string]*heldLock)}
}

// dirRange returns the bounds of the keys strictly below the directory key:
// key+"/" <= k < key+"0" ('0' follows '/' in byte order). The root ("")
// covers every key. On PostgreSQL the key column compares bytes
// (COLLATE "C") as SQLite's does.
func dirRange(key string) (lo, hi string) {
	if key == "" {
		return "", "\U0010FFFF" // above every valid UTF-8 key
	}
	return key + "/", key + "0"
}

// normKey trims the slashes certmagic keys never carry.
func normKey(key string) string { return strings.Trim(key, "/") }

// Store puts value at key, replacing any previous value.
func (s *CertStorage) Store(ctx context.Context, key string, value []byte) error {
	key = normKey(key)
	if key == "" {
		return errors.New("store: cert store: empty key")
	}
	if value == nil {
		value = []byte{}
	}
	_, err := s.db.sql.ExecContext(ctx, `
		INSERT INTO certmagic_data (key, value, modified_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, modified_at = excluded.modified_at`,
		key, value, toMillis(time.Now()))
	if err != nil {
		return fmt.Errorf("store: cert store %s: %w", key, err)
	}
	return nil
}

// Load returns the value at key, or an error wrapping fs.ErrNotExist.
func (s *CertStorage) Load(ctx context.Context, key string) ([]byte, error) {
	key = normKey(key)
	var v []byte
	err := s.db.sql.QueryRowContext(ctx, `SELECT value FROM certmagic_data WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: cert load %s: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("store: cert load %s: %w", key, err)
	}
	return v, nil
}

// Delete removes key and, when key is a directory, every key below it. A
// missing key is not an error.
func (s *CertStorage) Delete(ctx context.Context, key string) error {
	key = normKey(key)
	lo, hi := dirRange(key)
	_, err := s.db.sql.ExecContext(ctx,
		`DELETE FROM certmagic_data WHERE key = ? OR (key >= ? AND key < ?)`, key, lo, hi)
	if err != nil {
		return fmt.Errorf("store: cert delete %s: %w", key, err)
	}
	return nil
}

// Exists reports whether key is a stored key or a directory of stored keys.
func (s *CertStorage) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// Stat describes key: a terminal key (with size and modification time) or a
// directory (IsTerminal false, Modified the newest below it). A missing key
// gives an error wrapping fs.ErrNotExist.
func (s *CertStorage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	key = normKey(key)
	var size, mod int64
	err := s.db.sql.QueryRowContext(ctx,
		`SELECT length(value), modified_at FROM certmagic_data WHERE key = ?`, key).Scan(&size, &mod)
	switch {
	case err == nil:
		return certmagic.KeyInfo{Key: key, Modified: fromMillis(mod), Size: size, IsTerminal: true}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return certmagic.KeyInfo{}, fmt.Errorf("store: cert stat %s: %w", key, err)
	}
	lo, hi := dirRange(key)
	var newest sql.NullInt64
	err = s.db.sql.QueryRowContext(ctx,
		`SELECT MAX(modified_at) FROM certmagic_data WHERE key >= ? AND key < ?`, lo, hi).Scan(&newest)
	if err != nil {
		return certmagic.KeyInfo{}, fmt.Errorf("store: cert stat %s: %w", key, err)
	}
	if !newest.Valid {
		return certmagic.KeyInfo{}, fmt.Errorf("store: cert stat %s: %w", key, fs.ErrNotExist)
	}
	return certmagic.KeyInfo{Key: key, Modified: fromMillis(newest.Int64)}, nil
}

// List returns the keys below the directory prefix, sorted. Not recursive:
// its direct children, files and directories alike. Recursive: every file
// and directory below it. A prefix with nothing below it gives an error
// wrapping fs.ErrNotExist, unless it is itself a file (then the list is
// empty).
func (s *CertStorage) List(ctx context.Context, prefix string, recursive bool) ([]string, error) {
	prefix = normKey(prefix)
	lo, hi := dirRange(prefix)
	rows, err := s.db.sql.QueryContext(ctx,
		`SELECT key FROM certmagic_data WHERE key >= ? AND key < ? ORDER BY key`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("store: cert list %s: %w", prefix, err)
	}
	defer rows.Close()
	seen := make(map[string]bool)
	var out []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: cert list %s: %w", prefix, err)
		}
		rel := strings.TrimPrefix(k, lo)
		parts := strings.Split(rel, "/")
		if !recursive {
			add(lo + parts[0])
			continue
		}
		for i := range parts {
			add(lo + strings.Join(parts[:i+1], "/"))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: cert list %s: %w", prefix, err)
	}
	if len(out) == 0 {
		if _, err := s.Load(ctx, prefix); err == nil && prefix != "" {
			return []string{}, nil
		}
		return nil, fmt.Errorf("store: cert list %s: %w", prefix, fs.ErrNotExist)
	}
	slices.Sort(out)
	return out, nil
}

func (s *CertStorage) ttl() time.Duration {
	if s.LockTTL > 0 {
		return s.LockTTL
	}
	return DefaultCertLockTTL
}

func (s *CertStorage) poll() time.Duration {
	if s.LockPoll > 0 {
		return s.LockPoll
	}
	return DefaultCertLockPoll
}

// TryLock takes the named lock if it is free or stale, and reports whether
// it did.
func (s *CertStorage) TryLock(ctx context.Context, name string) (bool, error) {
	owner, err := newLockOwner()
	if err != nil {
		return false, err
	}
	now := time.Now()
	var got bool
	err = s.db.withTx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM certmagic_locks WHERE name = ? AND expires_at <= ?`,
			name, toMillis(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO certmagic_locks (name, owner, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, owner, toMillis(now.Add(s.ttl())))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		got = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: cert lock %s: %w", name, err)
	}
	if got {
		s.startLease(name, owner)
	}
	return got, nil
}

// Lock blocks until it holds the named lock or ctx is done.
func (s *CertStorage) Lock(ctx context.Context, name string) error {
	for {
		ok, err := s.TryLock(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("store: cert lock %s: %w", name, ctx.Err())
			}
			return err
		}
		if ok {
			return nil
		}
		t := time.NewTimer(s.poll())
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("store: cert lock %s: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}

// Unlock releases a lock taken by Lock or TryLock of this CertStorage.
func (s *CertStorage) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("store: cert unlock %s: not held", name)
	}
	close(h.stop)
	<-h.done
	if _, err := s.db.sql.ExecContext(context.WithoutCancel(ctx),
		`DELETE FROM certmagic_locks WHERE name = ? AND owner = ?`, name, h.owner); err != nil {
		return fmt.Errorf("store: cert unlock %s: %w", name, err)
	}
	return nil
}

// startLease records a taken lock and renews its expiry every third of the
// TTL until Unlock.
func (s *CertStorage) startLease(name, owner string) {
	h := &heldLock{owner: owner, stop: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	s.held[name] = h
	s.mu.Unlock()
	ttl := s.ttl()
	go func() {
		defer close(h.done)
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
				// A failed renewal is retried at the next tick; the lease
				// still has two thirds of its time left.
				_, _ = s.db.sql.Exec(`UPDATE certmagic_locks SET expires_at = ? WHERE name = ? AND owner = ?`,
					toMillis(time.Now().Add(ttl)), name, owner)
			}
		}
	}()
}

func newLockOwner() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: cert lock owner: %w", err)
	}
	return hex.EncodeToString(b), nil
}
