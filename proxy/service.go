package proxy

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// ServiceTokens is what the proxy needs to accept service tokens. The Store
// may implement it (store.DB does); without it, service-token credentials
// and the app tokens minted for them are refused.
type ServiceTokens interface {
	// CheckServiceToken reports, in O(1) from memory, whether clientID and
	// secret name an enabled, unexpired service token, and returns its name.
	CheckServiceToken(clientID, secret string, now time.Time) (name string, ok bool)
	// ServiceTokenActive reports, in O(1) from memory, whether the token
	// with clientID is still enabled and unexpired, and returns its name.
	ServiceTokenActive(clientID string, now time.Time) (name string, ok bool)
}

// serviceTokens returns the Store as ServiceTokens, or nil.
func (h *Handler) serviceTokens() ServiceTokens {
	st, _ := h.o.Store.(ServiceTokens)
	return st
}

// serviceCredentials returns the service-token client ID and secret of r:
// the CF-Access-Client-Id and CF-Access-Client-Secret headers, else the
// app's configured header holding {"cf-access-client-id": ...,
// "cf-access-client-secret": ...}. viaHeader reports the latter, so that
// the caller strips that header too.
func serviceCredentials(r *http.Request, app *access.App) (id, secret string, viaHeader bool) {
	id, secret = r.Header.Get(access.HeaderClientID), r.Header.Get(access.HeaderClientSecret)
	if id != "" || secret != "" {
		return strings.TrimSpace(id), strings.TrimSpace(secret), false
	}
	if app.ServiceTokenHeader == "" {
		return "", "", false
	}
	v := strings.TrimSpace(r.Header.Get(app.ServiceTokenHeader))
	if !strings.HasPrefix(v, "{") {
		return "", "", false
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(v), &body); err != nil || body[access.JSONClientID] == "" {
		return "", "", false
	}
	return body[access.JSONClientID], body[access.JSONClientSecret], true
}

// serviceSubjects are the subjects a service token is evaluated as: by
// client ID, then by name, so that a service_tokens selector may list
// either.
func serviceSubjects(clientID, name string, ip netip.Addr) []access.Subject {
	s := []access.Subject{{ServiceToken: clientID, IP: ip}}
	if name != "" && name != clientID {
		s = append(s, access.Subject{ServiceToken: name, IP: ip})
	}
	return s
}

// serviceAuth evaluates the app's policies for a service token and returns
// the matching service_auth policy, or nil.
func serviceAuth(app *access.App, clientID, name string, ip netip.Addr) *access.Policy {
	for _, s := range serviceSubjects(clientID, name, ip) {
		if res := access.Evaluate(app.Policies, s); res.Decision == access.ServiceAuth {
			return res.Policy
		}
	}
	return nil
}

// mintService returns a signed app token for the service token clientID:
// common_name = client ID, empty sub, no email.
func (h *Handler) mintService(app *access.App, p *access.Policy, clientID string, now time.Time) (*token.Claims, string, error) {
	keys := h.o.Keys()
	if keys == nil {
		return nil, "", errNoKeys
	}
	ttl := app.SessionDuration
	if p != nil && p.SessionDuration > 0 {
		ttl = p.SessionDuration
	}
	if ttl <= 0 {
		ttl = defaultAppSession
	}
	c := token.AppClaims(access.Identity{}, "", app.AUD, now, ttl)
	c.CommonName = clientID
	c.IssuedAt = h.o.Store.AppIssuedAt(app.AUD, now)
	raw, err := keys.Sign(c)
	if err != nil {
		return nil, "", err
	}
	return c, raw, nil
}

// serviceOnly answers an unauthenticated request to an app without an allow
// policy: 401 or 403 (service_auth_401), never a redirect to the login.
func (h *Handler) serviceOnly(w http.ResponseWriter, r *http.Request, app *access.App) {
	status, title := http.StatusForbidden, "Access denied"
	if app.ServiceAuth401 {
		status, title = http.StatusUnauthorized, "Unauthorized"
	}
	h.own(w, r, func(w http.ResponseWriter) {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Cloudflare-Access")
		}
		if web.WantsJSON(r) {
			writeJSON(w, status, map[string]string{"error": errorCode(status), "message": "A valid service token is required."})
			return
		}
		h.o.Pages.Error(w, r, status, title, "A valid service token is required.")
	})
}
