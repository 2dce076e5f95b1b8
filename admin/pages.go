package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/web"
)

// base is the data every admin page has.
type base struct {
	Section string // overview, apps, users, tokens, audit, keys: the active nav entry
	Email   string // the admin
	CSRF    string // token for the page's forms
	Flash   string // message after a redirect
}

// overviewData is the data of the overview page.
type overviewData struct {
	base
	Counts  Counts
	Apps    int
	Since   time.Time
	SignIns []access.Event
	System  *SystemStatus // nil when Options.Status is nil
}

// appRow is one row of the apps page.
type appRow struct {
	Name        string
	Domains     []string
	Path        string
	AUD         string
	Policies    []string // one line per policy
	ActiveUsers int
	RevokedHard time.Time
	RevokedSoft time.Time
}

// appsData is the data of the apps page.
type appsData struct {
	base
	Apps []appRow
}

// usersData is the data of the users page.
type usersData struct {
	base
	Since    time.Time
	Users    []UserSummary
	Open     string           // email whose sessions are shown
	Sessions []access.Session // sessions of Open
	Me       string           // the admin's own session nonce
}

// auditData is the data of the audit page.
type auditData struct {
	base
	Filter AuditFilter
	Kinds  []string
	Apps   []string
	Events []access.Event
	Older  string // URL of the next page, "" when none
	Newest string // URL of the first page, "" when on it
}

// keyRow is one signing key.
type keyRow struct {
	ID        string
	CreatedAt time.Time
	State     string // current, previous or retired
}

// keysData is the data of the keys page.
type keysData struct {
	base
	Keys []keyRow
}

// field is a hidden form field.
type field struct{ Name, Value string }

// confirmData is the data of the confirmation page.
type confirmData struct {
	base
	Heading string
	Effects []string
	Action  string
	Fields  []field
	Button  string
	Cancel  string
}

// pageBase is the base of a page in section.
func (a *Handler) pageBase(w http.ResponseWriter, r *http.Request, s adminSession, section string) base {
	return base{Section: section, Email: s.Identity.Email, CSRF: a.csrfToken(s.Nonce), Flash: a.takeFlash(w, r)}
}

// monthStart is the first instant of now's month, UTC.
func monthStart(now time.Time) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func (a *Handler) overview(w http.ResponseWriter, r *http.Request, s adminSession) error {
	now := a.o.Now()
	since := monthStart(now)
	counts, err := a.o.Store.AdminCounts(r.Context(), since, now)
	if err != nil {
		return err
	}
	signIns, _, err := a.o.Store.AuditSearch(r.Context(), AuditFilter{Kind: access.EventSignIn, Limit: 10})
	if err != nil {
		return err
	}
	var system *SystemStatus
	if a.o.Status != nil {
		st := a.o.Status(r.Context())
		system = &st
	}
	return a.tpl.overview.Render(w, http.StatusOK, "Admin", overviewData{
		base:    a.pageBase(w, r, s, "overview"),
		Counts:  counts,
		Apps:    len(a.o.Apps().Apps()),
		Since:   since,
		SignIns: signIns,
		System:  system,
	})
}

func (a *Handler) apps(w http.ResponseWriter, r *http.Request, s adminSession) error {
	uses, err := a.o.Store.AppUsers(r.Context(), a.o.Now())
	if err != nil {
		return err
	}
	var rows []appRow
	for _, p := range a.o.Apps().Apps() {
		row := appRow{Name: p.Name, Domains: p.Domains, Path: p.Path, AUD: p.AUD}
		rev := a.o.Store.AppRevocation(p.AUD)
		row.RevokedHard, row.RevokedSoft = rev.Hard, rev.Soft
		cutoff := row.RevokedHard
		if row.RevokedSoft.After(cutoff) {
			cutoff = row.RevokedSoft
		}
		users := map[string]bool{}
		for _, u := range uses {
			if u.App == p.Name && u.At.After(cutoff) {
				users[strings.ToLower(u.Email)] = true
			}
		}
		row.ActiveUsers = len(users)
		for _, pol := range p.Policies {
			row.Policies = append(row.Policies, summarizePolicy(pol))
		}
		rows = append(rows, row)
	}
	return a.tpl.apps.Render(w, http.StatusOK, "Applications", appsData{base: a.pageBase(w, r, s, "apps"), Apps: rows})
}

