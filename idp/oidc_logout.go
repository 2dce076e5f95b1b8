package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-dev/gatehouse/access"
)

// BackchannelLogoutEvent is the member of a logout token's events claim
// (OpenID Connect Back-Channel Logout 1.0, §2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// Logout token timing: its iat may be at most logoutMaxAge old and
// logoutSkew in the future; an exp, when given, is honoured with logoutSkew.
const (
	logoutMaxAge = 5 * time.Minute
	logoutSkew   = time.Minute
)

// LogoutTokenCache remembers the accepted logout token ids until they
// expire. UseLogoutJTI fails (with an error of its own) for an id that was
// already used at the issuer idp (VerifyLogoutToken passes the token's iss,
// so that providers configured at one issuer share their ids).
type LogoutTokenCache interface {
	UseLogoutJTI(ctx context.Context, idp, jti string, expires, now time.Time) error
}

// ErrLogoutReplayed marks a logout token whose jti was already accepted; it
// is also an ErrInvalidToken.
var ErrLogoutReplayed = errors.New("idp: logout token replayed")

// logoutClaims are the claims of a logout token beyond what go-oidc checks.
type logoutClaims struct {
	Events map[string]json.RawMessage `json:"events"`
	SID    string                     `json:"sid"`
	JTI    string                     `json:"jti"`
}

// VerifyLogoutToken verifies a back-channel logout token (§2.6): its
// signature against the provider's key set (never alg none), iss is the
// provider's issuer, aud contains the client id, iat is recent and exp (if
// any) not past, events holds the back-channel logout member, sid or sub is
// present, there is no nonce, and the jti was not accepted before at the
// issuer (it is remembered from now on). Only the compact serialization is
// read. Failures wrap ErrInvalidToken (and
// ErrLogoutReplayed for a replay), or ErrUnreachable while the provider is
// undiscovered.
func (o *OIDC) VerifyLogoutToken(ctx context.Context, raw string) (access.LogoutClaims, error) {
	if o.cfg.LogoutReplay == nil {
		return access.LogoutClaims{}, o.logoutErr("back-channel logout is not enabled", nil)
	}
	if !compactJWT(raw) {
		return access.LogoutClaims{}, o.logoutErr("is not a compact JWS", nil)
	}
	p, err := o.discover(ctx, false)
	if err != nil {
		return access.LogoutClaims{}, err
	}
	now := o.cfg.Now()
	v, err := o.logoutVerifier(p)
	if err != nil {
		return access.LogoutClaims{}, o.logoutErr("", err)
	}
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return access.LogoutClaims{}, o.logoutErr("", err)
	}
	all := map[string]json.RawMessage{}
	var c logoutClaims
	if err := idt.Claims(&all); err != nil {
		return access.LogoutClaims{}, o.logoutErr("claims", err)
	}
	if err := idt.Claims(&c); err != nil {
		return access.LogoutClaims{}, o.logoutErr("claims", err)
	}
	if err := checkLogoutClaims(idt, all, c, now); err != nil {
		return access.LogoutClaims{}, o.logoutErr("", err)
	}
	expires := idt.IssuedAt.Add(logoutMaxAge)
	if idt.Expiry.After(expires) {
		expires = idt.Expiry
	}
	expires = expires.Add(logoutSkew)
	// A jti is unique at its issuer: two providers configured at the same
	// issuer and client accept a token once between them.
	if err := o.cfg.LogoutReplay.UseLogoutJTI(ctx, idt.Issuer, c.JTI, expires, now); err != nil {
		return access.LogoutClaims{}, fmt.Errorf("idp: oidc %s: logout token %s: %w: %w: %w", o.cfg.ID, c.JTI, ErrInvalidToken, ErrLogoutReplayed, err)
	}
	return access.LogoutClaims{IdP: o.cfg.ID, Subject: idt.Subject, SID: c.SID, JTI: c.JTI, Expires: expires}, nil
}

// compactJWT reports whether raw has the shape of a compact JWS, three
// base64url parts (a logout token is a JWT; the JSON serialization, with
// its unprotected headers and several signatures, is refused).
func compactJWT(raw string) bool {
	if strings.Count(raw, ".") != 2 {
		return false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// checkLogoutClaims checks what §2.6 asks of a logout token beyond the
// signature, iss and aud.
func checkLogoutClaims(idt *oidc.IDToken, all map[string]json.RawMessage, c logoutClaims, now time.Time) error {
	switch {
	case idt.IssuedAt.IsZero():
		return errors.New("no iat")
	case idt.IssuedAt.Before(now.Add(-logoutMaxAge)):
		return fmt.Errorf("iat %s is older than %s", idt.IssuedAt.UTC().Format(time.RFC3339), logoutMaxAge)
	case idt.IssuedAt.After(now.Add(logoutSkew)):
		return fmt.Errorf("iat %s is in the future", idt.IssuedAt.UTC().Format(time.RFC3339))
	case !idt.Expiry.IsZero() && !now.Before(idt.Expiry.Add(logoutSkew)):
		return fmt.Errorf("expired at %s", idt.Expiry.UTC().Format(time.RFC3339))
	}
	ev, ok := c.Events[BackchannelLogoutEvent]
	if !ok {
		return fmt.Errorf("events has no %s member", BackchannelLogoutEvent)
	}
	var obj map[string]any
	if err := json.Unmarshal(ev, &obj); err != nil || obj == nil {
		return errors.New("the events member is not a JSON object")
	}
	if idt.Subject == "" && c.SID == "" {
		return errors.New("neither sid nor sub")
	}
	if _, ok := all["nonce"]; ok {
		return errors.New("a logout token must not carry a nonce")
	}
	if c.JTI == "" {
		return errors.New("no jti")
	}
	return nil
}

// logoutErr wraps a logout token failure in ErrInvalidToken.
func (o *OIDC) logoutErr(what string, err error) error {
	switch {
	case err == nil:
		return fmt.Errorf("idp: oidc %s: logout token: %s: %w", o.cfg.ID, what, ErrInvalidToken)
	case what == "":
		return fmt.Errorf("idp: oidc %s: logout token: %w: %w", o.cfg.ID, ErrInvalidToken, err)
	}
	return fmt.Errorf("idp: oidc %s: logout token %s: %w: %w", o.cfg.ID, what, ErrInvalidToken, err)
}

// endSessionEndpoint is the provider's end_session_endpoint, or "".
func endSessionEndpoint(p *oidc.Provider) string {
	var m struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&m); err != nil {
		return ""
	}
	return m.EndSession
}

// EndSessionURL is where to send the browser to end its session at the
// provider (RP-initiated logout): the end_session_endpoint with
// id_token_hint (when known), client_id, post_logout_redirect_uri and
// state. It is "" when the provider has no end_session_endpoint, and fails
// with ErrUnreachable while the provider is undiscovered.
func (o *OIDC) EndSessionURL(ctx context.Context, idTokenHint, postLogoutRedirect, state string) (string, error) {
	p, err := o.discover(ctx, false)
	if err != nil {
		return "", err
	}
	end := endSessionEndpoint(p)
	if end == "" {
		return "", nil
	}
	u, err := url.Parse(end)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("idp: oidc %s: end_session_endpoint %q is not an http(s) URL", o.cfg.ID, end)
	}
	q := u.Query()
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	q.Set("client_id", o.cfg.ClientID)
	q.Set("post_logout_redirect_uri", postLogoutRedirect)
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
