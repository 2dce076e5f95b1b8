package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/idp"
	"github.com/gatehouse-dev/gatehouse/limit"
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
			otp = &idp.OTP{ID: p.ID, Store: pinStore{a.db}, Mail: mail, Log: a.log, Now: a.now,
				Sends: limit.New(pinSendsPerAddress, pinWindow), Failures: limit.New(pinFailuresPerAddress, pinLockout)}
		case "oidc":
			secret, err := p.OIDCSecret()
			if err != nil {
				return nil, nil, err
			}
			o, err := idp.NewOIDC(idp.OIDCConfig{
				ID: p.ID, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: secret,
				RedirectURL: callback, Scopes: p.Scopes,
				EmailClaim: p.EmailClaim, NameClaim: p.NameClaim, GroupsClaim: p.GroupsClaim,
				Userinfo: p.Userinfo, AllowUnverifiedEmail: p.AllowUnverifiedEmail, Claims: p.Claims,
				Log: a.log,
			})
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
	keyFile, certFile := p.SPKeyFile, p.SPCertFile
	if keyFile == "" {
		keyFile = filepath.Join(a.cfg.DataDir, "saml-"+p.ID+".key")
		certFile = filepath.Join(a.cfg.DataDir, "saml-"+p.ID+".crt")
		if err := ensureSPKeyPair(keyFile, certFile, a.cfg.TeamDomain, a.now()); err != nil {
			return nil, fmt.Errorf("app: idp %s: %w", p.ID, err)
		}
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("app: idp %s: sp key pair: %w", p.ID, err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("app: idp %s: sp certificate: %w", p.ID, err)
	}
	key, ok := pair.PrivateKey.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("app: idp %s: sp key must be RSA", p.ID)
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

// ensureSPKeyPair generates an RSA-2048 SP key and a 10-year self-signed
// certificate into keyFile and certFile (PEM) unless keyFile exists.
func ensureSPKeyPair(keyFile, certFile, cn string, now time.Time) error {
	if _, err := os.Stat(keyFile); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sp key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("sp key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return fmt.Errorf("sp certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("sp certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("sp key: %w", err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("sp certificate: %w", err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("sp key: %w", err)
	}
	return nil
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
