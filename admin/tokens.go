package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/web"
)

// duration is one choice of lifetime for a new service token.
type duration struct {
	Value    string // form value
	Label    string
	Duration time.Duration // 0: never expires
	Default  bool
}

// tokenDurations are the lifetimes offered for new service tokens.
var tokenDurations = []duration{
	{Value: "1y", Label: "1 year", Duration: 8760 * time.Hour, Default: true},
	{Value: "90d", Label: "90 days", Duration: 90 * 24 * time.Hour},
	{Value: "30d", Label: "30 days", Duration: 30 * 24 * time.Hour},
	{Value: "never", Label: "Non-expiring"},
}

// tokenRow is one row of the service tokens page.
type tokenRow struct {
	ServiceToken
	State string // active, disabled or expired
}

// tokensData is the data of the service tokens page.
type tokensData struct {
	base
	Tokens    []tokenRow
	Durations []duration
}

// tokenCreatedData is the data of the page that shows a new token's
// secret, the only time it is ever shown.
type tokenCreatedData struct {
	base
	Name      string
	ClientID  string
	Secret    string
	ExpiresAt time.Time // zero: never
}

// tokenStore returns Options.ServiceTokens, or a 404 error when there is
// none.
func (a *Handler) tokenStore() (ServiceTokens, error) {
	if a.o.ServiceTokens == nil {
		return nil, web.Errorf(http.StatusNotFound, "Service tokens are not available.", nil)
	}
	return a.o.ServiceTokens, nil
}

func (a *Handler) serviceTokens(w http.ResponseWriter, r *http.Request, s adminSession) error {
	ts, err := a.tokenStore()
	if err != nil {
		return err
	}
	list, err := ts.ServiceTokens(r.Context())
	if err != nil {
		return err
	}
	now := a.o.Now()
	data := tokensData{base: a.pageBase(w, r, s, "tokens"), Durations: tokenDurations}
	for _, t := range list {
		data.Tokens = append(data.Tokens, tokenRow{ServiceToken: t, State: t.State(now)})
	}
	return a.tpl.tokens.Render(w, http.StatusOK, "Service tokens", data)
}

func (a *Handler) createServiceToken(w http.ResponseWriter, r *http.Request, s adminSession) error {
	ts, err := a.tokenStore()
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		return web.Errorf(http.StatusBadRequest, "Give the service token a name.", nil)
	}
	var d *duration
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
	data := tokenCreatedData{base: a.pageBase(w, r, s, "tokens"), Name: name, ClientID: id, Secret: secret}
	if d.Duration > 0 {
		data.ExpiresAt = now.Add(d.Duration)
	}
	a.recordEvent(r, ServiceTokenEvent("created", name, id, s.Identity.Email, now))
	return a.tpl.tokenCreated.Render(w, http.StatusOK, "Service token created", data)
}

// tokenAction is a change to one service token made from the admin page.
type tokenAction struct {
	path    string // under Prefix+"/service-tokens/"
	title   string // imperative, for the confirmation heading
	verb    string // past tense, for the flash and audit
	button  string
	effects func(t ServiceToken) []string
	apply   func(ctx context.Context, ts ServiceTokens, id string, now time.Time) error
}

var (
	disableToken = tokenAction{path: "disable", title: "Disable", verb: "Disabled", button: "Disable token",
		effects: func(t ServiceToken) []string {
			return []string{
				"The next request presenting " + t.ClientID + " is refused, and so is every app token minted from it.",
				"You can enable it again later; the secret stays the same.",
			}
		},
		apply: func(ctx context.Context, ts ServiceTokens, id string, now time.Time) error {
			return ts.DisableServiceToken(ctx, id, now)
		}}
	enableToken = tokenAction{path: "enable", title: "Enable", verb: "Enabled", button: "Enable token",
		effects: func(t ServiceToken) []string {
			return []string{"Requests presenting " + t.ClientID + " and its secret are admitted again where a policy allows it."}
		},
		apply: func(ctx context.Context, ts ServiceTokens, id string, now time.Time) error {
			return ts.EnableServiceToken(ctx, id, now)
		}}
	deleteToken = tokenAction{path: "delete", title: "Delete", verb: "Deleted", button: "Delete token",
		effects: func(t ServiceToken) []string {
			return []string{
				"The next request presenting " + t.ClientID + " is refused, and so is every app token minted from it.",
				"This cannot be undone: a new token gets a new client ID and secret.",
			}
		},
		apply: func(ctx context.Context, ts ServiceTokens, id string, _ time.Time) error {
			return ts.DeleteServiceToken(ctx, id)
		}}
)

// changeServiceToken serves the POST of act: a confirmation page first,
// then the change, an audit event and a flash.
func (a *Handler) changeServiceToken(act tokenAction) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, s adminSession) error {
		ts, err := a.tokenStore()
		if err != nil {
			return err
		}
		id := strings.TrimSpace(r.PostFormValue("id"))
		tok, err := findServiceToken(r.Context(), ts, id)
		if err != nil {
			return err
		}
		back := Prefix + "/service-tokens"
		if !confirmed(r) {
			return a.confirm(w, r, s, confirmData{
				Heading: act.title + " service token " + tok.Name + "?",
				Effects: act.effects(*tok),
				Action:  back + "/" + act.path,
				Fields:  []field{{"id", tok.ClientID}},
				Button:  act.button,
				Cancel:  back,
			})
		}
		if err := act.apply(r.Context(), ts, tok.ClientID, a.o.Now()); err != nil {
			if errors.Is(err, ErrNotFound) {
				return web.Errorf(http.StatusNotFound, "There is no such service token.", err)
			}
			return err
		}
		msg := act.verb + " service token " + tok.Name + " (" + tok.ClientID + ")"
		a.recordEvent(r, ServiceTokenEvent(strings.ToLower(act.verb), tok.Name, tok.ClientID, s.Identity.Email, a.o.Now()))
		return a.flashAndRedirect(w, r, back, msg)
	}
}

// findServiceToken returns the service token with client ID id; 404 when
// there is none.
func findServiceToken(ctx context.Context, ts ServiceTokens, id string) (*ServiceToken, error) {
	list, err := ts.ServiceTokens(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ClientID == id {
			return &list[i], nil
		}
	}
	return nil, web.Errorf(http.StatusNotFound, "There is no such service token.", nil)
}
