package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/proxy"
	"github.com/gatehouse-dev/gatehouse/scim"
	"github.com/gatehouse-dev/gatehouse/store"
)

// Interface guards.
var (
	_ scim.Store         = scimStore{}
	_ scim.Sessions      = scimSessions{}
	_ scim.TokenVerifier = (*admin.Authenticator)(nil)
)

// buildSCIM returns the SCIM service provider of the team domain; its
// bearer tokens are the admin API's tokens (scope scim), checked by the
// admin API's authenticator and its limit on failures.
func (a *App) buildSCIM(prot *proxy.Handler, tokens scim.TokenVerifier) (*scim.Handler, error) {
	h, err := scim.New(scim.Options{
		TeamURL:  a.cfg.TeamURL(),
		Store:    scimStore{a.db},
		Sessions: scimSessions{db: a.revoking(), prot: prot, now: a.now},
		Tokens:   tokens,
		Log:      a.log,
		Now:      a.now,
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return h, nil
}

// Session returns the global session with nonce, its identity's groups as
// the SCIM directory has them for a provisioned user (access.WithDirectory):
// every reader of a session (the per-request policy check, silent refresh,
// the team domain) judges that identity.
func (s revokingStore) Session(ctx context.Context, nonce string) (access.Session, error) {
	sess, err := s.DB.Session(ctx, nonce)
	if err != nil {
		return sess, err
	}
	d, err := s.SCIMDirectoryOf(ctx, sess.Identity.Email)
	if err != nil {
		return access.Session{}, err
	}
	sess.Identity = sess.Identity.WithDirectory(d)
	return sess, nil
}

// signInAllowed refuses the sign-in of a user whom SCIM knows as inactive.
func signInAllowed(ctx context.Context, db *store.DB, email string) error {
	d, err := db.SCIMDirectoryOf(ctx, email)
	if err != nil {
		return err
	}
	if d.Known && !d.Active {
		return fmt.Errorf("app: sign in %s: %w", email, access.ErrUserDeactivated)
	}
	return nil
}

// scimSessions carries out SCIM's effects on sessions.
type scimSessions struct {
	db   revokingStore
	prot *proxy.Handler
	now  func() time.Time
}

// RevokeUser revokes every session of email through the admin page's path
// (the revocation engine, which cancels the requests in flight); a user who
// never signed in has none.
func (s scimSessions) RevokeUser(ctx context.Context, email, by string, now time.Time) (int, error) {
	n, err := s.db.RevokeUser(ctx, email, by, now)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return n, err
}

// Refresh drops the proxy's remembered identities of the users' sessions,
// so that their next request is judged by their groups as they are now.
func (s scimSessions) Refresh(ctx context.Context, emails ...string) {
	now := s.now()
	for _, email := range emails {
		u, err := s.db.UserByEmail(ctx, email)
		if err != nil {
			continue // never signed in: no session
		}
		sessions, err := s.db.UserSessions(ctx, u.ID, now)
		if err != nil {
			continue
		}
		nonces := make([]string, len(sessions))
		for i, sess := range sessions {
			nonces[i] = sess.Nonce
		}
		s.prot.ForgetIdentities(nonces...)
	}
}

// scimStore adapts the store to scim.Store.
type scimStore struct{ db *store.DB }

// scimErr translates the store's errors for scim.
func scimErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", scim.ErrNotFound, err)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %w", scim.ErrConflict, err)
	}
	return err
}

func (s scimStore) CreateUser(ctx context.Context, u scim.User, now time.Time) (scim.User, error) {
	out, err := s.db.CreateSCIMUser(ctx, store.SCIMUser(u), now)
	return scim.User(out), scimErr(err)
}

func (s scimStore) User(ctx context.Context, id string) (scim.User, error) {
	u, err := s.db.SCIMUser(ctx, id)
	return scim.User(u), scimErr(err)
}

func (s scimStore) Users(ctx context.Context, f scim.Filter, offset, limit int) ([]scim.User, int, error) {
	list, total, err := s.db.SCIMUsers(ctx, store.SCIMFilter(f), offset, limit)
	out := make([]scim.User, len(list))
	for i, u := range list {
		out[i] = scim.User(u)
	}
	return out, total, err
}

func (s scimStore) UpdateUser(ctx context.Context, id string, now time.Time, fn func(*scim.User) error) (scim.User, scim.User, error) {
	before, after, err := s.db.UpdateSCIMUser(ctx, id, now, func(u *store.SCIMUser) error {
		su := scim.User(*u)
		if err := fn(&su); err != nil {
			return err
		}
		*u = store.SCIMUser(su)
		return nil
	})
	return scim.User(before), scim.User(after), scimErr(err)
}

func (s scimStore) DeleteUser(ctx context.Context, id string, now time.Time) (scim.User, error) {
	u, err := s.db.DeleteSCIMUser(ctx, id, now)
	return scim.User(u), scimErr(err)
}

func toSCIMGroup(g store.SCIMGroup) scim.Group {
	out := scim.Group{ID: g.ID, DisplayName: g.DisplayName, ExternalID: g.ExternalID, Created: g.Created, Updated: g.Updated}
	for _, m := range g.Members {
		out.Members = append(out.Members, scim.Member(m))
	}
	return out
}

func fromSCIMGroup(g scim.Group) store.SCIMGroup {
	out := store.SCIMGroup{ID: g.ID, DisplayName: g.DisplayName, ExternalID: g.ExternalID, Created: g.Created, Updated: g.Updated}
	for _, m := range g.Members {
		out.Members = append(out.Members, store.SCIMMember(m))
	}
	return out
}

func (s scimStore) CreateGroup(ctx context.Context, g scim.Group, now time.Time) (scim.Group, error) {
	out, err := s.db.CreateSCIMGroup(ctx, fromSCIMGroup(g), now)
	return toSCIMGroup(out), scimErr(err)
}

func (s scimStore) Group(ctx context.Context, id string) (scim.Group, error) {
	g, err := s.db.SCIMGroup(ctx, id)
	return toSCIMGroup(g), scimErr(err)
}

func (s scimStore) Groups(ctx context.Context, f scim.Filter, offset, limit int) ([]scim.Group, int, error) {
	list, total, err := s.db.SCIMGroups(ctx, store.SCIMFilter(f), offset, limit)
	out := make([]scim.Group, len(list))
	for i, g := range list {
		out[i] = toSCIMGroup(g)
	}
	return out, total, err
}

func (s scimStore) UpdateGroup(ctx context.Context, id string, now time.Time, fn func(*scim.Group) error) (scim.Group, scim.Group, error) {
	before, after, err := s.db.UpdateSCIMGroup(ctx, id, now, func(g *store.SCIMGroup) error {
		sg := toSCIMGroup(*g)
		if err := fn(&sg); err != nil {
			return err
		}
		*g = fromSCIMGroup(sg)
		return nil
	})
	return toSCIMGroup(before), toSCIMGroup(after), scimErr(err)
}

func (s scimStore) DeleteGroup(ctx context.Context, id string) (scim.Group, error) {
	g, err := s.db.DeleteSCIMGroup(ctx, id)
	return toSCIMGroup(g), scimErr(err)
}

func (s scimStore) Audit(ctx context.Context, e access.Event) error { return s.db.Audit(ctx, e) }
