package config

import "reflect"

// RestartKeys lists the settings that differ between old and next but are
// bound when Gatehouse starts, so that a reload keeps their running value.
func RestartKeys(old, next *Config) []string {
	checks := []struct {
		key      string
		old, new any
	}{
		{"team_domain", old.TeamDomain, next.TeamDomain},
		{"listen", old.Listen, next.Listen},
		{"listen_https", old.ListenHTTPS, next.ListenHTTPS},
		{"data_dir", old.DataDir, next.DataDir},
		{"global_session", old.GlobalSession, next.GlobalSession},
		{"trusted_proxies", old.TrustedProxies, next.TrustedProxies},
		{"admins", old.Admins, next.Admins},
		{"client_ip_header", old.ClientIPHeader, next.ClientIPHeader},
		{"tls", old.TLS, next.TLS},
		{"log.level", old.Log.Level, next.Log.Level},
		{"log.format", old.Log.Format, next.Log.Format},
		{"metrics.listen", old.Metrics.Listen, next.Metrics.Listen},
		{"smtp", old.SMTP, next.SMTP},
		{"idps", old.IdPs, next.IdPs},
		{"geoip", old.GeoIP, next.GeoIP},
		{"store", old.Store, next.Store},
	}
	var out []string
	for _, c := range checks {
		if !reflect.DeepEqual(c.old, c.new) {
			out = append(out, c.key)
		}
	}
	return out
}
