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
	_ scim.Store         = (*store.DB)(nil)
	_ scim.Sessions      = scimSessions{}
	_ scim.TokenVerifier = (*admin.Authenticator)(nil)
)

// buildSCIM returns the SCIM service provider of the team domain; its
// bearer tokens are the admin API's tokens (scope scim), checked by the
// admin API's authenticator and its limit on failures.
func (a *App) buildSCIM(prot *proxy.Handler, tokens scim.TokenVerifier) (*scim.Handler, error) {
	h, err := scim.New(scim.Options{
		TeamURL:  a.cfg.TeamURL(),
		Store:    a.db,
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
