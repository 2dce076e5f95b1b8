package login

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-dev/gatehouse/policy"
)

// launcherData is the data of the launcher page.
type launcherData struct {
	Email     string
	Tiles     []tile
	SignInURL string // set when nobody is signed in
	LogoutURL string
}

// tile is one app on the launcher.
type tile struct {
	Name string
	URL  string
}

// launcher serves the app launcher: the apps the signed-in user may reach,
// or a sign-in button.
func (h *Handler) launcher(w http.ResponseWriter, r *http.Request) error {
	s, ok := h.globalSession(r)
	if !ok {
		v := url.Values{}
		v.Set(paramRedirectURL, PathLauncher)
		h.o.Pages.Render(w, http.StatusOK, "launcher", "Sign in", launcherData{
			SignInURL: PathLogin + url.PathEscape(h.o.TeamDomain) + "?" + v.Encode(),
		})
		return nil
	}
	subject := h.subject(r, s.Identity)
	data := launcherData{Email: s.Identity.Email, LogoutURL: PathLogout}
	for _, app := range h.o.Apps().Apps() {
		domain := launchDomain(app)
		if domain == "" {
			continue
		}
		res := policy.Evaluate(app.Policies, subject)
		if !res.Allowed() || res.Decision == policy.ServiceAuth {
			continue
		}
		path := app.Path
		if path == "" {
			path = "/"
		}
		data.Tiles = append(data.Tiles, tile{Name: app.Name, URL: h.hostURL(domain) + path})
	}
	h.o.Pages.Render(w, http.StatusOK, "launcher", "Your applications", data)
	return nil
}

// launchDomain is the first concrete (non-wildcard) domain of app, or "".
func launchDomain(app *policy.App) string {
	for _, d := range app.Domains {
		if d != "" && !strings.Contains(d, "*") {
			return d
		}
	}
	return ""
}
