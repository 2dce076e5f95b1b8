package pages

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/web"
)

// AdminBase is the data every admin page has.
type AdminBase struct {
	Section string // overview, apps, users, tokens, audit, keys: the active nav entry
	Email   string // the admin
	CSRF    string // token for the page's forms
	Flash   string // message after a redirect
}

// AdminOverview is the data of the overview page.
type AdminOverview struct {
	AdminBase
	Counts  store.Counts
	Apps    int
	Since   time.Time
	SignIns []access.Event
	System  *SystemStatus // nil when AdminOptions.Status is nil
}

// AdminApp is one row of the apps page.
type AdminApp struct {
	Name        string
	Domains     []string
	Path        string
	AUD         string
	Policies    []string // one line per policy
	ActiveUsers int
	RevokedHard time.Time
	RevokedSoft time.Time
}

// AdminApps is the data of the apps page.
type AdminApps struct {
	AdminBase
	Apps []AdminApp
}

// AdminUsers is the data of the users page.
type AdminUsers struct {
	AdminBase
	Since    time.Time
	Users    []store.UserSummary
	Open     string           // email whose sessions are shown
	Sessions []access.Session // sessions of Open
	Me       string           // the admin's own session nonce
}

// AdminAudit is the data of the audit page.
type AdminAudit struct {
	AdminBase
	Filter store.AuditFilter
	Kinds  []string
	Apps   []string
	Events []access.Event
	Older  string // URL of the next page, "" when none
	Newest string // URL of the first page, "" when on it
}

// AdminKey is one signing key.
type AdminKey struct {
	ID        string
	CreatedAt time.Time
	State     string // current, previous or retired
}

// AdminKeys is the data of the keys page.
type AdminKeys struct {
	AdminBase
	Keys []AdminKey
}

// AdminField is a hidden form field.
type AdminField struct{ Name, Value string }

// AdminConfirm is the data of the confirmation page.
type AdminConfirm struct {
	AdminBase
	Heading string
	Effects []string
	Action  string
	Fields  []AdminField
	Button  string
	Cancel  string
}

func (a *Admin) base(w http.ResponseWriter, r *http.Request, s adminSession, section string) AdminBase {
	return AdminBase{Section: section, Email: s.Identity.Email, CSRF: a.csrfToken(s.Nonce), Flash: a.takeFlash(w, r)}
}

// monthStart is the first instant of now's month, UTC.
func monthStart(now time.Time) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func (a *Admin) overview(w http.ResponseWriter, r *http.Request, s adminSession) error {
	now := a.o.Now()
	since := monthStart(now)
	counts, err := a.o.Store.AdminCounts(r.Context(), since, now)
	if err != nil {
		return err
	}
	signIns, _, err := a.o.Store.AuditSearch(r.Context(), store.AuditFilter{Kind: access.EventSignIn, Limit: 10})
	if err != nil {
		return err
	}
	var system *SystemStatus
	if a.o.Status != nil {
		st := a.o.Status()
		system = &st
	}
	return a.render(w, http.StatusOK, "admin_overview", "Admin", AdminOverview{
		AdminBase: a.base(w, r, s, "overview"),
		Counts:    counts,
		Apps:      len(a.o.Apps().Apps()),
		Since:     since,
		SignIns:   signIns,
		System:    system,
	})
}

func (a *Admin) apps(w http.ResponseWriter, r *http.Request, s adminSession) error {
	uses, err := a.o.Store.AppUsers(r.Context(), a.o.Now())
	if err != nil {
		return err
	}
	var rows []AdminApp
	for _, p := range a.o.Apps().Apps() {
		row := AdminApp{Name: p.Name, Domains: p.Domains, Path: p.Path, AUD: p.AUD}
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
	return a.render(w, http.StatusOK, "admin_apps", "Applications", AdminApps{AdminBase: a.base(w, r, s, "apps"), Apps: rows})
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
		extra = append(extra, plural(n, "require rule"))
	}
	if n := len(p.Exclude); n > 0 {
		extra = append(extra, plural(n, "exclude rule"))
	}
	if len(extra) > 0 {
		out += " (" + strings.Join(extra, ", ") + ")"
	}
	return out
}

func (a *Admin) users(w http.ResponseWriter, r *http.Request, s adminSession) error {
	now := a.o.Now()
	since := monthStart(now)
	list, err := a.o.Store.UsersSince(r.Context(), since, now)
	if err != nil {
		return err
	}
	data := AdminUsers{AdminBase: a.base(w, r, s, "users"), Since: since, Users: list, Me: s.Nonce}
	if email := r.URL.Query().Get("user"); email != "" {
		u, err := a.o.Store.UserByEmail(r.Context(), email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return web.Errorf(http.StatusNotFound, "There is no user "+email+".", nil)
		case err != nil:
			return err
		}
		data.Open = u.Email
		if data.Sessions, err = a.o.Store.UserSessions(r.Context(), u.ID, now); err != nil {
			return err
		}
	}
	return a.render(w, http.StatusOK, "admin_users", "Users", data)
}

// confirmed reports whether the form is the confirmation of a revocation.
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "1" }

