package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/token"
)

const (
	// keyPollInterval is how often a serving process looks for keys added
	// by `gatehouse keys rotate` (a cheap query of kids only).
	keyPollInterval = 5 * time.Second
	// rotationCheckInterval is how often the rotation schedule is checked.
	rotationCheckInterval = time.Hour
	// retireGrace is added to a previous key's publication: the time other
	// processes may still sign with it before they notice its successor,
	// and the clock skew tokens are verified with.
	retireGrace = 2*keyPollInterval + token.MaxSkew
)

// maxTokenLifetime is the longest any token signed now may live: the
// global session or the longest app or policy session_duration.
func maxTokenLifetime(cfg *config.Config) time.Duration {
	d := cfg.GlobalSession.Duration
	for _, a := range cfg.Apps {
		d = max(d, a.SessionDuration.Duration)
		for _, p := range a.Policies {
			d = max(d, p.SessionDuration.Duration)
		}
	}
	return d
}

// keyPublishedUntil returns when keys[i] (newest first) stops being
// published: the zero time for the signing key, else its successor's
// creation plus the longest token lifetime and retireGrace.
func keyPublishedUntil(keys []store.KeyInfo, i int, lifetime time.Duration) time.Time {
	if i == 0 {
		return time.Time{}
	}
	return keys[i-1].CreatedAt.Add(lifetime + retireGrace)
}

// splitKeys divides keys (newest first) into those still published at now
// and those whose every token has expired.
func splitKeys(keys []store.KeyInfo, now time.Time, lifetime time.Duration) (keep, drop []store.KeyInfo) {
	for i, k := range keys {
		if i == 0 || now.Before(keyPublishedUntil(keys, i, lifetime)) {
			keep = append(keep, k)
		} else {
			drop = append(drop, k)
		}
	}
	return keep, drop
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
	keep, drop := splitKeys(infos, a.now(), maxTokenLifetime(a.Config()))
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
	k, err := addKey(ctx, a.db, a.now())
	if err != nil {
		return token.Key{}, err
	}
	a.ops.metrics.KeyRotated("manual")
	a.log.Info("signing key rotated", "kid", k.ID)
	return k, a.refreshKeys(ctx)
}

// rotateIfDue makes a new key when the signing key is keys.rotate_every old.
func (a *App) rotateIfDue(ctx context.Context) error {
	every := a.Config().Keys.RotateEvery.Duration
	if every <= 0 {
		return nil
	}
	infos, err := a.db.SigningKeyIDs(ctx)
	if err != nil {
		return fmt.Errorf("app: rotate: %w", err)
	}
	now := a.now()
	if len(infos) > 0 && now.Sub(infos[0].CreatedAt) < every {
		return nil
	}
	k, err := addKey(ctx, a.db, now)
	if err != nil {
		return err
	}
	a.ops.metrics.KeyRotated("schedule")
	a.log.Info("signing key rotated on schedule", "kid", k.ID, "every", every)
	return a.refreshKeys(ctx)
}

// addKey generates and stores a new signing key created at now.
func addKey(ctx context.Context, db *store.DB, now time.Time) (token.Key, error) {
	k, err := token.NewKey(now)
	if err != nil {
		return token.Key{}, fmt.Errorf("app: rotate: %w", err)
	}
	if err := db.AddSigningKey(ctx, k); err != nil {
		return token.Key{}, fmt.Errorf("app: rotate: %w", err)
	}
	return k, nil
}

// keyLoop runs the rotation schedule (at start, then hourly) and picks up
// keys other processes add (every keyPollInterval) until ctx is done.
func (a *App) keyLoop(ctx context.Context) {
	if err := a.rotateIfDue(ctx); err != nil {
		a.log.Error("key rotation", "err", err)
	}
	poll := time.NewTicker(keyPollInterval)
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
