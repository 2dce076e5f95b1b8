package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// The admin API: JSON on the team domain under access.PathAPI,
// authenticated by admin API tokens ("Authorization: Bearer <token>"). It
// makes the same changes as the admin pages, through the same store (a
// revocation answers once it is in force and the requests in flight it
// refuses are cancelled), and writes the same audit events; reads and
// refused calls are audited as EventAPI. Every error is the one JSON shape
// (web.ErrorBody).

// maxAPIBody bounds a request body of the API.
const maxAPIBody = 64 << 10

// defaultServiceTokenLifetime is the lifetime of a service token created
// through the API without one: a year, as on the command line.
const defaultServiceTokenLifetime = 8760 * time.Hour

// apiFunc is an API handler; tok is the caller's verified token.
type apiFunc func(w http.ResponseWriter, r *http.Request, tok access.APIToken) error

// routeAPI adds the API's endpoints to m.
func (a *Handler) routeAPI(m *http.ServeMux) {
	ad := &web.Adapter{Log: a.o.Log, JSON: true}
	p := access.PathAPI
	route := func(pattern, scope string, f apiFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		m.Handle(method+" "+p+path, web.SecurityHeaders(ad.Wrap(a.apiCall(scope, f))))
	}
	route("GET users", access.ScopeRead, a.apiUsers)
	route("POST users/revoke", access.ScopeRevoke, a.apiRevokeUser)
	route("GET sessions", access.ScopeRead, a.apiSessions)
	route("POST sessions/revoke", access.ScopeRevoke, a.apiRevokeSession)
	route("GET apps", access.ScopeRead, a.apiApps)
	route("POST apps/revoke", access.ScopeRevoke, a.apiRevokeApp)
	route("GET service-tokens", access.ScopeRead, a.apiServiceTokens)
	route("POST service-tokens", access.ScopeServiceTokens, a.apiCreateServiceToken)
	route("POST service-tokens/{id}/enable", access.ScopeServiceTokens, a.apiChangeServiceToken("enabled"))
	route("POST service-tokens/{id}/disable", access.ScopeRevoke, a.apiChangeServiceToken("disabled"))
	route("DELETE service-tokens/{id}", access.ScopeRevoke, a.apiChangeServiceToken("deleted"))
	m.Handle(p, web.SecurityHeaders(ad.Wrap(func(http.ResponseWriter, *http.Request) error {
		return web.Errorf(http.StatusNotFound, "There is no such API endpoint or method.", nil)
	})))
}

// Authenticator returns the API's token check, for other machine
// interfaces on the team domain (SCIM); nil when Options.APITokens is nil.
func (a *Handler) Authenticator() *Authenticator { return a.auth }

// apiCall authenticates the caller for scope, runs f and audits the call:
// f records its own change; reads and failures are recorded here.
func (a *Handler) apiCall(scope string, f apiFunc) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		web.NoCache(w)
		if a.auth == nil {
			return web.Errorf(http.StatusNotFound, "The admin API is not available.", nil)
		}
		tok, err := a.auth.Authenticate(w, r, scope)
		if err != nil {
			var we *web.Error
			if !errors.As(err, &we) || we.Status != http.StatusTooManyRequests {
				// Past the failure limit nothing more is written: a
				// stranger cannot fill the audit log.
				a.auditAPI(r, tok, err)
			}
			return err
		}
		err = f(w, r, tok)
		if err != nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
			a.auditAPI(r, tok, err)
		}
		return err
	}
}

// apiActor is who an API token's changes are recorded as.
func apiActor(tok access.APIToken) string { return "api:" + tok.Name }

// auditAPI records a read or a refused call: method, path, token and
// outcome.
func (a *Handler) auditAPI(r *http.Request, tok access.APIToken, err error) {
	e := access.Event{Time: a.o.Now(), Kind: access.EventAPI}
	detail := r.Method + " " + access.Clip(r.URL.Path, maxAuditPath)
	if tok.ID != "" {
		e.Email = apiActor(tok)
		detail += " (API token " + tok.ID + ")"
	}
	switch {
	case err == nil:
		detail += ": ok"
	default:
		status := http.StatusInternalServerError
		var we *web.Error
		if errors.As(err, &we) {
			status = we.Status
		}
		detail += fmt.Sprintf(": %d %s", status, http.StatusText(status))
	}
	e.Detail = detail
	a.recordEvent(r, e)
}

