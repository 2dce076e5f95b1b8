package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// fakeStore is an in-memory Store and ServiceTokens.
type fakeStore struct {
	mu       sync.Mutex
	keys     []token.Key
	users    map[string]User // by lower-case email
	sessions []access.Session
	revoked  map[string]bool
	apps     map[string]access.AppRevocation // by audience
	events   []access.Event
	tokens   []ServiceToken
	secrets  map[string]string // client ID → secret
	unacked  []string          // nodes every revoke reports as not acknowledging
}

// ackErr is the revokes' answer: nil, or the nodes that did not acknowledge.
// f.mu is held.
func (f *fakeStore) ackErr() error {
	if f.unacked == nil {
		return nil
	}
	return &access.UnacknowledgedError{Nodes: f.unacked, Timeout: 15 * time.Second}
}

var (
	_ Store         = (*fakeStore)(nil)
	_ ServiceTokens = (*fakeStore)(nil)
)

func newFakeStore(keys ...token.Key) *fakeStore {
	return &fakeStore{keys: keys, users: map[string]User{}, revoked: map[string]bool{},
		apps: map[string]access.AppRevocation{}, secrets: map[string]string{}}
}

// signIn records a sign-in of email at now and returns the user.
func (f *fakeStore) signIn(email string, now time.Time) User {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.ToLower(email)
	u, ok := f.users[key]
	if !ok {
		u = User{ID: token.NewNonce(), Email: key, CreatedAt: now}
	}
	u.LastSignIn, u.LastIdP = now, "pin"
	f.users[key] = u
	return u
}

func (f *fakeStore) addSession(s access.Session) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions = append(f.sessions, s)
}

func (f *fakeStore) active(s access.Session, now time.Time) bool {
	return !f.revoked[s.Nonce] && s.Active(now)
}

// activeSessions counts the sessions active at now.
func (f *fakeStore) activeSessions(now time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.sessions {
		if f.active(s, now) {
			n++
		}
	}
	return n
}

// kind returns the recorded events of kind, newest first.
func (f *fakeStore) kind(kind string) []access.Event {
	events, _, _ := f.AuditSearch(context.Background(), AuditFilter{Kind: kind})
	return events
}

// checkToken reports whether id and secret name an active service token.
func (f *fakeStore) checkToken(id, secret string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		if t.ClientID == id {
			return f.secrets[id] == secret && t.State(now) == "active"
		}
	}
	return false
}

func (f *fakeStore) Session(_ context.Context, nonce string) (access.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sessions {
		if s.Nonce == nonce {
			if f.revoked[nonce] && s.RevokedAt.IsZero() {
				s.RevokedAt = time.Now()
			}
			return s, nil
		}
	}
	return access.Session{}, fmt.Errorf("fake: session %q: %w", nonce, ErrNotFound)
}

func (f *fakeStore) SessionRevoked(nonce string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revoked[nonce]
}

func (f *fakeStore) UserByEmail(_ context.Context, email string) (User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.users[strings.ToLower(strings.TrimSpace(email))]; ok {
		return u, nil
	}
	return User{}, fmt.Errorf("fake: user %q: %w", email, ErrNotFound)
}

func (f *fakeStore) UserSessions(_ context.Context, userID string, now time.Time) ([]access.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []access.Session
	for _, s := range slices.Backward(f.sessions) {
		if s.Identity.UserID == userID && f.active(s, now) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeStore) ActiveSessions(_ context.Context, now time.Time) ([]access.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []access.Session
	for _, s := range slices.Backward(f.sessions) {
		if f.active(s, now) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeStore) UsersSince(_ context.Context, since, now time.Time) ([]UserSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []UserSummary
	for _, u := range f.users {
		if u.LastSignIn.Before(since) {
			continue
		}
		row := UserSummary{User: u}
		for _, s := range f.sessions {
			if s.Identity.UserID == u.ID && f.active(s, now) {
				row.ActiveSessions++
			}
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b UserSummary) int { return strings.Compare(a.Email, b.Email) })
	return out, nil
}

func (f *fakeStore) AdminCounts(_ context.Context, since, now time.Time) (Counts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := Counts{Users: len(f.users)}
	for _, s := range f.sessions {
		if f.active(s, now) {
			c.ActiveSessions++
		}
	}
	return c, nil
}

func (f *fakeStore) AppUsers(context.Context, time.Time) ([]AppUser, error) { return nil, nil }

func (f *fakeStore) SigningKeys(context.Context) ([]token.Key, error) { return f.keys, nil }

func (f *fakeStore) Audit(_ context.Context, e access.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.ID = int64(len(f.events) + 1)
	f.events = append(f.events, e)
	return nil
}

func (f *fakeStore) AuditSearch(_ context.Context, flt AuditFilter) ([]access.Event, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if flt.Limit <= 0 {
		flt.Limit = 50
	}
	var out []access.Event
	for _, e := range slices.Backward(f.events) {
		if (flt.Kind == "" || e.Kind == flt.Kind) && (flt.Email == "" || strings.EqualFold(e.Email, flt.Email)) &&
			(flt.App == "" || e.App == flt.App) && (flt.Before <= 0 || e.ID < flt.Before) {
			out = append(out, e)
		}
	}
	more := len(out) > flt.Limit
	if more {
		out = out[:flt.Limit]
	}
	return out, more, nil
}

func (f *fakeStore) AppRevocation(aud string) access.AppRevocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.apps[aud]
}

func (f *fakeStore) RevokeUser(_ context.Context, email, _ string, now time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.sessions {
		if strings.EqualFold(s.Identity.Email, email) && f.active(s, now) {
			f.revoked[s.Nonce] = true
			n++
		}
	}
	return n, f.ackErr()
}

func (f *fakeStore) RevokeApp(_ context.Context, _, aud string, soft bool, _ string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rev := f.apps[aud]
	if soft {
		rev.Soft = now
	} else {
		rev.Hard = now
	}
	f.apps[aud] = rev
	return f.ackErr()
}

func (f *fakeStore) RevokeSession(_ context.Context, nonce, _ string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked[nonce] = true
	return f.ackErr()
}

func (f *fakeStore) CreateServiceToken(_ context.Context, name string, d time.Duration, now time.Time) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	id, secret := hex.EncodeToString(b[:16])+".access", hex.EncodeToString(b[16:])
	t := ServiceToken{ClientID: id, Name: name, CreatedAt: now}
	if d > 0 {
		t.ExpiresAt = now.Add(d)
	}
	f.tokens = append(f.tokens, t)
	f.secrets[id] = secret
	return id, secret, nil
}

func (f *fakeStore) ServiceTokens(context.Context) ([]ServiceToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tokens), nil
}

// change applies fn to the token with id.
func (f *fakeStore) change(id string, fn func(i int)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.tokens, func(t ServiceToken) bool { return t.ClientID == id })
	if i < 0 {
		return fmt.Errorf("fake: service token %q: %w", id, ErrNotFound)
	}
	fn(i)
	return nil
}

func (f *fakeStore) DisableServiceToken(_ context.Context, id string, now time.Time) error {
	return f.change(id, func(i int) {
		if f.tokens[i].DisabledAt.IsZero() {
			f.tokens[i].DisabledAt = now
		}
	})
}

func (f *fakeStore) EnableServiceToken(_ context.Context, id string, _ time.Time) error {
	return f.change(id, func(i int) { f.tokens[i].DisabledAt = time.Time{} })
}

func (f *fakeStore) DeleteServiceToken(_ context.Context, id string) error {
	return f.change(id, func(i int) { f.tokens = slices.Delete(f.tokens, i, i+1) })
}
