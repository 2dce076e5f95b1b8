package app

import (
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
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

// apiFailureLimit is the per-IP limit on failed API authentications,
// counted per node in memory.
func apiFailureLimit() *limit.Keyed { return limit.New(apiFailuresPerIP, apiFailureWindow) }

// countAPILimited counts an API call refused by the failure limit in
// gatehouse_rate_limited_total{limit="api-auth"}.
func (a *App) countAPILimited() {
	a.ops.metrics.CountAudit(access.Event{Kind: access.EventRateLimited, Detail: "api-auth limit reached"})
}