func (a *Admin) revokeUser(w http.ResponseWriter, r *http.Request, s adminSession) error {
	email := strings.TrimSpace(r.PostFormValue("email"))
	u, err := a.o.Store.UserByEmail(r.Context(), email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return web.Errorf(http.StatusNotFound, "There is no user "+email+".", nil)
	case err != nil:
		return err
	}
	if !confirmed(r) {
		sessions, err := a.o.Store.UserSessions(r.Context(), u.ID, a.o.Now())
		if err != nil {
			return err
		}
		return a.confirm(w, r, s, AdminConfirm{
			Heading: "Revoke " + u.Email + "?",
			Effects: []string{
				fmt.Sprintf("Ends %s of %s, on every application.", plural(len(sessions), "active session"), u.Email),
				"Their next request to any application is refused and sends them to sign in.",
				"They can sign in again right away; this is not a ban.",
			},
			Action: AdminPrefix + "/users/revoke",
			Fields: []AdminField{{"email", u.Email}},
			Button: "Revoke user",
			Cancel: AdminPrefix + "/users",
		})
	}
	n, err := a.o.Store.RevokeUser(r.Context(), u.Email, s.Identity.Email, a.o.Now())
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Revoked %s of %s", plural(n, "session"), u.Email)
	a.recordRevocation(r, s, "", msg)
	return a.flashAndRedirect(w, r, AdminPrefix+"/users", msg)
}

func (a *Admin) revokeSession(w http.ResponseWriter, r *http.Request, s adminSession) error {
	nonce := r.PostFormValue("nonce")
	sess, err := a.o.Store.Session(r.Context(), nonce)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return web.Errorf(http.StatusNotFound, "There is no such session.", nil)
	case err != nil:
		return err
	}
	email := sess.Identity.Email
	back := AdminPrefix + "/users?user=" + url.QueryEscape(email)
	if !confirmed(r) {
		effects := []string{
			fmt.Sprintf("Ends the session of %s started %s, and every application token minted from it.", email, ago(sess.CreatedAt)),
			"Their other sessions keep working.",
		}
		if nonce == s.Nonce {
			effects = append(effects, "This is your own session: you will have to sign in again.")
		}
		return a.confirm(w, r, s, AdminConfirm{
			Heading: "Revoke this session of " + email + "?",
			Effects: effects,
			Action:  AdminPrefix + "/sessions/revoke",
			Fields:  []AdminField{{"nonce", nonce}},
			Button:  "Revoke session",
			Cancel:  back,
		})
	}
	if err := a.o.Store.RevokeSessionBy(r.Context(), nonce, s.Identity.Email, a.o.Now()); err != nil {
		return err
	}
	msg := "Revoked one session of " + email
	a.recordRevocation(r, s, "", msg)
	return a.flashAndRedirect(w, r, back, msg)
}

func (a *Admin) revokeApp(w http.ResponseWriter, r *http.Request, s adminSession) error {
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
		c := AdminConfirm{
			Action: AdminPrefix + "/apps/revoke",
			Fields: []AdminField{{"app", p.Name}, {"mode", mode}},
			Cancel: AdminPrefix + "/apps",
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
	if err := a.o.Store.RevokeApp(r.Context(), p.Name, p.AUD, soft, s.Identity.Email, a.o.Now()); err != nil {
		return err
	}
	msg := "Revoked every token of " + p.Name
	if soft {
		msg = "Tokens of " + p.Name + " will be re-issued silently"
	}
	a.recordRevocation(r, s, p.Name, msg+" ("+mode+")")
	return a.flashAndRedirect(w, r, AdminPrefix+"/apps", msg)
}

// confirm renders the confirmation page of a revocation.
func (a *Admin) confirm(w http.ResponseWriter, r *http.Request, s adminSession, c AdminConfirm) error {
	c.AdminBase = AdminBase{Section: "", Email: s.Identity.Email, CSRF: a.csrfToken(s.Nonce)}
	switch {
	case strings.Contains(c.Action, "/apps/"):
		c.Section = "apps"
	case strings.Contains(c.Action, "/service-tokens/"):
		c.Section = "tokens"
	default:
		c.Section = "users"
	}
	return a.render(w, http.StatusOK, "admin_confirm", "Confirm", c)
}

// auditKinds are the kinds offered by the audit filter.
var auditKinds = []string{access.EventSignIn, access.EventSignInFailed, access.EventAccess, access.EventDenied, access.EventSignOut, access.EventRevoked, access.EventServiceToken}

func (a *Admin) audit(w http.ResponseWriter, r *http.Request, s adminSession) error {
	q := r.URL.Query()
	f := store.AuditFilter{Kind: q.Get("kind"), Email: strings.TrimSpace(q.Get("email")), App: q.Get("app"), Limit: 50}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.Before = b
	}
	events, more, err := a.o.Store.AuditSearch(r.Context(), f)
	if err != nil {
		return err
	}
	data := AdminAudit{AdminBase: a.base(w, r, s, "audit"), Filter: f, Kinds: auditKinds, Events: events}
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
			return AdminPrefix + "/audit"
		}
		return AdminPrefix + "/audit?" + v.Encode()
	}
	if more && len(events) > 0 {
		data.Older = link(events[len(events)-1].ID)
	}
	if f.Before > 0 {
		data.Newest = link(0)
	}
	return a.render(w, http.StatusOK, "admin_audit", "Audit log", data)
}

func (a *Admin) keys(w http.ResponseWriter, r *http.Request, s adminSession) error {
	keys, err := a.o.Store.SigningKeys(r.Context())
	if err != nil {
		return err
	}
	current := a.o.Keys().CurrentKeyID()
	data := AdminKeys{AdminBase: a.base(w, r, s, "keys")}
	previous := false
	for _, k := range keys {
		state := "retired"
		switch {
		case k.ID == current:
			state = "current"
		case !previous:
			state, previous = "previous", true
		}
		data.Keys = append(data.Keys, AdminKey{ID: k.ID, CreatedAt: k.CreatedAt, State: state})
	}
	return a.render(w, http.StatusOK, "admin_keys", "Signing keys", data)
}
