package idp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Discovery retry timing: the background loop backs off from
// minRetry to maxRetry; a sign-in retries at once when the last attempt is
// at least onDemandRetry old (so a burst of sign-ins against a provider that
// is down costs one attempt per onDemandRetry).
const (
	minRetry         = 2 * time.Second
	onDemandRetry    = 500 * time.Millisecond
	maxRetry         = time.Minute
	discoveryTimeout = 10 * time.Second
)

// OIDCConfig configures an OpenID Connect provider.
type OIDCConfig struct {
	ID                   string // provider id from the config
	Issuer               string
	ClientID             string
	ClientSecret         string   // never logged
	RedirectURL          string   // the team domain's callback URL
	Scopes               []string // default openid email profile
	EmailClaim           string   // default "email"
	NameClaim            string   // default "name"
	GroupsClaim          string   // default "groups"
	Userinfo             bool     // merge the userinfo endpoint's claims
	AllowUnverifiedEmail bool     // accept email_verified = false
	Claims               []string // copied into Identity.Custom
	// LogoutAtIdP: signing out of Gatehouse also ends the provider's
	// session (RP-initiated logout); discovery warns when the provider has
	// no end_session_endpoint.
	LogoutAtIdP bool
	// LogoutReplay remembers the accepted back-channel logout tokens;
	// VerifyLogoutToken refuses every token without it.
	LogoutReplay LogoutTokenCache
	HTTPClient   *http.Client
	Log          *slog.Logger
	Now          func() time.Time
}

// OIDC is an OpenID Connect provider: authorization code flow with PKCE,
// state and nonce. Discovery happens in the background and again on demand,
// so the provider may be down when Gatehouse starts.
type OIDC struct {
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
	lastTry  time.Time
	// logoutKeys and logoutAlgs verify logout tokens (logoutVerifier).
	logoutKeys *logoutKeys
	logoutAlgs []string
}

// NewOIDC checks cfg and fills in its defaults. It does not contact the
// provider; call Start or let the first sign-in discover it.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	if cfg.ID == "" || cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("idp: oidc: id, issuer, client id and redirect URL are required")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	} else if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.EmailClaim == "" {
		cfg.EmailClaim = "email"
	}
	if cfg.NameClaim == "" {
		cfg.NameClaim = "name"
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &OIDC{cfg: cfg}, nil
}

// ID is the provider id.
func (o *OIDC) ID() string { return o.cfg.ID }

// Issuer is the configured issuer URL.
func (o *OIDC) Issuer() string { return o.cfg.Issuer }

// Start discovers the provider in the background, retrying with backoff
// until it succeeds or ctx ends.
func (o *OIDC) Start(ctx context.Context) {
	go retryLoop(ctx, func() bool {
		_, err := o.discover(ctx, true)
		return err == nil
	})
}

// retryLoop calls try until it reports success or ctx ends, waiting
// minRetry, then twice as long each time up to maxRetry.
func retryLoop(ctx context.Context, try func() bool) {
	wait := minRetry
	for !try() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, maxRetry)
	}
}

// discover returns the discovered provider, fetching discovery when it is
// missing and the last attempt is old enough (or force is set).
func (o *OIDC) discover(ctx context.Context, force bool) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	if !force && time.Since(o.lastTry) < onDemandRetry {
		return nil, fmt.Errorf("idp: oidc %s: discovery failed moments ago: %w", o.cfg.ID, ErrUnreachable)
	}
	o.lastTry = time.Now()
	dctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), o.cfg.HTTPClient), discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, o.cfg.Issuer)
	if err != nil {
		o.cfg.Log.Warn("idp: oidc discovery failed", "idp", o.cfg.ID, "issuer", o.cfg.Issuer, "err", err)
		return nil, fmt.Errorf("idp: oidc %s: discovery: %w: %w", o.cfg.ID, ErrUnreachable, err)
	}
	o.cfg.Log.Info("idp: oidc provider discovered", "idp", o.cfg.ID, "issuer", o.cfg.Issuer)
	if o.cfg.LogoutAtIdP && endSessionEndpoint(p) == "" {
		o.cfg.Log.Warn("idp: oidc provider has no end_session_endpoint: signing out stays local to Gatehouse (logout_at_idp)",
			"idp", o.cfg.ID, "issuer", o.cfg.Issuer)
	}
	o.provider = p
	return p, nil
}

// oauth2Config is the client configuration for p.
func (o *OIDC) oauth2Config(p *oidc.Provider) oauth2.Config {
	return oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  o.cfg.RedirectURL,
		Scopes:       o.cfg.Scopes,
	}
}

// AuthCodeURL is the provider's authorization URL for one sign-in: state
// and nonce as given, PKCE S256 from verifier (see oauth2.GenerateVerifier).
// It fails with ErrUnreachable when discovery has not succeeded.
func (o *OIDC) AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	p, err := o.discover(ctx, false)
	if err != nil {
		return "", err
	}
	conf := o.oauth2Config(p)
	return conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange completes a sign-in from the callback's query q (whose state the
