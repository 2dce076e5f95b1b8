package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/idp"
	"github.com/gatehouse-dev/gatehouse/login"
)

// buildProviders builds the sign-in providers of the config and starts the
// background discovery of the OIDC and SAML ones (stopped by Close).
func (a *App) buildProviders(mail idp.Mailer) ([]login.Provider, login.OTPConnector, error) {
	ctx, cancel := context.WithCancel(context.Background())
	a.idpCancel = cancel
	callback := a.cfg.TeamURL() + access.PathCallback
	var otp login.OTPConnector // nil (not a nil *idp.OTP) without a one-time-PIN provider
	var providers []login.Provider
	for _, p := range a.cfg.IdPs {
		lp := login.Provider{ID: p.ID, Name: p.Name, Kind: p.Kind}
		switch p.Kind {
		case "otp":
			// The per-address limits are counted in the database, like the
			// PINs themselves, so that every node counts against the same
			// address.
			otp = &idp.OTP{ID: p.ID, Store: a.db, Mail: mail, Log: a.log, Now: a.now,
				Sends:    a.db.Limit("pin-send", pinSendsPerAddress, pinWindow),
				Failures: a.db.Limit("pin-failure", pinFailuresPerAddress, pinLockout)}
		case "oidc":
			secret, err := p.OIDCSecret()
			if err != nil {
				return nil, nil, err
			}
			oc := idp.OIDCConfig{
				ID: p.ID, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: secret,
				RedirectURL: callback, Scopes: p.Scopes,
				EmailClaim: p.EmailClaim, NameClaim: p.NameClaim, GroupsClaim: p.GroupsClaim,
				Userinfo: p.Userinfo, AllowUnverifiedEmail: p.AllowUnverifiedEmail, Claims: p.Claims,
				Log: a.log,
			}
			a.oidcLogout(p, &oc, &lp)
			o, err := idp.NewOIDC(oc)
			if err != nil {
				return nil, nil, fmt.Errorf("app: idp %s: %w", p.ID, err)
			}
			o.Start(ctx)
			lp.OIDC = o
		case "saml":
			s, err := a.samlProvider(p, callback)
			if err != nil {
				return nil, nil, err
			}
			s.Start(ctx)
			lp.SAML = s
		default:
			continue
		}
		providers = append(providers, lp)
	}
	return providers, otp, nil
}

// samlProvider builds one SAML provider. Its SP entity ID is the callback
// URL, as with Cloudflare Access.
func (a *App) samlProvider(p config.IdPConfig, callback string) (*idp.SAML, error) {
	key, cert, err := idp.SPKeyPair(a.cfg.DataDir, p.ID, p.SPKeyFile, p.SPCertFile, a.cfg.TeamDomain, a.now())
	if err != nil {
		return nil, fmt.Errorf("app: idp %s: %w", p.ID, err)
	}
	var meta []byte
	if p.MetadataFile != "" {
		if meta, err = os.ReadFile(p.MetadataFile); err != nil {
			return nil, fmt.Errorf("app: idp %s: metadata_file: %w", p.ID, err)
		}
	}
	s, err := idp.NewSAML(idp.SAMLConfig{
		ID: p.ID, MetadataURL: p.MetadataURL, MetadataXML: meta,
		EntityID: callback, ACSURL: callback, Key: key, Cert: cert,
		EmailAttribute: p.EmailAttribute, NameAttribute: p.NameAttribute,
		GroupsAttribute: p.GroupsAttribute, Attributes: p.Attributes,
		Replay: a.db, Log: a.log, Now: a.now,
	})
	if err != nil {
		return nil, fmt.Errorf("app: idp %s: %w", p.ID, err)
	}
	return s, nil
}

// Limits on what a stranger can trigger on the team domain.
const (
	pinWindow             = 10 * time.Minute
	pinSendsPerAddress    = 3  // PIN emails per address per pinWindow
	pinSendsPerIP         = 10 // PIN emails per client IP per pinWindow
	pinFailuresPerAddress = 10 // wrong codes per address (across codes) per pinLockout
	pinLockout            = 30 * time.Minute
	signInsPerIP          = 120 // sign-in requests per client IP per minute
)
