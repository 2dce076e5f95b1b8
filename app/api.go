package app

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/limit"
)

// The admin API's wiring: the API token store behind admin.APITokens and
// the limit on failed authentications.

// apiFailuresPerIP failed API authentications are allowed per client IP
// each apiFailureWindow (a burst, refilled evenly).
const (
	apiFailuresPerIP = 20
	apiFailureWindow = time.Minute
)

// apiFailureLimit is the per-IP limit on failed API authentications.
func apiFailureLimit() *limit.Keyed { return limit.New(apiFailuresPerIP, apiFailureWindow) }

// countAPILimited counts an API call refused by the failure limit in
// gatehouse_rate_limited_total{limit="api-auth"}.
func (a *App) countAPILimited() {
	a.ops.metrics.CountAudit(access.Event{Kind: access.EventRateLimited, Detail: "api-auth limit reached"})
}

// Interface guard.
var _ admin.APITokens = adminStore{}

func (s adminStore) CreateAPIToken(ctx context.Context, name string, scopes []string, lifetime time.Duration, by string, now time.Time) (access.APIToken, string, error) {
	return s.db.CreateAPIToken(ctx, name, scopes, lifetime, by, now)
}

func (s adminStore) APITokens(ctx context.Context) ([]access.APIToken, error) {
	return s.db.APITokens(ctx)
}

func (s adminStore) APITokenByHash(ctx context.Context, hash [32]byte) (access.APIToken, error) {
	t, err := s.db.APITokenByHash(ctx, hash)
	return t, notFound(err)
}

func (s adminStore) TouchAPIToken(ctx context.Context, id string, now time.Time) error {
	return s.db.TouchAPIToken(ctx, id, now)
}

func (s adminStore) RevokeAPIToken(ctx context.Context, id string, now time.Time) error {
	return notFound(s.db.RevokeAPIToken(ctx, id, now))
}

func (s adminStore) DeleteAPIToken(ctx context.Context, id string) error {
	return notFound(s.db.DeleteAPIToken(ctx, id))
}
