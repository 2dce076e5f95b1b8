package token

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// rotationCheckInterval is how often Run checks the rotation schedule.
const rotationCheckInterval = time.Hour

// KeyStore is where the signing keys live, shared by every process on the
// database.
type KeyStore interface {
	SigningKeys(ctx context.Context) ([]Key, error)
	// SigningKeyIDs lists the keys without their private part, newest
	// first; cheap enough to poll.
	SigningKeyIDs(ctx context.Context) ([]access.KeyInfo, error)
	// AddSigningKeyAfter stores k only while the newest key is still the
	// one with kid newest ("" for none), checked and written at once, and
	// reports whether it did: of the processes or nodes that rotate from
	// the same newest key at once, one adds its key.
	AddSigningKeyAfter(ctx context.Context, k Key, newest string) (bool, error)
	DeleteSigningKey(ctx context.Context, kid string) error
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	Issuer   string          // the team URL, the tokens' iss
	Store    KeyStore        // the keys
	Schedule func() Schedule // the rotation schedule in force (it may change on reload)
	Log      *slog.Logger
	Now      func() time.Time
	// OnRotate, when set, is told of every key this process makes, with
	// the reason: "manual" or "schedule" (access.KeyRotationManual,
	// KeyRotationSchedule); its error is the rotation's.
	OnRotate func(ctx context.Context, k Key, reason string) error
}

// Manager keeps the keyring in line with the store: it creates the first
// key, rotates on schedule or on demand, picks up the keys other processes
// add and retires the keys whose tokens have all expired.
type Manager struct {
	o    ManagerOptions
	ring atomic.Pointer[Keyring]

	mu  sync.Mutex // one refresh at a time
	set string     // kids in the keyring, newest first, comma-joined
}

// NewManager loads the keys of o.Store, creating the first one on first
// start, and prunes the ones no token needs any more.
func NewManager(ctx context.Context, o ManagerOptions) (*Manager, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{o: o}
	infos, err := o.Store.SigningKeyIDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: load keys: %w", err)
	}
	if len(infos) == 0 {
		// Nodes starting on an empty database at once: one creates it.
		k, added, err := addKeyAfter(ctx, o.Store, "", o.Now())
		if err != nil {
			return nil, err
		}
		if added {
			o.Log.Info("created signing key", "kid", k.ID)
		}
	}
	if err := m.Refresh(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Load returns the keyring in force.
func (m *Manager) Load() *Keyring { return m.ring.Load() }

// addKeyTries bounds how often AddKey retries when other processes keep
// rotating under it.
const addKeyTries = 5

// AddKey generates and stores a new signing key created at now, which
// becomes the newest whatever other processes rotate at the same moment.
func AddKey(ctx context.Context, s KeyStore, now time.Time) (Key, error) {
	for range addKeyTries {
		infos, err := s.SigningKeyIDs(ctx)
		if err != nil {
			return Key{}, fmt.Errorf("token: new key: %w", err)
		}
		newest := ""
		if len(infos) > 0 {
			newest = infos[0].ID
		}
		k, added, err := addKeyAfter(ctx, s, newest, now)
		if err != nil || added {
			return k, err
		}
	}
	return Key{}, fmt.Errorf("token: new key: the newest key kept changing under %d tries", addKeyTries)
}

// addKeyAfter generates a key created at now and stores it if the newest
// key is still newest; false when another process rotated first.
func addKeyAfter(ctx context.Context, s KeyStore, newest string, now time.Time) (Key, bool, error) {
	k, err := NewKey(now)
	if err != nil {
		return Key{}, false, fmt.Errorf("token: new key: %w", err)
	}
	added, err := s.AddSigningKeyAfter(ctx, k, newest)
	if err != nil {
		return Key{}, false, fmt.Errorf("token: new key: %w", err)
	}
	return k, added, nil
}

// Refresh brings the keyring in line with the store: keys added by another
// process join it (the newest signs), and previous keys whose tokens have
// all expired leave it and the store.
func (m *Manager) Refresh(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	infos, err := m.o.Store.SigningKeyIDs(ctx)
	if err != nil {
		return fmt.Errorf("token: refresh keys: %w", err)
	}
	if len(infos) == 0 {
		return fmt.Errorf("token: refresh keys: no signing keys in the database")
	}
	n := m.o.Schedule().Published(keyTimes(infos), m.o.Now())
	keep, drop := infos[:n], infos[n:]
	for _, k := range drop {
		if err := m.o.Store.DeleteSigningKey(ctx, k.ID); err != nil {
			return fmt.Errorf("token: refresh keys: %w", err)
		}
		m.o.Log.Info("signing key retired: every token it signed has expired", "kid", k.ID)
	}
	wanted := make(map[string]bool, len(keep))
	ids := make([]string, len(keep))
	for i, k := range keep {
		ids[i] = k.ID
		wanted[k.ID] = true
	}
	set := strings.Join(ids, ",")
	if set == m.set {
		return nil
	}
	all, err := m.o.Store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: refresh keys: %w", err)
	}
	var keys []Key
	for _, k := range all {
		if wanted[k.ID] {
			keys = append(keys, k)
		}
	}
	kr, err := NewKeyring(m.o.Issuer, keys)
	if err != nil {
		return fmt.Errorf("token: refresh keys: %w", err)
	}
	m.ring.Store(kr)
	if m.set != "" {
		m.o.Log.Info("signing keys changed", "signing", kr.CurrentKeyID(), "published", len(keys))
	}
	m.set = set
	return nil
}