// caller has already matched): it checks the error and iss parameters,
// redeems the code with the PKCE verifier, verifies the ID token and its
// nonce, merges userinfo when configured and maps the claims. It also
// returns the provider's session as the ID token tells it (sub, sid and the
// raw token), for back-channel and RP-initiated logout.
func (o *OIDC) Exchange(ctx context.Context, q url.Values, verifier, nonce string) (Identity, access.IdPSession, error) {
	id, idt, raw, err := o.exchange(ctx, q, verifier, nonce)
	if err != nil {
		return id, access.IdPSession{}, err
	}
	var sid struct {
		SID string `json:"sid"`
	}
	_ = idt.Claims(&sid) // decoded in exchange already; a sid that is not a string is left out
	return id, access.IdPSession{IdP: o.cfg.ID, Subject: idt.Subject, SID: sid.SID, IDToken: raw}, nil
}

// exchange is Exchange, returning the verified ID token and its raw form.
func (o *OIDC) exchange(ctx context.Context, q url.Values, verifier, nonce string) (Identity, *oidc.IDToken, string, error) {
	if e := q.Get("error"); e != "" {
		return Identity{}, nil, "", fmt.Errorf("idp: oidc %s: %s: %w", o.cfg.ID, e, ErrAccessDenied)
	}
	if iss := q.Get("iss"); iss != "" && iss != o.cfg.Issuer {
		return Identity{}, nil, "", fmt.Errorf("idp: oidc %s: iss %q: %w", o.cfg.ID, iss, ErrIssuerMismatch)
	}
	code := q.Get("code")
	if code == "" {
		return Identity{}, nil, "", fmt.Errorf("idp: oidc %s: no code: %w", o.cfg.ID, ErrInvalidToken)
	}
	p, err := o.discover(ctx, false)
	if err != nil {
		return Identity{}, nil, "", err
	}
	ctx = oidc.ClientContext(ctx, o.cfg.HTTPClient)
	conf := o.oauth2Config(p)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Identity{}, nil, "", fmt.Errorf("idp: oidc %s: code exchange: %w: %w", o.cfg.ID, ErrInvalidToken, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Identity{}, nil, "", fmt.Errorf("idp: oidc %s: no id_token: %w", o.cfg.ID, ErrInvalidToken)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return Identity{}, nil, "", fmt.Errorf("idp: oidc %s: id token: %w: %w", o.cfg.ID, ErrInvalidToken, err)
	}
	if idt.Nonce != nonce {
		return Identity{}, nil, "", fmt.Errorf("idp: oidc %s: %w", o.cfg.ID, ErrNonceMismatch)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, nil, "", fmt.Errorf("idp: oidc %s: id token claims: %w: %w", o.cfg.ID, ErrInvalidToken, err)
	}
	if o.cfg.Userinfo {
		if err := o.mergeUserinfo(ctx, p, tok, idt.Subject, claims); err != nil {
			return Identity{}, nil, "", err
		}
	}
	id, err := o.identity(claims)
	return id, idt, raw, err
}

// mergeUserinfo adds the userinfo endpoint's claims to claims, after
// checking that they describe the ID token's subject.
func (o *OIDC) mergeUserinfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, sub string, claims map[string]any) error {
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("idp: oidc %s: userinfo: %w: %w", o.cfg.ID, ErrInvalidToken, err)
	}
	if ui.Subject != sub {
		return fmt.Errorf("idp: oidc %s: userinfo subject differs from the id token: %w", o.cfg.ID, ErrInvalidToken)
	}
	extra := map[string]any{}
	if err := ui.Claims(&extra); err != nil {
		return fmt.Errorf("idp: oidc %s: userinfo claims: %w: %w", o.cfg.ID, ErrInvalidToken, err)
	}
	for k, v := range extra {
		switch k {
		case "iss", "aud", "sub", "exp", "iat", "nbf", "nonce":
			continue
		}
		claims[k] = v
	}
	return nil
}

// identity maps verified claims to an Identity.
func (o *OIDC) identity(claims map[string]any) (Identity, error) {
	rawEmail, _ := claims[o.cfg.EmailClaim].(string)
	email, err := emailFrom(rawEmail)
	if err != nil {
		return Identity{}, fmt.Errorf("idp: oidc %s: claim %q: %w", o.cfg.ID, o.cfg.EmailClaim, err)
	}
	if v, ok := claims["email_verified"]; ok && !o.cfg.AllowUnverifiedEmail && !isTrue(v) {
		return Identity{Email: email}, fmt.Errorf("idp: oidc %s: %s: %w", o.cfg.ID, email, ErrUnverifiedEmail)
	}
	name, _ := claims[o.cfg.NameClaim].(string)
	id := Identity{Email: email, Name: name, Groups: stringList(claims[o.cfg.GroupsClaim])}
	for _, c := range o.cfg.Claims {
		if v, ok := claims[c]; ok {
			if id.Custom == nil {
				id.Custom = map[string]any{}
			}
			id.Custom[c] = v
		}
	}
	return id, nil
}

// isTrue reads a boolean claim that some providers send as a string.
func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

// NewVerifier returns a fresh PKCE code verifier for AuthCodeURL and
// Exchange.
func NewVerifier() string { return oauth2.GenerateVerifier() }
