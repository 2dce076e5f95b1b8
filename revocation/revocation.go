// Package revocation enforces revocations: it keeps in memory the index the
// proxy and the team domain check on every request (the revoked global
// sessions and the latest hard and soft revocation of every app), tells
// subscribers about every revocation it applies, and follows the durable
// revocation log of a Source (the store) for the revocations written by
// other processes, such as `gatehouse revoke`.
//
// The store writes a revocation and returns the log entry; the caller
// applies it here (Engine.Apply) before it answers, so that a revocation is
// enforced, and its subscribers told, by the time the revoking call returns.
package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Source is the durable revocation log a store backend keeps. SQLite
// implements it by polling (Engine.Watch); a backend with notifications
// (PostgreSQL LISTEN/NOTIFY) can implement it the same way and call
// Engine.Poll when notified.
type Source interface {
	// LoadRevoked reads the revocations in force at now. It calls session
	// with the nonce of every revoked global session that is unexpired at
	// now (expired ones are refused anyway); nonce is valid only during the
	// call, so that loading a million of them allocates no strings. It
	// returns the latest hard and soft revocation of every revoked app, and
	// the ID of the newest log entry at or before the moment it started
	// reading, from which RevocationsSince follows the log.
	LoadRevoked(ctx context.Context, now time.Time, session func(nonce []byte)) (apps map[string]access.AppRevocation, lastID int64, err error)
	// RevocationsSince returns the log entries with an ID above afterID,
	// oldest first, each with the Nonces of the sessions it ended. IDs must
	// become visible in increasing order: no entry may appear later with an
	// ID below one already returned (SQLite's single writer guarantees it;
	// a PostgreSQL source must serialize its writers or order by commit).
	RevocationsSince(ctx context.Context, afterID int64) ([]access.Revocation, error)
}

// Engine is the in-memory revocation index over a Source. Its checks are
// reads from memory (a binary search in the revocations loaded at start-up,
// a map read for those applied since) under a read lock; it is safe for
// concurrent use. An engine made by Open answers its first checks only
// once the revocations in force are loaded: until then every check waits,
// so that no revoked session passes while the index fills.
type Engine struct {
	src Source
	log *slog.Logger

	loaded  chan struct{} // closed once the start-up load has ended
	loadErr error         // why it failed (set before loaded is closed): every session is then refused

	mu       sync.RWMutex
	base     sortedKeys                      // nonces of revoked, unexpired global sessions at start-up
	revoked  map[nonceKey]struct{}           // nonces revoked since
	apps     map[string]access.AppRevocation // app audience -> latest revocations
	lastID   int64                           // newest log entry applied or skipped
	localIDs map[int64]struct{}              // entries applied by Apply, not yet seen in the log
	subs     []func(access.Revocation)

	pollMu sync.Mutex // serializes Poll
}

// New loads from src the revocations in force at now and returns the
// engine enforcing them. log receives the watcher's errors (nil: discard).
func New(ctx context.Context, src Source, now time.Time, log *slog.Logger) (*Engine, error) {
	e := emptyEngine(src, log)
	e.load(ctx, now)
	if e.loadErr != nil {
		return nil, e.loadErr
	}
	return e, nil
}

// Open returns at once the engine over src and loads the revocations in
// force at now in the background, so that a process with a million revoked
// sessions starts answering (its team domain's keys, health checks) at
// once. Until the load has ended, SessionRevoked and AppRevocation wait for
// it; when it fails, the error is logged and every session is refused.
func Open(ctx context.Context, src Source, now time.Time, log *slog.Logger) *Engine {
	e := emptyEngine(src, log)
	go func() {
		start := time.Now()
		e.load(context.WithoutCancel(ctx), now)
		if e.loadErr != nil {
			e.log.Error("revocation: loading the revocations failed; refusing every session", "err", e.loadErr)
			return
		}
		e.log.Debug("revocation: loaded", "sessions", len(e.base), "took", time.Since(start))
	}()
	return e
}

func emptyEngine(src Source, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{
		src:      src,
		log:      log,
		loaded:   make(chan struct{}),
		revoked:  make(map[nonceKey]struct{}),
		apps:     make(map[string]access.AppRevocation),
		localIDs: make(map[int64]struct{}),
	}
}

// errLoading refuses every session when the start-up load failed.
var errLoading = errors.New("revocation: load")

// load reads the revocations in force at now into the index, merging what
// Apply added meanwhile, and closes e.loaded.
func (e *Engine) load(ctx context.Context, now time.Time) {
	defer close(e.loaded)
	var keys []nonceKey
	apps, last, err := e.src.LoadRevoked(ctx, now, func(nonce []byte) { keys = append(keys, keyOf(nonce)) })
	if err != nil {
		e.loadErr = fmt.Errorf("%w: %w", errLoading, err)
		return
	}
	base := buildSorted(keys)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.base = base
	for aud, rev := range apps {
		cur := e.apps[aud]
		if rev.Hard.After(cur.Hard) {
			cur.Hard = rev.Hard
		}
		if rev.Soft.After(cur.Soft) {
			cur.Soft = rev.Soft
		}
		e.apps[aud] = cur
	}
	e.lastID = last
	for id := range e.localIDs {
		if id <= last {
			delete(e.localIDs, id) // in the log the load read
		}
	}
}