// maxAuditPath bounds the request path an API audit row records: a
// stranger's refused calls must not write megabytes to the audit log.
const maxAuditPath = 200

// decodeBody reads r's JSON body into v (a pointer to a struct): the body
// must be declared application/json (415 otherwise: an HTML form cannot
// send it), at most maxAPIBody bytes (413), and one JSON object with
// nothing after it whose keys are v's fields, spelt exactly and each once
// (400): no other parser in front of Gatehouse reads it differently.
func decodeBody(r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return web.Errorf(http.StatusUnsupportedMediaType, "Send the request body as JSON, with Content-Type: application/json.", err)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxAPIBody))
	if err == nil {
		err = strictKeys(raw, v)
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err = dec.Decode(v); err == nil {
			if extra := dec.Decode(&json.RawMessage{}); !errors.Is(extra, io.EOF) {
				err = fmt.Errorf("admin: data after the JSON object: %w", extra)
			}
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return web.Errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is over %d bytes.", maxAPIBody), err)
	case err != nil:
		return web.Errorf(http.StatusBadRequest, "The request body must be one JSON object with the documented fields.", err)
	}
	return nil
}

// strictKeys checks that the top-level keys of the JSON object raw are json
// tags of the struct v points to, in their exact case, each at most once
// (encoding/json matches keys in any case and keeps the last of
// duplicates). Anything but an object is left to the decoder to refuse.
func strictKeys(raw []byte, v any) error {
	fields := map[string]bool{}
	if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		for f := range t.Elem().Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields[name] = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := tok.(string)
		switch {
		case !fields[key]:
			return fmt.Errorf("admin: unknown field %q", key)
		case seen[key]:
			return fmt.Errorf("admin: field %q given twice", key)
		}
		seen[key] = true
		if err := dec.Decode(&json.RawMessage{}); err != nil {
			return nil
		}
	}
	return nil
}

// apiTime is a time for JSON: RFC 3339 in UTC, nil (omitted) when zero.
func apiTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// apiUser is a user in the API.
type apiUser struct {
	ID             string     `json:"id"`
	Email          string     `json:"email"`
	CreatedAt      *time.Time `json:"created_at"`
	LastSignIn     *time.Time `json:"last_sign_in"`
	LastIdP        string     `json:"last_idp"`
	ActiveSessions int        `json:"active_sessions"`
}

