package login

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// Sign-in state of the redirecting providers (OIDC, SAML) lives on the
// server, in the StateStore shared by every node: a random 256-bit state
// (OIDC state parameter, SAML RelayState) names the pending sign-in, which
// holds the flow, the PKCE verifier and nonce (OIDC) or the AuthnRequest ID
// (SAML). The state is taken (deleted) by the first callback that presents
// it, on whichever node, so it is single-use, and it expires after
// pendingTTL. An OIDC state is also bound to the browser by the CF_SignIn
// cookie, whose hash it stores.
const (
	pendingTTL = 10 * time.Minute
	// maxPending bounds the pending sign-ins kept.
	maxPending = 10000
	// paramState carries the pending sign-in's key.
	paramState = "state"
	// paramRelayState is SAML's name for it.
	paramRelayState = "RelayState"
	// maxSAMLBody bounds a posted SAMLResponse.
	maxSAMLBody = 1 << 20
)

// pending is one sign-in waiting for its provider's callback.
type pending struct {
	Provider  string
	Flow      flow
	Verifier  string // OIDC PKCE verifier
	Nonce     string // OIDC nonce
	RequestID string // SAML AuthnRequest ID
	Browser   string // hex SHA-256 of the CF_SignIn cookie (OIDC)
	Expires   time.Time
}

func (p pending) expiry() time.Time { return p.Expires }

// errTooManyPending refuses a sign-in while the store is full.
var errTooManyPending = errors.New("login: too many pending sign-ins")

// provider returns the configured provider with id.
func (h *Handler) provider(id string) (Provider, bool) {
	for _, p := range h.o.Providers {
		if p.ID == id {
			return p, true
		}
	}
	return Provider{}, false
}

// idpStart serves GET /cdn-cgi/access/start/{idp}: begin a sign-in with a
// redirecting provider.
func (h *Handler) idpStart(w http.ResponseWriter, r *http.Request) error {
	t, err := h.resolveBound(flowFrom(r.URL.Query()))
	if err != nil {
		return err
	}
	p, ok := h.provider(r.PathValue("idp"))
	if !ok || (p.Kind != KindOIDC && p.Kind != KindSAML) {
		return web.Errorf(http.StatusNotFound, "This sign-in method does not exist.", nil)
	}
	if !t.App.AllowsIdP(p.ID) {
		return web.Errorf(http.StatusForbidden, fmt.Sprintf("This application does not accept sign-in with %s.", p.Name), nil)
	}
	h.rememberReturn(w, t)
	if p.Kind == KindOIDC {
		return h.oidcStart(w, r, t, p)
	}
	return h.samlStart(w, r, t, p)
}

// newPending stores a pending sign-in for t with p under a fresh state and
// returns the state.
func (h *Handler) newPending(ctx context.Context, t target, p Provider, pend pending) (string, error) {
	state := newState()
	return state, h.putPending(ctx, state, t, p, pend)
}

// newState is a fresh random state (256 bits, hex).
func newState() string { return token.RandomHex(32) }

// putPending stores the pending sign-in pend for t with p under state,
// expiring after pendingTTL.
func (h *Handler) putPending(ctx context.Context, state string, t target, p Provider, pend pending) error {
	now := h.now()
	pend.Provider = p.ID
	pend.Flow = t.flow
	pend.Expires = now.Add(pendingTTL)
	ok, err := h.pending.put(ctx, state, pend, now)
	if err != nil {
		return err
	}
	if !ok {
		return web.Errorf(http.StatusServiceUnavailable, "Too many sign-ins are in progress. Try again in a few minutes.", errTooManyPending)
	}
	return nil
}

// browserBinding returns the hash of the browser's CF_SignIn cookie,
// setting a new cookie when there is none.
func (h *Handler) browserBinding(w http.ResponseWriter, r *http.Request) string {
	v := ""
	if c, err := r.Cookie(access.CookieSignIn); err == nil && isHex64(c.Value) {
		v = c.Value
	} else {
		v = token.RandomHex(32)
		http.SetCookie(w, &http.Cookie{
			Name:     access.CookieSignIn,
			Value:    v,
			Path:     access.PathPrefix,
			MaxAge:   int(pendingTTL / time.Second),
			HttpOnly: true,
			Secure:   h.o.Secure,
			SameSite: http.SameSiteLaxMode,
		})
	}
	return hashHex(v)
}

// sameBrowser reports whether r carries the CF_SignIn cookie whose hash is
// want.
func sameBrowser(r *http.Request, want string) bool {
	c, err := r.Cookie(access.CookieSignIn)
	if err != nil || !isHex64(c.Value) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashHex(c.Value)), []byte(want)) == 1
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// signInFailure is a refused sign-in: the page shown and the audit reason.
type signInFailure struct {
	Status int
	Title  string
	Msg    string
	Detail string // small line under the message, such as the provider's code
	Reason string
}

// fail audits f and shows its page with a "Sign in again" link back to the
// flow's sign-in page. When the flow is unknown (its state is lost), the
// link goes where the browser's last redirecting sign-in started, or to the
// launcher. No session is created.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, p Provider, fl *flow, appName, email string, f signInFailure) error {
	h.audit(r, access.Event{Kind: access.EventSignInFailed, Email: email, App: appName, IdP: p.ID, Detail: f.Reason})
	h.o.Log.InfoContext(r.Context(), "login: sign-in failed", "idp", p.ID, "reason", f.Reason)
	retry := h.rememberedReturn(w, r)
	if fl != nil {
		retry = fl.loginURL()
	}
	h.o.Pages.Render(w, f.Status, pages.PageError, f.Title, pages.ErrorData{Message: f.Msg, Detail: f.Detail, Retry: retry})
	return nil
}