// Rotate makes a new signing key, which signs from now on; the previous
// one stays published until its tokens have expired.
func (m *Manager) Rotate(ctx context.Context) (Key, error) {
	k, err := AddKey(ctx, m.o.Store, m.o.Now())
	if err != nil {
		return Key{}, err
	}
	if err := m.rotated(ctx, k, access.KeyRotationManual); err != nil {
		return k, err
	}
	return k, m.Refresh(ctx)
}

// RotateIfDue makes a new key when the signing key is Schedule.Every old.
func (m *Manager) RotateIfDue(ctx context.Context) error {
	sched := m.o.Schedule()
	if sched.Every <= 0 {
		return nil // rotation by hand only: no need to ask the store
	}
	infos, err := m.o.Store.SigningKeyIDs(ctx)
	if err != nil {
		return fmt.Errorf("token: rotate: %w", err)
	}
	now := m.o.Now()
	if !sched.Due(keyTimes(infos), now) {
		return nil
	}
	newest := ""
	if len(infos) > 0 {
		newest = infos[0].ID
	}
	k, added, err := addKeyAfter(ctx, m.o.Store, newest, now)
	if err != nil {
		return err
	}
	if !added {
		// Another node rotated first: sign with its key.
		return m.Refresh(ctx)
	}
	if err := m.rotated(ctx, k, access.KeyRotationSchedule); err != nil {
		return err
	}
	return m.Refresh(ctx)
}

func (m *Manager) rotated(ctx context.Context, k Key, reason string) error {
	m.o.Log.Info("signing key rotated", "kid", k.ID, "reason", reason)
	if m.o.OnRotate == nil {
		return nil
	}
	if err := m.o.OnRotate(ctx, k, reason); err != nil {
		return fmt.Errorf("token: rotate: %w", err)
	}
	return nil
}

// Run applies the rotation schedule (at once, then hourly) and picks up the
// keys other processes add (every KeyPollInterval) until ctx is done.
func (m *Manager) Run(ctx context.Context) {
	if err := m.RotateIfDue(ctx); err != nil {
		m.o.Log.Error("key rotation", "err", err)
	}
	poll := time.NewTicker(KeyPollInterval)
	defer poll.Stop()
	sched := time.NewTicker(rotationCheckInterval)
	defer sched.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sched.C:
			if err := m.RotateIfDue(ctx); err != nil {
				m.o.Log.Error("key rotation", "err", err)
			}
		case <-poll.C:
			if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
				m.o.Log.Error("key refresh", "err", err)
			}
		}
	}
}

// keyTimes lists the creation times of infos, in their order.
func keyTimes(infos []access.KeyInfo) []time.Time {
	out := make([]time.Time, len(infos))
	for i, k := range infos {
		out[i] = k.CreatedAt
	}
	return out
}
