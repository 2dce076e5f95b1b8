package pages

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/web"
)

// ServiceTokenStore is what the service tokens page reads and writes;
// *store.DB implements it.
type ServiceTokenStore interface {
	CreateServiceToken(ctx context.Context, name string, duration time.Duration, now time.Time) (clientID, secret string, err error)
	ServiceTokens(ctx context.Context) ([]store.ServiceToken, error)
	DisableServiceToken(ctx context.Context, clientID string, now time.Time) error
	EnableServiceToken(ctx context.Context, clientID string, now time.Time) error
	DeleteServiceToken(ctx context.Context, clientID string) error
}

// AdminDuration is one choice of lifetime for a new service token.
type AdminDuration struct {
	Value    string // form value
	Label    string
	Duration time.Duration // 0: never expires
	Default  bool
}

// tokenDurations are the lifetimes offered for new service tokens.
var tokenDurations = []AdminDuration{
	{Value: "1y", Label: "1 year", Duration: 8760 * time.Hour, Default: true},
	{Value: "90d", Label: "90 days", Duration: 90 * 24 * time.Hour},
	{Value: "30d", Label: "30 days", Duration: 30 * 24 * time.Hour},
	{Value: "never", Label: "Non-expiring"},
}

// AdminServiceToken is one row of the service tokens page.
type AdminServiceToken struct {
	store.ServiceToken
	State string // active, disabled or expired
}

// AdminServiceTokens is the data of the service tokens page.
type AdminServiceTokens struct {
	AdminBase
	Tokens    []AdminServiceToken
	Durations []AdminDuration
}

// AdminTokenCreated is the data of the page that shows a new token's
// secret, the only time it is ever shown.
type AdminTokenCreated struct {
	AdminBase
	Name      string
	ClientID  string
	Secret    string
	ExpiresAt time.Time // zero: never
}

// tokenStore returns the store as a ServiceTokenStore, or a 404 error when
// it does not manage service tokens.
func (a *Admin) tokenStore() (ServiceTokenStore, error) {
	ts, ok := a.o.Store.(ServiceTokenStore)
	if !ok {
		return nil, web.Errorf(http.StatusNotFound, "Service tokens are not available.", nil)
	}
	return ts, nil
}

func (a *Admin) serviceTokens(w http.ResponseWriter, r *http.Request, s adminSession) error {
	ts, err := a.tokenStore()
	if err != nil {
		return err
	}
	list, err := ts.ServiceTokens(r.Context())
	if err != nil {
		return err
	}
	now := a.o.Now()
	data := AdminServiceTokens{AdminBase: a.base(w, r, s, "tokens"), Durations: tokenDurations}
	for _, t := range list {
		row := AdminServiceToken{ServiceToken: t, State: "active"}
		switch {
		case !t.DisabledAt.IsZero():
			row.State = "disabled"
		case !t.Active(now):
			row.State = "expired"
		}
		data.Tokens = append(data.Tokens, row)
	}
	return a.render(w, http.StatusOK, "admin_tokens", "Service tokens", data)
}

func (a *Admin) createServiceToken(w http.ResponseWriter, r *http.Request, s adminSession) error {
	ts, err := a.tokenStore()
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		return web.Errorf(http.StatusBadRequest, "Give the service token a name.", nil)
	}
	var d *AdminDuration
	for i := range tokenDurations {
		if tokenDurations[i].Value == r.PostFormValue("duration") {
			d = &tokenDurations[i]
		}
	}
	if d == nil {
		return web.Errorf(http.StatusBadRequest, "Choose how long the service token lasts.", nil)
	}
	now := a.o.Now()
	id, secret, err := ts.CreateServiceToken(r.Context(), name, d.Duration, now)
	if err != nil {
		return err
	}
	data := AdminTokenCreated{AdminBase: a.base(w, r, s, "tokens"), Name: name, ClientID: id, Secret: secret}
	if d.Duration > 0 {
		data.ExpiresAt = now.Add(d.Duration)
	}
	a.recordAdmin(r, s, access.EventServiceToken, fmt.Sprintf("service token created: %s (%s, %s)", name, id, strings.ToLower(d.Label)))
	return a.render(w, http.StatusOK, "admin_token_created", "Service token created", data)
}

