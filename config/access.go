package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// AccessApps converts the apps into access apps. AUD is the pinned AUD
// or "" (the caller fills in the stored one). Domains are lowercased and a
// trailing "/*" of the path is dropped.
func (c *Config) AccessApps() ([]*access.App, error) {
	apps := make([]*access.App, 0, len(c.Apps))
	for i, a := range c.Apps {
		pa := &access.App{
			Name:            a.Name,
			AUD:             strings.ToLower(a.AUD),
			Origin:          a.Origin,
			Path:            strings.TrimSpace(a.Path), // "/p/*" covers below /p/, not /p itself
			SessionDuration: a.SessionDuration.Duration,
			OriginTimeout:   a.OriginTimeout.Duration,
			IdPs:            slices.Clone(a.IdPs),
			LogoURL:         a.LogoURL,
			Hidden:          a.Hidden,
		}
		pa.Settings = a.settings()
		for _, d := range a.Domains {
			pa.Domains = append(pa.Domains, strings.ToLower(d))
		}
		for j, p := range a.Policies {
			pp := access.Policy{
				Name:            p.Name,
				Decision:        p.Decision,
				SessionDuration: p.SessionDuration.Duration,
			}
			var err error
			if pp.Include, err = convertRules(p.Include); err != nil {
				return nil, fmt.Errorf("config: apps[%d].policies[%d].include: %w", i, j, err)
			}
			if pp.Require, err = convertRules(p.Require); err != nil {
				return nil, fmt.Errorf("config: apps[%d].policies[%d].require: %w", i, j, err)
			}
			if pp.Exclude, err = convertRules(p.Exclude); err != nil {
				return nil, fmt.Errorf("config: apps[%d].policies[%d].exclude: %w", i, j, err)
			}
			pa.Policies = append(pa.Policies, pp)
		}
		apps = append(apps, pa)
	}
	return apps, nil
}

func convertRules(rules []RuleConfig) ([]access.Rule, error) {
	var out []access.Rule
	for _, r := range rules {
		pr := access.Rule{
			Everyone:        r.Everyone,
			Emails:          slices.Clone(r.Emails),
			EmailDomains:    slices.Clone(r.EmailDomains),
			Groups:          slices.Clone(r.Groups),
			IdPs:            slices.Clone(r.IdPs),
			ServiceTokens:   slices.Clone(r.ServiceTokens),
			AnyServiceToken: r.AnyServiceToken,
		}
		for _, c := range r.Countries {
			if code, ok := access.CountryCode(c); ok {
				pr.Countries = append(pr.Countries, code)
			}
		}
		for _, s := range r.IPRanges {
			p, err := parsePrefix(s)
			if err != nil {
				return nil, err
			}
			pr.IPRanges = append(pr.IPRanges, p)
		}
		if len(r.Claims) > 0 {
			pr.Claims = make(map[string][]string, len(r.Claims))
			for k, v := range r.Claims {
				pr.Claims[k] = slices.Clone(v)
			}
		}
		out = append(out, pr)
	}
	return out, nil
}

// normalizePath turns "/prefix/*" and "/prefix/" into "/prefix", and "/" into "".
func normalizePath(p string) string {
	p = strings.TrimSuffix(p, "*")
	return strings.TrimRight(p, "/")
}

// settings converts the app's cookie, CORS, deny-page and service-token
// keys.
func (a *AppConfig) settings() access.Settings {
	return access.Settings{
		NoHSTS: !a.HSTS,
		Cookie: access.CookieSettings{
			NoHTTPOnly: !a.HTTPOnly,
			SameSite:   strings.ToLower(a.SameSite),
			Binding:    a.BindingCookie,
			PathCookie: a.PathCookie,
		},
		CORS: access.CORS{
			PreflightBypass:  a.CORS.PreflightBypass,
			AllowedOrigins:   slices.Clone(a.CORS.AllowedOrigins),
			AllowedMethods:   slices.Clone(a.CORS.AllowedMethods),
			AllowedHeaders:   slices.Clone(a.CORS.AllowedHeaders),
			AllowCredentials: a.CORS.AllowCredentials,
			MaxAge:           time.Duration(a.CORS.MaxAge) * time.Second,
		},
		DenyMessage:        a.DenyMessage,
		DenyURL:            a.DenyURL,
		ServiceTokenHeader: a.ServiceTokenHeader,
		ServiceAuth401:     a.ServiceAuth401,
	}
}
