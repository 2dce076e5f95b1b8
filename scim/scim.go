// Package scim is Gatehouse's SCIM 2.0 service provider (RFC 7643/7644) on
// the team domain under access.PathSCIM: an identity provider (Okta,
// Microsoft Entra ID) provisions users and groups, and Gatehouse acts on
// them. Deactivating or deleting a user revokes every session of that user
// and refuses their sign-in; a change of group membership reaches the live
// sessions of the users it concerns at their next request. The protocol
// (routing, schemas, filters, PATCH paths, error bodies) is
// github.com/elimity-com/scim; this package maps it onto a small store.
package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	elim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// Actor is who the audit rows and revocations of SCIM changes name.
const Actor = "scim"

// maxBody bounds a request body (Entra and Okta send a few kilobytes).
const maxBody = 1 << 20

// maxResults bounds a list response page.
const maxResults = 100

// Errors of the store, which the store adapter wraps.
var (
	ErrNotFound = access.ErrNotFound
	ErrConflict = access.ErrConflict
)

// TokenVerifier authenticates the bearer API token of a request.
type TokenVerifier interface {
	// Authenticate returns the API token of r when it carries scope;
	// otherwise a *web.Error of status 401 (no usable token), 403 (not the
	// scope) or 429 (too many failures from the client), having set
	// WWW-Authenticate or Retry-After on w; any other error is the store's.
	Authenticate(w http.ResponseWriter, r *http.Request, scope string) (access.APIToken, error)
	// ClientIP is r's client address by the audit log's rule; "" when
	// unknown.
	ClientIP(r *http.Request) string
}

// Sessions is what SCIM changes do to the sessions of the users they touch.
type Sessions interface {
	// RevokeUser ends every session of the user who signs in as email, on
	// behalf of by, through the admin page's revocation path (in-flight
	// requests are cancelled), and returns how many it ended.
	RevokeUser(ctx context.Context, email, by string, now time.Time) (int, error)
	// Refresh makes the next request of every session of the users who sign
	// in as emails be judged by their identity as it is now (their groups).
	Refresh(ctx context.Context, emails ...string)
}

// Options configure a Handler.
type Options struct {
	TeamURL  string // https://auth.example.com, no trailing slash
	Store    Store
	Sessions Sessions
	Tokens   TokenVerifier
	Log      *slog.Logger     // nil: slog.Default()
	Now      func() time.Time // nil: time.Now
}

// Handler serves access.PathSCIM and below.
type Handler struct {
	o   Options
	log *slog.Logger
	now func() time.Time
	srv elim.Server
}

func init() {
	// Entra ID sends booleans as strings ("False") in PATCH values.
	schema.SetAllowStringValues(true)
}

// New returns the SCIM handler.
func New(o Options) (*Handler, error) {
	h := &Handler{o: o, log: o.Log, now: o.Now}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if o.Store == nil || o.Sessions == nil || o.Tokens == nil {
		return nil, errors.New("scim: store, sessions and tokens are required")
	}
	srv, err := elim.NewServer(&elim.ServerArgs{
		ServiceProviderConfig: &elim.ServiceProviderConfig{
			DocumentationURI: optional.NewString("https://github.com/gatehouse-dev/gatehouse#scim-provisioning"),
			AuthenticationSchemes: []elim.AuthenticationScheme{{
				Type:        elim.AuthenticationTypeOauthBearerToken,
				Name:        "OAuth Bearer Token",
				Description: "A Gatehouse API token with the scim scope, sent as Authorization: Bearer TOKEN.",
				SpecURI:     optional.NewString("https://www.rfc-editor.org/info/rfc6750"),
				Primary:     true,
			}},
			MaxResults:       maxResults,
			SupportFiltering: true,
			SupportPatch:     true,
		},
		ResourceTypes: []elim.ResourceType{
			{
				ID:               optional.NewString("User"),
				Name:             "User",
				Endpoint:         "/Users",
				Description:      optional.NewString("User Account"),
				Schema:           schema.CoreUserSchema(),
				SchemaExtensions: []elim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
				Handler:          users{h},
			},
			{
				ID:          optional.NewString("Group"),
				Name:        "Group",
				Endpoint:    "/Groups",
				Description: optional.NewString("Group"),
				Schema:      schema.CoreGroupSchema(),
				Handler:     groups{h},
			},
		},
	}, elim.WithBaseURL(o.TeamURL+access.PathSCIM), elim.WithLogger(logger{h.log}))
	if err != nil {
		return nil, fmt.Errorf("scim: %w", err)
	}
	h.srv = srv
	return h, nil
}