// tokenAction is a change to one service token made from the admin page.
type tokenAction struct {
	path    string // under AdminPrefix+"/service-tokens/"
	title   string // imperative, for the confirmation heading
	verb    string // past tense, for the flash and audit
	kind    string // audit kind
	button  string
	effects func(t store.ServiceToken) []string
	apply   func(ctx context.Context, ts ServiceTokenStore, id string, now time.Time) error
}

var (
	disableToken = tokenAction{path: "disable", title: "Disable", verb: "Disabled", kind: access.EventRevoked, button: "Disable token",
		effects: func(t store.ServiceToken) []string {
			return []string{
				"The next request presenting " + t.ClientID + " is refused, and so is every app token minted from it.",
				"You can enable it again later; the secret stays the same.",
			}
		},
		apply: func(ctx context.Context, ts ServiceTokenStore, id string, now time.Time) error {
			return ts.DisableServiceToken(ctx, id, now)
		}}
	enableToken = tokenAction{path: "enable", title: "Enable", verb: "Enabled", kind: access.EventServiceToken, button: "Enable token",
		effects: func(t store.ServiceToken) []string {
			return []string{"Requests presenting " + t.ClientID + " and its secret are admitted again where a policy allows it."}
		},
		apply: func(ctx context.Context, ts ServiceTokenStore, id string, now time.Time) error {
			return ts.EnableServiceToken(ctx, id, now)
		}}
	deleteToken = tokenAction{path: "delete", title: "Delete", verb: "Deleted", kind: access.EventRevoked, button: "Delete token",
		effects: func(t store.ServiceToken) []string {
			return []string{
				"The next request presenting " + t.ClientID + " is refused, and so is every app token minted from it.",
				"This cannot be undone: a new token gets a new client ID and secret.",
			}
		},
		apply: func(ctx context.Context, ts ServiceTokenStore, id string, _ time.Time) error {
			return ts.DeleteServiceToken(ctx, id)
		}}
)

// changeServiceToken serves the POST of act: a confirmation page first,
// then the change, an audit event and a flash.
func (a *Admin) changeServiceToken(act tokenAction) adminFunc {
	return func(w http.ResponseWriter, r *http.Request, s adminSession) error {
		ts, err := a.tokenStore()
		if err != nil {
			return err
		}
		id := strings.TrimSpace(r.PostFormValue("id"))
		list, err := ts.ServiceTokens(r.Context())
		if err != nil {
			return err
		}
		var tok *store.ServiceToken
		for i := range list {
			if list[i].ClientID == id {
				tok = &list[i]
			}
		}
		if tok == nil {
			return web.Errorf(http.StatusNotFound, "There is no such service token.", nil)
		}
		back := AdminPrefix + "/service-tokens"
		if !confirmed(r) {
			return a.confirm(w, r, s, AdminConfirm{
				Heading: act.title + " service token " + tok.Name + "?",
				Effects: act.effects(*tok),
				Action:  back + "/" + act.path,
				Fields:  []AdminField{{"id", tok.ClientID}},
				Button:  act.button,
				Cancel:  back,
			})
		}
		if err := act.apply(r.Context(), ts, tok.ClientID, a.o.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return web.Errorf(http.StatusNotFound, "There is no such service token.", err)
			}
			return err
		}
		msg := act.verb + " service token " + tok.Name + " (" + tok.ClientID + ")"
		a.recordAdmin(r, s, act.kind, msg)
		return a.flashAndRedirect(w, r, back, msg)
	}
}

// recordAdmin writes an audit event of kind for a change by the admin.
func (a *Admin) recordAdmin(r *http.Request, s adminSession, kind, detail string) {
	e := access.Event{Time: a.o.Now(), Kind: kind, Email: s.Identity.Email, Detail: detail}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		e.IP = host
	}
	if err := a.o.Store.Audit(r.Context(), e); err != nil {
		a.o.Log.ErrorContext(r.Context(), "ui: admin: audit", "err", err)
	}
}
