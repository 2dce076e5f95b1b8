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
	AddSigningKey(ctx context.Context, k Key) error
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
		k, err := AddKey(ctx, o.Store, o.Now())
		if err != nil {
			return nil, err
		}
		o.Log.Info("created signing key", "kid", k.ID)
	}
	if err := m.Refresh(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Load returns the keyring in force.
func (m *Manager) Load() *Keyring { return m.ring.Load() }

// AddKey generates and stores a new signing key created at now.
func AddKey(ctx context.Context, s KeyStore, now time.Time) (Key, error) {
	k, err := NewKey(now)
	if err != nil {
		return Key{}, fmt.Errorf("token: new key: %w", err)
	}
	if err := s.AddSigningKey(ctx, k); err != nil {
		return Key{}, fmt.Errorf("token: new key: %w", err)
	}
	return k, nil
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
	k, err := AddKey(ctx, m.o.Store, now)
	if err != nil {
		return err
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
