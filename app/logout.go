package app

import (
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/idp"
	"github.com/gatehouse-dev/gatehouse/login"
	"github.com/gatehouse-dev/gatehouse/store"
)

// backchannelPerIP bounds the back-channel logout requests of one client
// IP per minute (an identity provider ending many sessions at once stays
// well below it).
const backchannelPerIP = 300

// Interface guards: the store with the revocation engine in front keeps
// the providers' sessions for logout, and the store remembers logout token
// ids.
var (
	_ login.IdPSessionStore = revokingStore{}
	_ idp.LogoutTokenCache  = (*store.DB)(nil)
)

// oidcLogout sets the logout settings of the OIDC provider p on its
// connector config c and its sign-in provider lp, and logs the URIs to
// register at the provider.
func (a *App) oidcLogout(p config.IdPConfig, c *idp.OIDCConfig, lp *login.Provider) {
	lp.BackchannelLogout, lp.LogoutAtIdP = p.BackchannelLogout, p.LogoutAtIdP
	c.LogoutAtIdP = p.LogoutAtIdP
	c.Now = a.now
	if p.BackchannelLogout {
		c.LogoutReplay = a.db
		a.log.Info("idp: back-channel logout enabled; register this backchannel_logout_uri at the provider",
			"idp", p.ID, "uri", a.cfg.TeamURL()+access.BackchannelLogoutPath(p.ID))
	}
	if p.LogoutAtIdP {
		a.log.Info("idp: signing out ends the provider session too; register this post_logout_redirect_uri at the provider",
			"idp", p.ID, "uri", a.cfg.TeamURL()+access.PathSignedOut)
	}
}
