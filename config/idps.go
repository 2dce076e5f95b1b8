package config

import (
	"maps"
	"net/url"
	"os"
	"slices"
)

// oidcIdP validates the keys of an OIDC provider.
func (v *validator) oidcIdP(key string, p *IdPConfig) {
	if p.Issuer == "" {
		v.add(key+".issuer", "required for kind \"oidc\"")
	} else if u, err := url.Parse(p.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.add(key+".issuer", "%q: must be an http(s) URL", p.Issuer)
	}
	if p.ClientID == "" {
		v.add(key+".client_id", "required for kind \"oidc\"")
	}
	n := 0
	for _, s := range []string{p.ClientSecret, p.ClientSecretFile, p.ClientSecretEnv} {
		if s != "" {
			n++
		}
	}
	switch {
	case n == 0:
		v.add(key+".client_secret", "required for kind \"oidc\" (or client_secret_file or client_secret_env)")
	case n > 1:
		v.add(key+".client_secret", "set only one of client_secret, client_secret_file and client_secret_env")
	default:
		v.secret(key+".", "client_secret", p.ClientSecret, p.ClientSecretFile, p.ClientSecretEnv)
	}
	v.notFor(key, "oidc", map[string]bool{
		"metadata_url": p.MetadataURL != "", "metadata_file": p.MetadataFile != "",
		"email_attribute": p.EmailAttribute != "", "name_attribute": p.NameAttribute != "",
		"groups_attribute": p.GroupsAttribute != "", "attributes": len(p.Attributes) > 0,
		"sp_key_file": p.SPKeyFile != "", "sp_cert_file": p.SPCertFile != "",
	})
}

// samlIdP validates the keys of a SAML provider.
func (v *validator) samlIdP(key string, p *IdPConfig) {
	switch {
	case p.MetadataURL == "" && p.MetadataFile == "":
		v.add(key+".metadata_url", "required for kind \"saml\" (or metadata_file)")
	case p.MetadataURL != "" && p.MetadataFile != "":
		v.add(key+".metadata_url", "set only one of metadata_url and metadata_file")
	case p.MetadataURL != "":
		if u, err := url.Parse(p.MetadataURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.add(key+".metadata_url", "%q: must be an http(s) URL", p.MetadataURL)
		}
	default:
		if _, err := os.Stat(p.MetadataFile); err != nil {
			v.add(key+".metadata_file", "%q: %v", p.MetadataFile, err)
		}
	}
	if (p.SPKeyFile == "") != (p.SPCertFile == "") {
		v.add(key+".sp_key_file", "set both sp_key_file and sp_cert_file, or neither")
	}
	v.notFor(key, "saml", map[string]bool{
		"issuer": p.Issuer != "", "client_id": p.ClientID != "", "client_secret": p.ClientSecret != "",
		"client_secret_file": p.ClientSecretFile != "", "client_secret_env": p.ClientSecretEnv != "",
		"scopes": len(p.Scopes) > 0, "email_claim": p.EmailClaim != "", "name_claim": p.NameClaim != "",
		"groups_claim": p.GroupsClaim != "", "userinfo": p.Userinfo,
		"allow_unverified_email": p.AllowUnverifiedEmail, "claims": len(p.Claims) > 0,
		"backchannel_logout": p.BackchannelLogout, "logout_at_idp": p.LogoutAtIdP,
	})
}

// otpIdP reports the OIDC and SAML keys set on an email PIN provider.
func (v *validator) otpIdP(key string, p *IdPConfig) {
	v.notFor(key, "otp", map[string]bool{
		"issuer": p.Issuer != "", "client_id": p.ClientID != "", "client_secret": p.ClientSecret != "",
		"client_secret_file": p.ClientSecretFile != "", "client_secret_env": p.ClientSecretEnv != "",
		"scopes": len(p.Scopes) > 0, "email_claim": p.EmailClaim != "", "name_claim": p.NameClaim != "",
		"groups_claim": p.GroupsClaim != "", "userinfo": p.Userinfo,
		"allow_unverified_email": p.AllowUnverifiedEmail, "claims": len(p.Claims) > 0,
		"metadata_url": p.MetadataURL != "", "metadata_file": p.MetadataFile != "",
		"email_attribute": p.EmailAttribute != "", "name_attribute": p.NameAttribute != "",
		"groups_attribute": p.GroupsAttribute != "", "attributes": len(p.Attributes) > 0,
		"sp_key_file": p.SPKeyFile != "", "sp_cert_file": p.SPCertFile != "",
		"backchannel_logout": p.BackchannelLogout, "logout_at_idp": p.LogoutAtIdP,
	})
}

// notFor reports each key that is set but means nothing for kind.
func (v *validator) notFor(key, kind string, set map[string]bool) {
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if set[name] {
			v.add(key+"."+name, "not a key of kind %q", kind)
		}
	}
}