// IsPath reports whether path is served by the SCIM handler.
func IsPath(path string) bool {
	return path == access.PathSCIM || strings.HasPrefix(path, access.PathSCIM+"/")
}

// ServeHTTP authenticates the request and hands it to the SCIM server.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, err := h.o.Tokens.Authenticate(w, r, access.ScopeSCIM); err != nil {
		// The SCIM error shape (RFC 7644 §3.12) with the authenticator's
		// status and message.
		e := scimerr.ScimError{Status: http.StatusInternalServerError, Detail: "Authentication failed."}
		var we *web.Error
		if errors.As(err, &we) && we.Status != 0 {
			e = scimerr.ScimError{Status: we.Status, Detail: we.Msg}
		} else {
			h.log.ErrorContext(r.Context(), "scim: authenticate", "err", err)
		}
		if e.Status != http.StatusTooManyRequests {
			// Past the failure limit nothing more is written: a stranger
			// cannot fill the audit log.
			h.record(r, access.Event{Time: h.now(), Kind: access.EventSCIM,
				Detail: fmt.Sprintf("Refused %s %s: %d %s", r.Method, access.Clip(r.URL.Path, maxAuditPath), e.Status, http.StatusText(e.Status))})
		}
		writeError(w, e)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	// The library routes on the path below its own "/v2".
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/v2" + strings.TrimPrefix(r.URL.Path, access.PathSCIM)
	r2.URL.RawPath = ""
	switch r2.URL.Path {
	case "/v2/Users", "/v2/Groups", "/v2/Schemas", "/v2/ResourceTypes":
		if r.Method != http.MethodGet {
			break
		}
		listPage(w, r2, h.srv)
		return
	}
	h.srv.ServeHTTP(w, r2)
}

// listPage serves a list request through srv and sets the answer's
// itemsPerPage to the number of resources on the page (RFC 7644 §3.4.2);
// the library reports the requested count there.
func listPage(w http.ResponseWriter, r *http.Request, srv http.Handler) {
	rec := &bufferedWriter{header: http.Header{}}
	srv.ServeHTTP(rec, r)
	body := rec.body.Bytes()
	if rec.status == http.StatusOK {
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err == nil {
			res, _ := doc["Resources"].([]any)
			doc["itemsPerPage"] = len(res)
			if doc["Resources"] == nil {
				doc["Resources"] = []any{}
			}
			if b, err := json.Marshal(doc); err == nil {
				body = b
			}
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.status)
	_, _ = w.Write(body)
}

// bufferedWriter keeps an answer for listPage to rewrite.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// writeError writes a SCIM error body (RFC 7644 §3.12).
// WriteError answers with the SCIM error shape (RFC 7644 §3.12), for a
// refusal made before the request reaches the Handler.
func WriteError(w http.ResponseWriter, status int, detail string) {
	writeError(w, scimerr.ScimError{Status: status, Detail: detail})
}

func writeError(w http.ResponseWriter, e scimerr.ScimError) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(e.Status)
	raw, _ := e.MarshalJSON()
	_, _ = w.Write(raw)
}

// storeError turns a store error into the SCIM error the library writes.
func (h *Handler) storeError(r *http.Request, err error, id string) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return scimerr.ScimErrorResourceNotFound(id)
	case errors.Is(err, ErrConflict):
		return scimerr.ScimErrorUniqueness
	case errors.Is(err, access.ErrStorageFull):
		return scimerr.ScimError{Status: http.StatusInternalServerError, Detail: "Storage is full."}
	}
	var se scimerr.ScimError
	if errors.As(err, &se) {
		return se
	}
	h.log.ErrorContext(r.Context(), "scim: store", "err", err)
	return scimerr.ScimErrorInternal
}

// audit records a SCIM change; the actor (Email) is "scim".
func (h *Handler) audit(r *http.Request, kind, detail string) {
	h.record(r, access.Event{Time: h.now(), Kind: kind, Email: Actor, Detail: detail})
}

// record writes e with r's client IP to the audit log.
func (h *Handler) record(r *http.Request, e access.Event) {
	e.IP = h.o.Tokens.ClientIP(r)
	if err := h.o.Store.Audit(r.Context(), e); err != nil {
		h.log.ErrorContext(r.Context(), "scim: audit", "err", err)
	}
}

// maxAuditPath bounds the request path an audit row records.
const maxAuditPath = 200

// logger adapts slog to the library's logger.
type logger struct{ l *slog.Logger }

func (l logger) Error(args ...any) {
	if len(args) == 0 {
		return
	}
	l.l.Error("scim: "+fmt.Sprint(args[0]), args[1:]...)
}
