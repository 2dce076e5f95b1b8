package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// APITokens is what the API tokens page reads and writes. The changes
// return ErrNotFound for an unknown token ID.
type APITokens interface {
	APITokenAuth
	// CreateAPIToken stores a new token valid for lifetime (0: never
	// expires) and returns it with its secret, which is not kept.
	CreateAPIToken(ctx context.Context, name string, scopes []string, lifetime time.Duration, by string, now time.Time) (access.APIToken, string, error)
	// APITokens lists every token, newest first.
	APITokens(ctx context.Context) ([]access.APIToken, error)
	RevokeAPIToken(ctx context.Context, id string, now time.Time) error
	DeleteAPIToken(ctx context.Context, id string) error
}

// apiTokenLifetimes are the lifetimes offered for new API tokens.
var apiTokenLifetimes = []duration{
	{Value: "90d", Label: "90 days", Duration: 90 * 24 * time.Hour, Default: true},
	{Value: "30d", Label: "30 days", Duration: 30 * 24 * time.Hour},
	{Value: "1y", Label: "1 year", Duration: 365 * 24 * time.Hour},
	{Value: "never", Label: "Non-expiring"},
}

// apiTokenRow is one row of the API tokens page.
type apiTokenRow struct {
	access.APIToken
	State string // active, revoked or expired
}

// apiTokensData is the data of the API tokens page.
type apiTokensData struct {
	base
	Tokens    []apiTokenRow
	Scopes    []string
	Lifetimes []duration
	Prefix    string // the API's path prefix
}

// apiTokenCreatedData is the data of the page that shows a new API
// token's secret, the only time it is ever shown.
type apiTokenCreatedData struct {
	base
	Token  access.APIToken
	Secret string
	Prefix string
}

// APITokenEvent is the audit event of a change to an API token, the same
// from the admin page, the API and the command line; by is who made it.
func APITokenEvent(verb string, t access.APIToken, by string, now time.Time) access.Event {
	detail := fmt.Sprintf("API token %s: %s (%s, scopes %s", verb, t.Name, t.ID, strings.Join(t.Scopes, ","))
	if verb == "created" {
		if t.ExpiresAt.IsZero() {
			detail += ", never expires"
		} else {
			detail += ", expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
		}
	}
	return access.Event{Time: now, Kind: access.EventAPIToken, Email: by, Detail: detail + ")"}
}

// apiTokenStore returns Options.APITokens, or a 404 error when there is
// none.
func (a *Handler) apiTokenStore() (APITokens, error) {
	if a.o.APITokens == nil {
		return nil, web.Errorf(http.StatusNotFound, "API tokens are not available.", nil)
	}
	return a.o.APITokens, nil
}

func (a *Handler) apiTokens(w http.ResponseWriter, r *http.Request, s adminSession) error {
	ts, err := a.apiTokenStore()
	if err != nil {
		return err
	}
	list, err := ts.APITokens(r.Context())
	if err != nil {
		return err
	}
	now := a.o.Now()
	data := apiTokensData{base: a.pageBase(w, r, s, "api-tokens"), Scopes: access.APIScopes, Lifetimes: apiTokenLifetimes, Prefix: access.PathAPI}
	for _, t := range list {
		data.Tokens = append(data.Tokens, apiTokenRow{APIToken: t, State: t.State(now)})
	}
	return a.tpl.apiTokens.Render(w, http.StatusOK, "API tokens", data)
}

func (a *Handler) createAPIToken(w http.ResponseWriter, r *http.Request, s adminSession) error {
	ts, err := a.apiTokenStore()
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 100 {
		return web.Errorf(http.StatusBadRequest, "Give the API token a name (up to 100 characters).", nil)
	}
	if err := r.ParseForm(); err != nil {
		return web.Errorf(http.StatusBadRequest, "The form could not be read.", err)
	}
	scopes, err := access.ParseScopes(strings.Join(r.PostForm["scope"], ","))
	if err != nil {
		return web.Errorf(http.StatusBadRequest, "Choose at least one scope.", err)
	}
	var d *duration
	for i := range apiTokenLifetimes {
		if apiTokenLifetimes[i].Value == r.PostFormValue("lifetime") {
			d = &apiTokenLifetimes[i]
		}
	}
	if d == nil {
		return web.Errorf(http.StatusBadRequest, "Choose how long the API token lasts.", nil)
	}
	now := a.o.Now()
	tok, secret, err := ts.CreateAPIToken(r.Context(), name, scopes, d.Duration, s.Identity.Email, now)
	if err != nil {
		return err
	}
	a.recordEvent(r, APITokenEvent("created", tok, s.Identity.Email, now))
	return a.tpl.apiTokenCreated.Render(w, http.StatusOK, "API token created", apiTokenCreatedData{
		base: a.pageBase(w, r, s, "api-tokens"), Token: tok, Secret: secret, Prefix: access.PathAPI,
	})
}

// changeAPIToken serves the revoke (del false) or delete POST of an API
// token: a confirmation page first, then the change, an audit event and a
// flash.
func (a *Handler) changeAPIToken(del bool) handlerFunc {
	title, verb, path := "Revoke", "revoked", "revoke"
	if del {
		title, verb, path = "Delete", "deleted", "delete"
	}
	return func(w http.ResponseWriter, r *http.Request, s adminSession) error {
		ts, err := a.apiTokenStore()
		if err != nil {
			return err
		}
		id := strings.TrimSpace(r.PostFormValue("id"))
		list, err := ts.APITokens(r.Context())
		if err != nil {
			return err
		}
		var tok *access.APIToken
		for i := range list {
			if list[i].ID == id {
				tok = &list[i]
			}
		}
		if tok == nil {
			return web.Errorf(http.StatusNotFound, "There is no such API token.", nil)
		}
		back := Prefix + "/api-tokens"
		if !confirmed(r) {
			effects := []string{"The next API call presenting " + tok.Name + " (" + tok.ID + ") is refused with 401."}
			if del {
				effects = append(effects, "The token disappears from the list; this cannot be undone.")
			} else {
				effects = append(effects, "It stays listed as revoked; a new token gets a new secret.")
			}
			return a.confirm(w, r, s, confirmData{
				Heading: title + " API token " + tok.Name + "?",
				Effects: effects,
				Action:  back + "/" + path,
				Fields:  []field{{"id", tok.ID}},
				Button:  title + " token",
				Cancel:  back,
			})
		}
		now := a.o.Now()
		if del {
			err = ts.DeleteAPIToken(r.Context(), tok.ID)
		} else {
			err = ts.RevokeAPIToken(r.Context(), tok.ID, now)
		}
		if errors.Is(err, ErrNotFound) {
			return web.Errorf(http.StatusNotFound, "There is no such API token.", err)
		}
		if err != nil {
			return err
		}
		a.recordEvent(r, APITokenEvent(verb, *tok, s.Identity.Email, now))
		return a.flashAndRedirect(w, r, back, title+"d API token "+tok.Name+" ("+tok.ID+")")
	}
}
