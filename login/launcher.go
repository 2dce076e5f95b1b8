package login

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
)

// launcherData is the data of the launcher page.
type launcherData struct {
	Email       string
	Tiles       []tile
	SignInURL   string // set when nobody is signed in
	LogoutURL   string
	SessionsURL string // the sessions page, when served
}

// tile is one app on the launcher.
type tile struct {
	Name    string
	URL     string // where the tile leads: the chosen domain and the app path
	Domain  string // the chosen domain and path, as shown
	LogoURL string // https logo, or "" for the initial
	Initial string // first letter of Name, shown without a logo
}

// launcher serves the app launcher: the apps the signed-in user may reach,
// or a sign-in button.
func (h *Handler) launcher(w http.ResponseWriter, r *http.Request) error {
	s, ok := h.globalSession(r)
	if !ok {
		v := url.Values{}
		v.Set(paramRedirectURL, access.PathLauncher)
		h.o.Pages.Render(w, http.StatusOK, pages.PageLauncher, "Sign in", launcherData{
			SignInURL: access.PathLogin + url.PathEscape(h.o.TeamDomain) + "?" + v.Encode(),
		})
		return nil
	}
	subject := access.SubjectOf(s.Identity, h.client(r))
	data := launcherData{Email: s.Identity.Email, LogoutURL: access.PathLogout}
	if h.o.Sessions != nil {
		data.SessionsURL = access.PathSessions
	}
	for _, app := range h.o.Apps().Apps() {
		if app.Hidden {
			continue
		}
		domain := launchDomain(app)
		if domain == "" {
			continue
		}
		// Only apps a browser sign-in would be let into: no tile for a
		// block or default deny, nor for an app only service tokens reach.
		res := access.Evaluate(app.Policies, subject)
		if !res.Allowed() || res.Decision == access.ServiceAuth {
			continue
		}
		path := app.EntryPath()
		data.Tiles = append(data.Tiles, newTile(app, h.hostURL(domain)+path, domain+strings.TrimSuffix(path, "/")))
	}
	h.o.Pages.Render(w, http.StatusOK, pages.PageLauncher, "Your applications", data)
	return nil
}

// newTile builds app's tile leading to target.
func newTile(app *access.App, target, shown string) tile {
	t := tile{Name: app.Name, URL: target, Domain: shown}
	if strings.HasPrefix(strings.ToLower(app.LogoURL), "https://") {
		t.LogoURL = app.LogoURL
	}
	if c, _ := utf8.DecodeRuneInString(app.Name); c != utf8.RuneError {
		t.Initial = string(unicode.ToUpper(c))
	}
	return t
}

// launchDomain is the domain a tile of app leads to: its first concrete
// (non-wildcard) domain, or "" when it has none.
func launchDomain(app *access.App) string {
	for _, d := range app.Domains {
		if d != "" && !strings.Contains(d, "*") {
			return d
		}
	}
	return ""
}