// returnMaxAge is how long the browser remembers where its last redirecting
// sign-in started.
const returnMaxAge = 60 * 60

// rememberReturn remembers in the browser the sign-in page of t, where
// "Sign in again" goes when the callback's state turns out to be lost.
func (h *Handler) rememberReturn(w http.ResponseWriter, t target) {
	http.SetCookie(w, &http.Cookie{
		Name:     access.CookieSignInReturn,
		Value:    base64.RawURLEncoding.EncodeToString([]byte(t.loginURL())),
		Path:     access.PathPrefix,
		MaxAge:   returnMaxAge,
		HttpOnly: true,
		Secure:   h.o.Secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// rememberedReturn is the sign-in page rememberReturn kept, through the
// redirect sanitizer and only when it is a team-domain sign-in page of the
// team domain or of a configured app; else the launcher. The cookie's path
// is the reserved namespace, which any sibling subdomain can plant a cookie
// for (Domain=parent): when the browser sends more than one copy, none is
// believed and all are cleared.
func (h *Handler) rememberedReturn(w http.ResponseWriter, r *http.Request) string {
	v, n := web.CookieValues(r.Header, access.CookieSignInReturn)
	if n == 0 {
		return access.PathLauncher
	}
	if n > 1 {
		h.o.Log.WarnContext(r.Context(), "login: several CF_SignIn_Return cookies; cleared them all")
		web.ClearCookieEverywhere(w, r, access.CookieSignInReturn, h.o.Secure)
		http.SetCookie(w, &http.Cookie{Name: access.CookieSignInReturn, Value: "", Path: access.PathPrefix, MaxAge: -1,
			HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteLaxMode})
		return access.PathLauncher
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return access.PathLauncher
	}
	clean, err := web.CleanPath(string(raw))
	if err != nil || !strings.HasPrefix(clean, access.PathLogin) {
		return access.PathLauncher
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(clean, access.PathLogin), "?")
	host, err := url.PathUnescape(seg)
	if err != nil || !h.knownHost(host) {
		return access.PathLauncher
	}
	return clean
}

// knownHost reports whether host is the team domain or a host one of the
// apps is served on.
func (h *Handler) knownHost(host string) bool {
	host, ok := cleanHost(host)
	if !ok {
		return false
	}
	if h.isTeamHost(host) {
		return true
	}
	for _, a := range h.o.Apps().Apps() {
		if h.o.Apps().Match(host, a.EntryPath()) == a && h.portAllowed(host, a) {
			return true
		}
	}
	return false
}

// unreachable is the failure of a provider that cannot be reached.
func unreachable(p Provider, err error) signInFailure {
	return signInFailure{
		Status: http.StatusBadGateway,
		Title:  "Sign-in unavailable",
		Msg:    fmt.Sprintf("%s is not reachable right now. Try again in a moment, or choose another sign-in method.", p.Name),
		Reason: fmt.Sprintf("%s: identity provider not reachable: %v", p.Kind, err),
	}
}

// unknownState is the failure of a callback whose state is missing,
// unknown, expired or already used.
var unknownState = signInFailure{
	Status: http.StatusBadRequest,
	Title:  "Sign-in expired",
	Msg:    "This sign-in response is unknown, expired or was already used. Please sign in again.",
	Reason: "state unknown, expired or reused",
}

// callbackGET serves GET /cdn-cgi/access/callback: the OIDC redirect URI.
func (h *Handler) callbackGET(w http.ResponseWriter, r *http.Request) error {
	return h.oidcCallback(w, r)
}

// callbackPOST serves POST /cdn-cgi/access/callback: the SAML ACS.
func (h *Handler) callbackPOST(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxSAMLBody)
	if err := r.ParseForm(); err != nil {
		return web.Errorf(http.StatusBadRequest, "The sign-in response could not be read.", err)
	}
	return h.samlCallback(w, r)
}

// completeSignIn turns an identity established by provider p for the
// pending flow into a global session, records the provider's session idps
// with it when p logs out through Gatehouse, and continues the flow.
func (h *Handler) completeSignIn(w http.ResponseWriter, r *http.Request, p Provider, fl flow, idpType string, id access.Identity, idps access.IdPSession) error {
	t, err := h.resolveBound(fl)
	if err != nil {
		return err
	}
	if !t.App.AllowsIdP(p.ID) {
		return h.fail(w, r, p, &fl, t.appName(), id.Email, signInFailure{
			Status: http.StatusForbidden, Title: "Sign-in not accepted",
			Msg:    fmt.Sprintf("This application does not accept sign-in with %s.", p.Name),
			Reason: "provider not allowed for this application",
		})
	}
	s, err := h.startIdentity(w, r, p, access.Identity{
		Email:  id.Email,
		Name:   id.Name,
		Groups: id.Groups,
		Custom: id.Custom,
		IdP:    access.IdP{ID: p.ID, Type: idpType},
	})
	if err != nil {
		return err
	}
	if err := h.saveIdPSession(r, p, s, idps); err != nil {
		return err
	}
	return h.finish(w, r, t, s)
}
