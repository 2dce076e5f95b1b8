package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/web"
)

// SessionStore is what the self-service sessions page needs of storage
// besides Store (whose RevokeSession, the admin page's per-session revoke,
// ends a session and cancels its requests in flight before it returns).
type SessionStore interface {
	// UserSessions returns the sessions of the user with userID that are
	// active at now, newest first.
	UserSessions(ctx context.Context, userID string, now time.Time) ([]access.Session, error)
}

// Form fields of PathSessionsEnd.
const (
	paramNonce  = "nonce"  // the session to end
	paramOthers = "others" // "1": end every session but the current one
)

// sessionsData is the data of the sessions page.
type sessionsData struct {
	Email    string
	Sessions []sessionRow
	Others   int // active sessions besides the current one
	CSRF     string
	EndURL   string
	BackURL  string
	Flash    string
}

// sessionRow is one session as its owner sees it.
type sessionRow struct {
	Nonce    string
	Device   string // "Firefox 128 on Linux"
	IP       string // last seen from, else signed in from
	IdP      string
	SignedIn time.Time
	LastSeen time.Time
	Expires  time.Time
	Current  bool // the session of this browser
}

// sessionsPage lists the signed-in user's active global sessions.
func (h *Handler) sessionsPage(w http.ResponseWriter, r *http.Request) error {
	s, ok := h.globalSession(r)
	if !ok {
		v := url.Values{}
		v.Set(paramRedirectURL, access.PathSessions)
		http.Redirect(w, r, access.PathLogin+url.PathEscape(h.o.TeamDomain)+"?"+v.Encode(), http.StatusFound)
		return nil
	}
	list, err := h.o.Sessions.UserSessions(r.Context(), s.Identity.UserID, h.now())
	if err != nil {
		return fmt.Errorf("login: list sessions: %w", err)
	}
	// Same-origin referrers let the browser send a real Origin on the
	// page's form posts (no-referrer makes it "null", which is refused).
	w.Header().Set("Referrer-Policy", "same-origin")
	data := sessionsData{
		Email:   s.Identity.Email,
		CSRF:    h.csrfToken(w, r),
		EndURL:  access.PathSessionsEnd,
		BackURL: access.PathLauncher,
	}
	switch r.URL.Query().Get("ended") {
	case "one":
		data.Flash = "The session was ended."
	case "others":
		data.Flash = "You were signed out everywhere else."
	}
	for _, x := range list {
		row := sessionRow{
			Nonce:    x.Nonce,
			Device:   parseAgent(x.UserAgent).String(),
			IP:       x.Identity.IP,
			IdP:      x.Identity.IdP.ID,
			SignedIn: x.CreatedAt,
			LastSeen: x.CreatedAt,
			Expires:  x.ExpiresAt,
			Current:  x.Nonce == s.Nonce,
		}
		if x.LastSeenAt.After(row.LastSeen) {
			row.LastSeen = x.LastSeenAt
		}
		if x.LastIP != "" {
			row.IP = x.LastIP
		}
		if row.Current {
			// This device first.
			data.Sessions = append([]sessionRow{row}, data.Sessions...)
			continue
		}
		data.Others++
		data.Sessions = append(data.Sessions, row)
	}
	h.o.Pages.Render(w, http.StatusOK, pages.PageSessions, "Your sessions", data)
	return nil
}

// errNotYours refuses ending a session that is not the user's (or does not
// exist, or has ended): the answer does not say which.
var errNotYours = errors.New("login: end session: not an active session of the user")

// endSessions ends one of the signed-in user's sessions, or every one but
// the current, through the admin page's revocation path, and records each
// as a revocation by the user.
func (h *Handler) endSessions(w http.ResponseWriter, r *http.Request) error {
	if o := r.Header.Get("Origin"); o != "" && o != h.o.TeamURL {
		return web.Errorf(http.StatusForbidden, "This request came from another site.", fmt.Errorf("login: end session: origin %q", o))
	}
	if err := r.ParseForm(); err != nil {
		return web.Errorf(http.StatusBadRequest, "The form could not be read.", err)
	}
	if !h.csrfValid(r) {
		return web.Errorf(http.StatusForbidden, "The form has expired. Open the page again and retry.", errors.New("login: end session: bad csrf token"))
	}
	s, ok := h.globalSession(r)
	if !ok {
		return web.Errorf(http.StatusUnauthorized, "Your session has ended. Sign in again.", nil)
	}
	now := h.now()
	list, err := h.o.Sessions.UserSessions(r.Context(), s.Identity.UserID, now)
	if err != nil {
		return fmt.Errorf("login: end session: %w", err)
	}
	var end []access.Session
	others := r.PostForm.Get(paramOthers) == "1"
	want := r.PostForm.Get(paramNonce)
	for _, x := range list {
		if (others && x.Nonce != s.Nonce) || (!others && want != "" && x.Nonce == want) {
			end = append(end, x)
		}
	}
	if !others && len(end) == 0 {
		h.o.Log.WarnContext(r.Context(), "login: refused to end a session that is not the user's", "email", s.Identity.Email, "ip", h.ipString(r))
		return web.Errorf(http.StatusNotFound, "You have no such session.", errNotYours)
	}
	for _, x := range end {
		if err := h.o.Store.RevokeSession(r.Context(), x.Nonce, s.Identity.Email, now); err != nil {
			return fmt.Errorf("login: end session: %w", err)
		}
		detail := fmt.Sprintf("Ended their own session started %s (%s)", x.CreatedAt.UTC().Format(time.RFC3339), parseAgent(x.UserAgent))
		if x.Nonce == s.Nonce {
			detail = "Ended their own current session"
		}
		h.audit(r, access.Event{Kind: access.EventRevoked, Email: s.Identity.Email, IdP: x.Identity.IdP.ID, Detail: detail})
	}
	if !others && end[0].Nonce == s.Nonce {
		// Ending this browser's own session is signing out.
		return h.logout(w, r)
	}
	ended := "one"
	if others {
		ended = "others"
	}
	http.Redirect(w, r, access.PathSessions+"?ended="+ended, http.StatusSeeOther)
	return nil
}
