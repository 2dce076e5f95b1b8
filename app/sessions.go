package app

import (
	"fmt"
	"net/http"
	"net/netip"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/geoip"
)

// touchSession records a request of the global session nonce for the
// sessions page (at most once a minute per session); a failed write is
// logged and the request goes on.
func (a *App) touchSession(r *http.Request, nonce string, ip netip.Addr) {
	if err := a.db.TouchSession(r.Context(), nonce, ip, r.UserAgent(), a.now()); err != nil {
		a.log.Warn("record session last seen", "err", err)
	}
}

// openGeoIP opens the [geoip] country sources of cfg (restart to change).
func openGeoIP(cfg *config.Config) (*geoip.Resolver, error) {
	trusted, err := cfg.TrustedProxyPrefixes()
	if err != nil {
		return nil, err
	}
	r, err := geoip.Open(geoip.Options{Database: cfg.GeoIP.Database, CountryHeader: cfg.GeoIP.CountryHeader, Trusted: trusted})
	if err != nil {
		return nil, fmt.Errorf("app: geoip.database: %w", err)
	}
	return r, nil
}
