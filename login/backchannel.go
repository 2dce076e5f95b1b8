package login

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// maxLogoutBody bounds a posted back-channel logout request.
const maxLogoutBody = 64 << 10

// revokedByPrefix starts the revoker recorded for a back-channel logout:
// "idp:" and the provider id.
const revokedByPrefix = "idp:"

// backchannelRoutes registers the back-channel logout endpoint of every
// provider that has one. Its errors are the one JSON error shape, whatever
// the client accepts: the caller is an identity provider, not a browser.
func (h *Handler) backchannelRoutes(m *http.ServeMux) {
	a := &web.Adapter{Log: h.o.Log, Page: func(w http.ResponseWriter, _ *http.Request, status int, _, msg string) {
		web.WriteJSON(w, status, web.ErrorBody{Error: msg, Status: status})
	}}
	for _, p := range h.o.Providers {
		if p.Kind == KindOIDC && p.BackchannelLogout {
			m.Handle("POST "+access.BackchannelLogoutPath(p.ID), h.limitBackchannel(a.Wrap(h.backchannelLogout(p))))
		}
	}
}

// saveIdPSession records, with the new global session s, the session of
// provider p that it came from, when p logs out through Gatehouse. The ID
// token is kept only when it is needed, as the id_token_hint of signing
// out at the provider. If it cannot be recorded, the new session is ended:
// a session that the provider's logout could not find must not live on.
func (h *Handler) saveIdPSession(r *http.Request, p Provider, s session, idps access.IdPSession) error {
	if !p.logsOut() || idps.Subject == "" {
		return nil
	}
	idps.IdP = p.ID
	if !p.LogoutAtIdP {
		idps.IDToken = ""
	}
	if err := h.o.IdPSessions.SaveIdPSession(r.Context(), s.Nonce, idps); err != nil {
		if rerr := h.o.Store.RevokeSession(r.Context(), s.Nonce, s.Identity.Email, h.now()); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return fmt.Errorf("login: record the provider session: %w", err)
	}
	return nil
}

// backchannelLogout serves POST /cdn-cgi/access/backchannel-logout/{idp}
// (OpenID Connect Back-Channel Logout 1.0): a logout token of provider p,
// once verified, ends the global sessions it names (by sid, else every
// session of its subject from p) through the admin page's revocation, so
// that they are refused at their next request. 200 with no body on
// success, even when no session matched; 400 for an invalid request or
// token.
func (h *Handler) backchannelLogout(p Provider) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBody)
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			return web.Errorf(http.StatusBadRequest, "The logout token must be posted as application/x-www-form-urlencoded.", nil)
		}
		if err := r.ParseForm(); err != nil {
			return web.Errorf(http.StatusBadRequest, "The logout request could not be read.", err)
		}
		if v := r.PostForm["logout_token"]; len(v) != 1 || v[0] == "" {
			return web.Errorf(http.StatusBadRequest, "The request must carry one logout_token.", nil)
		}
		ctx := r.Context()
		c, err := p.OIDC.VerifyLogoutToken(ctx, r.PostForm.Get("logout_token"))
		switch {
		case errors.Is(err, access.ErrUnreachable):
			return web.Errorf(http.StatusServiceUnavailable, fmt.Sprintf("%s is not reachable to verify the logout token.", p.Name), err)
		case err != nil:
			return web.Errorf(http.StatusBadRequest, "The logout token is invalid.", err)
		}
		now := h.now()
		list, err := h.o.IdPSessions.IdPSessions(ctx, p.ID, c.SID, c.Subject, now)
		if err != nil {
			return fmt.Errorf("login: back-channel logout: %w", err)
		}
		by := "sub"
		if c.SID != "" {
			by = "sid"
		}
		for _, s := range list {
			if err := h.o.Store.RevokeSession(ctx, s.Nonce, revokedByPrefix+p.ID, now); err != nil {
				return fmt.Errorf("login: back-channel logout: revoke session: %w", err)
			}
			h.audit(r, access.Event{Kind: access.EventRevoked, Email: s.Identity.Email, IdP: p.ID,
				Detail: fmt.Sprintf("Back-channel logout from %s ended one session (matched by %s)", p.Name, by)})
		}
		h.o.Log.InfoContext(ctx, "login: back-channel logout", "idp", p.ID, "by", by, "sessions", len(list))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

// limitBackchannel wraps a back-channel logout endpoint in its per-IP
// limit, answering 429 with the JSON error shape.
func (h *Handler) limitBackchannel(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wait, hit := h.limitedBy(h.o.Limits.Backchannel, r)
		if !hit {
			next.ServeHTTP(w, r)
			return
		}
		wait = max(wait, time.Second)
		h.o.Log.Info("login: limit reached", "limit", "back-channel logout", "ip", h.ipString(r), "retry_after", wait)
		h.audit(r, access.Event{Kind: access.EventRateLimited, Detail: "back-channel logout limit reached"})
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
		web.WriteJSON(w, http.StatusTooManyRequests, web.ErrorBody{Error: "Too many logout requests. Try again later.", Status: http.StatusTooManyRequests})
	})
}