// Loaded is closed once the start-up load has ended (at once for an
// engine made by New).
func (e *Engine) Loaded() <-chan struct{} { return e.loaded }

// LoadErr is why the start-up load failed, nil when it has not (or has not
// ended yet).
func (e *Engine) LoadErr() error {
	select {
	case <-e.loaded:
		return e.loadErr
	default:
		return nil
	}
}

// Watermark is the ID of the newest log entry read from the Source (by the
// start-up load or Poll): every entry up to it is enforced here. It is what
// this node acknowledges in its heartbeat; 0 until the load has ended.
func (e *Engine) Watermark() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.lastID
}

// SessionRevoked reports, from memory, whether the global session with
// nonce has been revoked. It waits for the start-up load.
func (e *Engine) SessionRevoked(nonce string) bool {
	<-e.loaded
	if e.loadErr != nil {
		return true
	}
	k := keyOf(nonce)
	if e.base.has(k) {
		return true
	}
	e.mu.RLock()
	_, ok := e.revoked[k]
	e.mu.RUnlock()
	return ok
}

// AppRevocation returns, from memory in O(1), the latest hard and soft
// revocation of the app with audience aud (zero when never revoked);
// access.AppRevocation applies the same-second rule to it.
func (e *Engine) AppRevocation(aud string) access.AppRevocation {
	<-e.loaded
	if e.loadErr != nil {
		// Refuse every token: a revocation after any issue time.
		return access.AppRevocation{Hard: time.Unix(1<<40, 0)}
	}
	e.mu.RLock()
	rev := e.apps[aud]
	e.mu.RUnlock()
	return rev
}

// AppTokenRevoked reports, from memory in O(1), whether an app token for aud
// issued at iat (Unix seconds) is refused by a hard or a soft revocation of
// the app.
func (e *Engine) AppTokenRevoked(aud string, iat int64) (hard, soft bool) {
	return e.AppRevocation(aud).Refuses(iat)
}

// Subscribe registers fn to be called after every revocation applied to the
// index, whether by Apply or from the log by Poll. fn runs on the applying
// goroutine and must not block for long.
func (e *Engine) Subscribe(fn func(r access.Revocation)) {
	e.mu.Lock()
	e.subs = append(e.subs, fn)
	e.mu.Unlock()
}

// Apply enforces r, a log entry this process has just written, and tells the
// subscribers. Every entry is applied once: an entry Poll has already
// applied is ignored, and Poll skips the entries Apply has applied. An entry
// with ID 0 (nothing was recorded, such as revoking a revoked session) is
// ignored.
func (e *Engine) Apply(r access.Revocation) {
	if r.ID == 0 {
		return
	}
	e.mu.Lock()
	if _, dup := e.localIDs[r.ID]; dup || r.ID <= e.lastID {
		e.mu.Unlock() // already applied, here or by Poll
		return
	}
	e.localIDs[r.ID] = struct{}{}
	subs := e.indexLocked(r)
	e.mu.Unlock()
	notify(subs, r)
}

// Poll applies once the log entries written since the last one applied,
// except those Apply has applied; Watch calls it on every tick.
func (e *Engine) Poll(ctx context.Context) error {
	select {
	case <-e.loaded:
	case <-ctx.Done():
		return ctx.Err()
	}
	if e.loadErr != nil {
		return e.loadErr
	}
	e.pollMu.Lock()
	defer e.pollMu.Unlock()
	e.mu.RLock()
	last := e.lastID
	e.mu.RUnlock()
	revs, err := e.src.RevocationsSince(ctx, last)
	if err != nil {
		return fmt.Errorf("revocation: poll: %w", err)
	}
	for _, r := range revs {
		e.mu.Lock()
		if r.ID <= e.lastID {
			e.mu.Unlock()
			continue
		}
		e.lastID = r.ID
		_, local := e.localIDs[r.ID]
		delete(e.localIDs, r.ID)
		var subs []func(access.Revocation)
		if !local {
			subs = e.indexLocked(r)
		}
		e.mu.Unlock()
		if !local {
			notify(subs, r)
		}
	}
	return nil
}

// Watch polls the Source every interval until ctx ends, applying the
// revocations written by other processes.
func (e *Engine) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.Poll(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("poll revocations", "err", err)
			}
		}
	}
}

// indexLocked adds r to the index and returns the subscribers to tell.
// e.mu is held.
func (e *Engine) indexLocked(r access.Revocation) []func(access.Revocation) {
	for _, n := range r.Nonces {
		e.revoked[keyOf(n)] = struct{}{}
	}
	switch r.Kind {
	case access.RevocationApp:
		if rev := e.apps[r.Subject]; r.At.After(rev.Hard) {
			rev.Hard = r.At
			e.apps[r.Subject] = rev
		}
	case access.RevocationAppSoft:
		if rev := e.apps[r.Subject]; r.At.After(rev.Soft) {
			rev.Soft = r.At
			e.apps[r.Subject] = rev
		}
	}
	return e.subs
}

// notify calls the subscribers with r.
func notify(subs []func(access.Revocation), r access.Revocation) {
	for _, fn := range subs {
		fn(r)
	}
}
