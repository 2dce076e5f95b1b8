package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/token"
)

// rotationCheckInterval is how often the rotation schedule is checked.
const rotationCheckInterval = time.Hour

// keySchedule is the signing-key rotation schedule of cfg: keys.rotate_every,
// and the longest token lifetime, the global session or the longest app or
// policy session_duration.
func keySchedule(cfg *config.Config) token.Schedule {
	d := cfg.GlobalSession.Duration
	for _, a := range cfg.Apps {
		d = max(d, a.SessionDuration.Duration)
		for _, p := range a.Policies {
			d = max(d, p.SessionDuration.Duration)
		}
	}
	return token.Schedule{Every: cfg.Keys.RotateEvery.Duration, Lifetime: d}
}

// keyTimes lists the creation times of infos, in their order.
func keyTimes(infos []store.KeyInfo) []time.Time {
	out := make([]time.Time, len(infos))
	for i, k := range infos {
		out[i] = k.CreatedAt
	}
	return out
}

// refreshKeys brings the keyring in line with the database: keys added by
// another process join it (the newest signs), and previous keys whose
// tokens have all expired leave it and the database.
func (a *App) refreshKeys(ctx context.Context) error {
	a.ops.keysMu.Lock()
	defer a.ops.keysMu.Unlock()
	infos, err := a.db.SigningKeyIDs(ctx)
	if err != nil {
		return fmt.Errorf("app: refresh keys: %w", err)
	}
	if len(infos) == 0 {
		return fmt.Errorf("app: refresh keys: no signing keys in the database")
	}
	n := keySchedule(a.Config()).Published(keyTimes(infos), a.now())
	keep, drop := infos[:n], infos[n:]
	for _, k := range drop {
		if err := a.db.DeleteSigningKey(ctx, k.ID); err != nil {
			return fmt.Errorf("app: refresh keys: %w", err)
		}
		a.log.Info("signing key retired: every token it signed has expired", "kid", k.ID)
	}
	ids := make([]string, len(keep))
	for i, k := range keep {
		ids[i] = k.ID
	}
	set := strings.Join(ids, ",")
	if set == a.ops.keySet {
		return nil
	}
	all, err := a.db.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("app: refresh keys: %w", err)
	}
	wanted := make(map[string]bool, len(ids))
	for _, id := range ids {
		wanted[id] = true
	}
	var keys []token.Key
	for _, k := range all {
		if wanted[k.ID] {
			keys = append(keys, k)
		}
	}
	kr, err := token.NewKeyring(a.cfg.TeamURL(), keys)
	if err != nil {
		return fmt.Errorf("app: refresh keys: %w", err)
	}
	a.keys.Store(kr)
	if a.ops.keySet != "" {
		a.log.Info("signing keys changed", "signing", kr.CurrentKeyID(), "published", len(keys))
	}
	a.ops.keySet = set
	return nil
}

// RotateKey makes a new signing key, which signs from now on; the previous
// one stays published until its tokens have expired.
func (a *App) RotateKey(ctx context.Context) (token.Key, error) {
	k, err := addKey(ctx, a.db, a.now(), access.KeyRotationManual, "")
	if err != nil {
		return token.Key{}, err
	}
	a.log.Info("signing key rotated", "kid", k.ID)
	return k, a.refreshKeys(ctx)
}

// rotateIfDue makes a new key when the signing key is keys.rotate_every old.
func (a *App) rotateIfDue(ctx context.Context) error {
	sched := keySchedule(a.Config())
	if sched.Every <= 0 {
		return nil // rotation by hand only: no need to ask the database
	}
	infos, err := a.db.SigningKeyIDs(ctx)
	if err != nil {
		return fmt.Errorf("app: rotate: %w", err)
	}
	now := a.now()
	if !sched.Due(keyTimes(infos), now) {
		return nil
	}
	k, err := addKey(ctx, a.db, now, access.KeyRotationSchedule, "")
	if err != nil {
		return err
	}
	a.log.Info("signing key rotated on schedule", "kid", k.ID, "every", sched.Every)
	return a.refreshKeys(ctx)
}

// addKey generates and stores a new signing key created at now, and
// records the rotation (by trigger, on behalf of by) in the audit log,
// which the rotations metric counts whichever process rotated.
func addKey(ctx context.Context, db *store.DB, now time.Time, trigger, by string) (token.Key, error) {
	k, err := token.NewKey(now)
	if err != nil {
		return token.Key{}, fmt.Errorf("app: rotate: %w", err)
	}
	if err := db.AddSigningKey(ctx, k); err != nil {
		return token.Key{}, fmt.Errorf("app: rotate: %w", err)
	}
	e := access.Event{Time: now, Kind: access.EventKeyRotated, Email: by, Detail: access.KeyRotationDetail(trigger, k.ID)}
	if err := db.Audit(ctx, e); err != nil {
		return k, fmt.Errorf("app: rotate: key %s made, not audited: %w", k.ID, err)
	}
	return k, nil
}

// keyLoop runs the rotation schedule (at start, then hourly) and picks up
// keys other processes add (every token.KeyPollInterval) until ctx is done.
func (a *App) keyLoop(ctx context.Context) {
	if err := a.rotateIfDue(ctx); err != nil {
		a.log.Error("key rotation", "err", err)
	}
	poll := time.NewTicker(token.KeyPollInterval)
	defer poll.Stop()
	sched := time.NewTicker(rotationCheckInterval)
	defer sched.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sched.C:
			if err := a.rotateIfDue(ctx); err != nil {
				a.log.Error("key rotation", "err", err)
			}
		case <-poll.C:
			if err := a.refreshKeys(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("key refresh", "err", err)
			}
		}
	}
}
