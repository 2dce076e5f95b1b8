package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/token"
)

// adminStore adapts the store to admin.Store and admin.ServiceTokens: it
// copies the store's rows into admin's and turns store.ErrNotFound into
// admin.ErrNotFound.
type adminStore struct{ db revokingStore }

// Interface guards.
var (
	_ admin.Store         = adminStore{}
	_ admin.ServiceTokens = adminStore{}
)

// notFound translates the store's not-found error for admin.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", admin.ErrNotFound, err)
	}
	return err
}

func (s adminStore) Session(ctx context.Context, nonce string) (access.Session, error) {
	sess, err := s.db.Session(ctx, nonce)
	return sess, notFound(err)
}

func (s adminStore) SessionRevoked(nonce string) bool { return s.db.SessionRevoked(nonce) }

func (s adminStore) UserByEmail(ctx context.Context, email string) (admin.User, error) {
	u, err := s.db.UserByEmail(ctx, email)
	if err != nil {
		return admin.User{}, notFound(err)
	}
	return adminUser(u), nil
}

func adminUser(u store.User) admin.User {
	return admin.User{ID: u.ID, Email: u.Email, CreatedAt: u.CreatedAt, LastSignIn: u.LastSignIn, LastIdP: u.LastIdP}
}

func (s adminStore) UserSessions(ctx context.Context, userID string, now time.Time) ([]access.Session, error) {
	return s.db.UserSessions(ctx, userID, now)
}

func (s adminStore) ActiveSessions(ctx context.Context, now time.Time) ([]access.Session, error) {
	return s.db.ListSessions(ctx, true, now, 0)
}

func (s adminStore) UsersSince(ctx context.Context, since, now time.Time) ([]admin.UserSummary, error) {
	list, err := s.db.UsersSince(ctx, since, now)
	if err != nil {
		return nil, err
	}
	out := make([]admin.UserSummary, len(list))
	for i, u := range list {
		out[i] = admin.UserSummary{User: adminUser(u.User), ActiveSessions: u.ActiveSessions}
	}
	return out, nil
}

func (s adminStore) Counts(ctx context.Context, since, now time.Time) (admin.Counts, error) {
	c, err := s.db.AdminCounts(ctx, since, now)
	return admin.Counts(c), err
}

func (s adminStore) AppUsers(ctx context.Context, now time.Time) ([]admin.AppUser, error) {
	list, err := s.db.AppUsers(ctx, now)
	if err != nil {
		return nil, err
	}
	out := make([]admin.AppUser, len(list))
	for i, u := range list {
		out[i] = admin.AppUser(u)
	}
	return out, nil
}

func (s adminStore) SigningKeys(ctx context.Context) ([]token.Key, error) {
	return s.db.SigningKeys(ctx)
}

func (s adminStore) Audit(ctx context.Context, e access.Event) error { return s.db.Audit(ctx, e) }

func (s adminStore) AuditSearch(ctx context.Context, f admin.AuditFilter) ([]access.Event, bool, error) {
	return s.db.AuditSearch(ctx, store.AuditFilter(f))
}

func (s adminStore) AppRevocation(aud string) access.AppRevocation { return s.db.AppRevocation(aud) }

func (s adminStore) RevokeUser(ctx context.Context, email, by string, now time.Time) (int, error) {
	return s.db.RevokeUser(ctx, email, by, now)
}

func (s adminStore) RevokeApp(ctx context.Context, app, aud string, soft bool, by string, now time.Time) error {
	return s.db.RevokeApp(ctx, app, aud, soft, by, now)
}

func (s adminStore) RevokeSession(ctx context.Context, nonce, by string, now time.Time) error {
	return notFound(s.db.RevokeSessionBy(ctx, nonce, by, now))
}

func (s adminStore) CreateServiceToken(ctx context.Context, name string, d time.Duration, now time.Time) (string, string, error) {
	return s.db.CreateServiceToken(ctx, name, d, now)
}

func (s adminStore) ServiceTokens(ctx context.Context) ([]admin.ServiceToken, error) {
	list, err := s.db.ServiceTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.ServiceToken, len(list))
	for i, t := range list {
		out[i] = admin.ServiceToken(t)
	}
	return out, nil
}

func (s adminStore) DisableServiceToken(ctx context.Context, clientID string, now time.Time) error {
	return notFound(s.db.DisableServiceToken(ctx, clientID, now))
}

func (s adminStore) EnableServiceToken(ctx context.Context, clientID string, now time.Time) error {
	return notFound(s.db.EnableServiceToken(ctx, clientID, now))
}

func (s adminStore) DeleteServiceToken(ctx context.Context, clientID string) error {
	return notFound(s.db.DeleteServiceToken(ctx, clientID))
}