// summarizePolicy renders a policy as one line: "allow Staff: emails, groups".
func summarizePolicy(p access.Policy) string {
	var sel []string
	seen := map[string]bool{}
	add := func(on bool, name string) {
		if on && !seen[name] {
			seen[name] = true
			sel = append(sel, name)
		}
	}
	for _, rule := range p.Include {
		add(rule.Everyone, "everyone")
		add(len(rule.Emails) > 0, "emails")
		add(len(rule.EmailDomains) > 0, "email domains")
		add(len(rule.Groups) > 0, "groups")
		add(len(rule.IdPs) > 0, "login methods")
		add(len(rule.IPRanges) > 0, "IP ranges")
		add(len(rule.ServiceTokens) > 0 || rule.AnyServiceToken, "service tokens")
		add(len(rule.Claims) > 0, "claims")
	}
	out := p.Decision
	if p.Name != "" {
		out += " " + p.Name
	}
	if len(sel) > 0 {
		out += ": " + strings.Join(sel, ", ")
	}
	var extra []string
	if n := len(p.Require); n > 0 {
		extra = append(extra, pages.Plural(n, "require rule"))
	}
	if n := len(p.Exclude); n > 0 {
		extra = append(extra, pages.Plural(n, "exclude rule"))
	}
	if len(extra) > 0 {
		out += " (" + strings.Join(extra, ", ") + ")"
	}
	return out
}

func (a *Handler) users(w http.ResponseWriter, r *http.Request, s adminSession) error {
	now := a.o.Now()
	since := monthStart(now)
	list, err := a.o.Store.UsersSince(r.Context(), since, now)
	if err != nil {
		return err
	}
	data := usersData{base: a.pageBase(w, r, s, "users"), Since: since, Users: list, Me: s.Nonce}
	if email := r.URL.Query().Get("user"); email != "" {
		u, err := a.o.Store.UserByEmail(r.Context(), email)
		switch {
		case errors.Is(err, ErrNotFound):
			return web.Errorf(http.StatusNotFound, "There is no user "+email+".", nil)
		case err != nil:
			return err
		}
		data.Open = u.Email
		if data.Sessions, err = a.o.Store.UserSessions(r.Context(), u.ID, now); err != nil {
			return err
		}
	}
	return a.tpl.users.Render(w, http.StatusOK, "Users", data)
}

// confirmed reports whether the form is the confirmation of a revocation.
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "1" }

func (a *Handler) revokeUser(w http.ResponseWriter, r *http.Request, s adminSession) error {
	email := strings.TrimSpace(r.PostFormValue("email"))
	u, err := a.o.Store.UserByEmail(r.Context(), email)
	switch {
	case errors.Is(err, ErrNotFound):
		return web.Errorf(http.StatusNotFound, "There is no user "+email+".", nil)
	case err != nil:
		return err
	}
	if !confirmed(r) {
		sessions, err := a.o.Store.UserSessions(r.Context(), u.ID, a.o.Now())
		if err != nil {
			return err
		}
		return a.confirm(w, r, s, confirmData{
			Heading: "Revoke " + u.Email + "?",
			Effects: []string{
				fmt.Sprintf("Ends %s of %s, on every application.", pages.Plural(len(sessions), "active session"), u.Email),
				"Their next request to any application is refused and sends them to sign in.",
				"They can sign in again right away; this is not a ban.",
			},
			Action: Prefix + "/users/revoke",
			Fields: []field{{"email", u.Email}},
			Button: "Revoke user",
			Cancel: Prefix + "/users",
		})
	}
	n, err := a.o.Store.RevokeUser(r.Context(), u.Email, s.Identity.Email, a.o.Now())
	e, unacked := Unacknowledged(RevokeUserEvent(u.Email, n, s.Identity.Email, a.o.Now()), err)
	if err != nil && !unacked {
		return err
	}
	a.recordEvent(r, e)
	return a.flashAndRedirect(w, r, Prefix+"/users", e.Detail)
}

func (a *Handler) revokeSession(w http.ResponseWriter, r *http.Request, s adminSession) error {
	nonce := r.PostFormValue("nonce")
	sess, err := a.o.Store.Session(r.Context(), nonce)
	switch {
	case errors.Is(err, ErrNotFound):
		return web.Errorf(http.StatusNotFound, "There is no such session.", nil)
	case err != nil:
		return err
	}
	email := sess.Identity.Email
	back := Prefix + "/users?user=" + url.QueryEscape(email)
	if !confirmed(r) {
		effects := []string{
			fmt.Sprintf("Ends the session of %s started %s, and every application token minted from it.", email, pages.Ago(sess.CreatedAt)),
			"Their other sessions keep working.",
		}
		if nonce == s.Nonce {
			effects = append(effects, "This is your own session: you will have to sign in again.")
		}
		return a.confirm(w, r, s, confirmData{
			Heading: "Revoke this session of " + email + "?",
			Effects: effects,
			Action:  Prefix + "/sessions/revoke",
			Fields:  []field{{"nonce", nonce}},
			Button:  "Revoke session",
			Cancel:  back,
		})
	}
	err = a.o.Store.RevokeSession(r.Context(), nonce, s.Identity.Email, a.o.Now())
	e, unacked := Unacknowledged(RevokeSessionEvent(email, s.Identity.Email, a.o.Now()), err)
	if err != nil && !unacked {
		return err
	}
	a.recordEvent(r, e)
	return a.flashAndRedirect(w, r, back, e.Detail)
}