func (a *Handler) apiUsers(w http.ResponseWriter, r *http.Request, _ access.APIToken) error {
	list, err := a.o.Store.UsersSince(r.Context(), time.Time{}, a.o.Now())
	if err != nil {
		return err
	}
	out := make([]apiUser, 0, len(list))
	for _, u := range list {
		out = append(out, apiUser{ID: u.ID, Email: u.Email, CreatedAt: apiTime(u.CreatedAt), LastSignIn: apiTime(u.LastSignIn),
			LastIdP: u.LastIdP, ActiveSessions: u.ActiveSessions})
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

// apiSession is a global session in the API.
type apiSession struct {
	Nonce     string     `json:"nonce"`
	Email     string     `json:"email"`
	IdP       string     `json:"idp"`
	CreatedAt *time.Time `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// apiSessions lists the active global sessions, of one user with
// ?user=EMAIL.
func (a *Handler) apiSessions(w http.ResponseWriter, r *http.Request, _ access.APIToken) error {
	now := a.o.Now()
	var (
		list []access.Session
		err  error
	)
	if email := strings.TrimSpace(r.URL.Query().Get("user")); email != "" {
		u, uerr := a.o.Store.UserByEmail(r.Context(), email)
		if errors.Is(uerr, ErrNotFound) {
			return web.Errorf(http.StatusNotFound, "There is no user "+email+".", nil)
		}
		if uerr != nil {
			return uerr
		}
		list, err = a.o.Store.UserSessions(r.Context(), u.ID, now)
	} else {
		list, err = a.o.Store.ActiveSessions(r.Context(), now)
	}
	if err != nil {
		return err
	}
	out := make([]apiSession, 0, len(list))
	for _, s := range list {
		out = append(out, apiSession{Nonce: s.Nonce, Email: s.Identity.Email, IdP: s.Identity.IdP.ID,
			CreatedAt: apiTime(s.CreatedAt), ExpiresAt: apiTime(s.ExpiresAt)})
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

func (a *Handler) apiRevokeUser(w http.ResponseWriter, r *http.Request, tok access.APIToken) error {
	var body struct {
		Email string `json:"email"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	email := strings.TrimSpace(body.Email)
	if email == "" {
		return web.Errorf(http.StatusBadRequest, `Name the user: {"email": "…"}.`, nil)
	}
	u, err := a.o.Store.UserByEmail(r.Context(), email)
	switch {
	case errors.Is(err, ErrNotFound):
		return web.Errorf(http.StatusNotFound, "There is no user "+email+".", err)
	case err != nil:
		return err
	}
	now := a.o.Now()
	n, err := a.o.Store.RevokeUser(r.Context(), u.Email, apiActor(tok), now)
	e, unacked := Unacknowledged(RevokeUserEvent(u.Email, n, apiActor(tok), now), err)
	if err != nil && !unacked {
		return err
	}
	a.recordEvent(r, e)
	web.WriteJSON(w, http.StatusOK, withAcks(map[string]any{"email": u.Email, "revoked_sessions": n}, err))
	return nil
}

func (a *Handler) apiRevokeSession(w http.ResponseWriter, r *http.Request, tok access.APIToken) error {
	var body struct {
		Nonce string `json:"nonce"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Nonce == "" {
		return web.Errorf(http.StatusBadRequest, `Name the session: {"nonce": "…"}.`, nil)
	}
	sess, err := a.o.Store.Session(r.Context(), body.Nonce)
	switch {
	case errors.Is(err, ErrNotFound):
		return web.Errorf(http.StatusNotFound, "There is no such session.", err)
	case err != nil:
		return err
	}
	now := a.o.Now()
	err = a.o.Store.RevokeSession(r.Context(), sess.Nonce, apiActor(tok), now)
	e, unacked := Unacknowledged(RevokeSessionEvent(sess.Identity.Email, apiActor(tok), now), err)
	if err != nil && !unacked {
		return err
	}
	a.recordEvent(r, e)
	web.WriteJSON(w, http.StatusOK, withAcks(map[string]any{"nonce": sess.Nonce, "email": sess.Identity.Email}, err))
	return nil
}

// apiApp is a protected app in the API.
type apiApp struct {
	Name        string     `json:"name"`
	Domains     []string   `json:"domains"`
	Path        string     `json:"path,omitempty"`
	AUD         string     `json:"aud"`
	RevokedHard *time.Time `json:"revoked_at,omitempty"`
	RevokedSoft *time.Time `json:"soft_revoked_at,omitempty"`
}

func (a *Handler) apiApps(w http.ResponseWriter, _ *http.Request, _ access.APIToken) error {
	out := []apiApp{}
	for _, p := range a.o.Apps().Apps() {
		rev := a.o.Store.AppRevocation(p.AUD)
		out = append(out, apiApp{Name: p.Name, Domains: p.Domains, Path: p.Path, AUD: p.AUD,
			RevokedHard: apiTime(rev.Hard), RevokedSoft: apiTime(rev.Soft)})
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"apps": out})
	return nil
}

func (a *Handler) apiRevokeApp(w http.ResponseWriter, r *http.Request, tok access.APIToken) error {
	var body struct {
		App  string `json:"app"`
		Mode string `json:"mode"` // hard (default) or soft
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	p := a.o.Apps().ByName(body.App)
	if p == nil {
		return web.Errorf(http.StatusNotFound, "There is no application "+body.App+".", nil)
	}
	if body.Mode == "" {
		body.Mode = "hard"
	}
	if body.Mode != "hard" && body.Mode != "soft" {
		return web.Errorf(http.StatusBadRequest, `mode is "hard" (sign in again) or "soft" (re-issued silently).`, nil)
	}
	soft := body.Mode == "soft"
	now := a.o.Now()
	err := a.o.Store.RevokeApp(r.Context(), p.Name, p.AUD, soft, apiActor(tok), now)
	e, unacked := Unacknowledged(RevokeAppEvent(p.Name, soft, apiActor(tok), now), err)
	if err != nil && !unacked {
		return err
	}
	a.recordEvent(r, e)
	web.WriteJSON(w, http.StatusOK, withAcks(map[string]any{"app": p.Name, "aud": p.AUD, "mode": body.Mode}, err))
	return nil
}

// withAcks adds to the answer of a revoke whether every live node
// acknowledged it ("acknowledged") and, when not, the nodes that did not
// ("unacknowledged_nodes"): the revoke is in force either way, those nodes
// refusing every request until they are back in sync with the store.
func withAcks(body map[string]any, err error) map[string]any {
	nodes := access.Unacknowledged(err)
	body["acknowledged"] = nodes == nil
	if nodes != nil {
		body["unacknowledged_nodes"] = nodes
	}
	return body
}

// apiServiceToken is a service token in the API; Secret only on creation.
type apiServiceToken struct {
	ClientID   string     `json:"client_id"`
	Secret     string     `json:"client_secret,omitempty"`
	Name       string     `json:"name"`
	State      string     `json:"state"`
	CreatedAt  *time.Time `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func toAPIServiceToken(t ServiceToken, now time.Time) apiServiceToken {
	return apiServiceToken{ClientID: t.ClientID, Name: t.Name, State: t.State(now), CreatedAt: apiTime(t.CreatedAt),
		ExpiresAt: apiTime(t.ExpiresAt), DisabledAt: apiTime(t.DisabledAt), LastUsedAt: apiTime(t.LastUsedAt)}
}

func (a *Handler) apiServiceTokens(w http.ResponseWriter, r *http.Request, _ access.APIToken) error {
	ts, err := a.tokenStore()
	if err != nil {
		return err
	}
	list, err := ts.ServiceTokens(r.Context())
	if err != nil {
		return err
	}
	now := a.o.Now()
	out := make([]apiServiceToken, 0, len(list))
	for _, t := range list {
		out = append(out, toAPIServiceToken(t, now))
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"service_tokens": out})
	return nil
}

func (a *Handler) apiCreateServiceToken(w http.ResponseWriter, r *http.Request, tok access.APIToken) error {
	ts, err := a.tokenStore()
	if err != nil {
		return err
	}
	var body struct {
		Name     string `json:"name"`
		Duration string `json:"duration"` // 90d, 1y, 8760h, never; default 1y
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	name := strings.TrimSpace(body.Name)
	if name == "" || len(name) > 100 {
		return web.Errorf(http.StatusBadRequest, "Give the service token a name (up to 100 characters).", nil)
	}
	lifetime := defaultServiceTokenLifetime
	if body.Duration != "" {
		if lifetime, err = access.ParseLifetime(body.Duration); err != nil {
			return web.Errorf(http.StatusBadRequest, "duration is like 90d, 1y, 8760h or never.", err)
		}
	}
	now := a.o.Now()
	id, secret, err := ts.CreateServiceToken(r.Context(), name, lifetime, now)
	if err != nil {
		return err
	}
	a.recordEvent(r, ServiceTokenEvent("created", name, id, apiActor(tok), now))
	st := ServiceToken{ClientID: id, Name: name, CreatedAt: now}
	if lifetime > 0 {
		st.ExpiresAt = now.Add(lifetime)
	}
	out := toAPIServiceToken(st, now)
	out.Secret = secret
	web.WriteJSON(w, http.StatusCreated, out)
	return nil
}

// apiChangeServiceToken enables, disables or deletes the service token
// named by the path.
func (a *Handler) apiChangeServiceToken(verb string) apiFunc {
	return func(w http.ResponseWriter, r *http.Request, tok access.APIToken) error {
		ts, err := a.tokenStore()
		if err != nil {
			return err
		}
		id := r.PathValue("id")
		st, err := findServiceToken(r.Context(), ts, id)
		if err != nil {
			return err
		}
		now := a.o.Now()
		switch verb {
		case "enabled":
			err = ts.EnableServiceToken(r.Context(), id, now)
		case "disabled":
			err = ts.DisableServiceToken(r.Context(), id, now)
		default:
			err = ts.DeleteServiceToken(r.Context(), id)
		}
		if errors.Is(err, ErrNotFound) {
			return web.Errorf(http.StatusNotFound, "There is no such service token.", err)
		}
		if err != nil {
			return err
		}
		a.recordEvent(r, ServiceTokenEvent(verb, st.Name, id, apiActor(tok), now))
		web.WriteJSON(w, http.StatusOK, map[string]any{"client_id": id, "name": st.Name, "result": verb})
		return nil
	}
}