func (a *Handler) revokeApp(w http.ResponseWriter, r *http.Request, s adminSession) error {
	name := r.PostFormValue("app")
	p := a.o.Apps().ByName(name)
	if p == nil {
		return web.Errorf(http.StatusNotFound, "There is no application "+name+".", nil)
	}
	soft := r.PostFormValue("mode") == "soft"
	mode := "hard"
	if soft {
		mode = "soft"
	}
	if !confirmed(r) {
		c := confirmData{
			Action: Prefix + "/apps/revoke",
			Fields: []field{{"app", p.Name}, {"mode", mode}},
			Cancel: Prefix + "/apps",
		}
		if soft {
			c.Heading = "Re-issue every token of " + p.Name + "?"
			c.Effects = []string{
				"Every token issued for " + p.Name + " so far stops working.",
				"Users with a live global session get a new token silently on their next request, checked against the current policies.",
				"Use this after changing the application's policies.",
			}
			c.Button = "Re-issue tokens"
		} else {
			c.Heading = "Revoke every token of " + p.Name + "?"
			c.Effects = []string{
				"Every token issued for " + p.Name + " so far stops working.",
				"Everyone must sign in with their identity provider again to reach " + p.Name + "; other applications are not affected.",
			}
			c.Button = "Revoke tokens"
		}
		return a.confirm(w, r, s, c)
	}
	err := a.o.Store.RevokeApp(r.Context(), p.Name, p.AUD, soft, s.Identity.Email, a.o.Now())
	e, unacked := Unacknowledged(RevokeAppEvent(p.Name, soft, s.Identity.Email, a.o.Now()), err)
	if err != nil && !unacked {
		return err
	}
	msg := "Revoked every token of " + p.Name
	if soft {
		msg = "Tokens of " + p.Name + " will be re-issued silently"
	}
	if unacked {
		msg = e.Detail
	}
	a.recordEvent(r, e)
	return a.flashAndRedirect(w, r, Prefix+"/apps", msg)
}

// confirm renders the confirmation page of a revocation.
func (a *Handler) confirm(w http.ResponseWriter, r *http.Request, s adminSession, c confirmData) error {
	c.base = base{Email: s.Identity.Email, CSRF: a.csrfToken(s.Nonce)}
	switch {
	case strings.Contains(c.Action, "/apps/"):
		c.Section = "apps"
	case strings.Contains(c.Action, "/service-tokens/"):
		c.Section = "tokens"
	case strings.Contains(c.Action, "/api-tokens/"):
		c.Section = "api-tokens"
	default:
		c.Section = "users"
	}
	return a.tpl.confirm.Render(w, http.StatusOK, "Confirm", c)
}

// auditKinds are the kinds offered by the audit filter.
var auditKinds = []string{access.EventSignIn, access.EventSignInFailed, access.EventAccess, access.EventDenied, access.EventSignOut, access.EventRevoked, access.EventServiceToken, access.EventAPIToken, access.EventAPI, access.EventKeyRotated, access.EventSCIM}

func (a *Handler) audit(w http.ResponseWriter, r *http.Request, s adminSession) error {
	q := r.URL.Query()
	f := AuditFilter{Kind: q.Get("kind"), Email: strings.TrimSpace(q.Get("email")), App: q.Get("app"), Limit: 50}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.Before = b
	}
	events, more, err := a.o.Store.AuditSearch(r.Context(), f)
	if err != nil {
		return err
	}
	data := auditData{base: a.pageBase(w, r, s, "audit"), Filter: f, Kinds: auditKinds, Events: events}
	for _, p := range a.o.Apps().Apps() {
		data.Apps = append(data.Apps, p.Name)
	}
	link := func(before int64) string {
		v := url.Values{}
		for k, val := range map[string]string{"kind": f.Kind, "email": f.Email, "app": f.App} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if before > 0 {
			v.Set("before", strconv.FormatInt(before, 10))
		}
		if len(v) == 0 {
			return Prefix + "/audit"
		}
		return Prefix + "/audit?" + v.Encode()
	}
	if more && len(events) > 0 {
		data.Older = link(events[len(events)-1].ID)
	}
	if f.Before > 0 {
		data.Newest = link(0)
	}
	return a.tpl.audit.Render(w, http.StatusOK, "Audit log", data)
}

func (a *Handler) keys(w http.ResponseWriter, r *http.Request, s adminSession) error {
	keys, err := a.o.Store.SigningKeys(r.Context())
	if err != nil {
		return err
	}
	current := a.o.Keys().CurrentKeyID()
	data := keysData{base: a.pageBase(w, r, s, "keys")}
	previous := false
	for _, k := range keys {
		state := "retired"
		switch {
		case k.ID == current:
			state = "current"
		case !previous:
			state, previous = "previous", true
		}
		data.Keys = append(data.Keys, keyRow{ID: k.ID, CreatedAt: k.CreatedAt, State: state})
	}
	return a.tpl.keys.Render(w, http.StatusOK, "Signing keys", data)
}
