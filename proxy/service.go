package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
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
// "cf-access-client-secret": ...}.
func serviceCredentials(r *http.Request, app *access.App) (id, secret string) {
	id, secret = r.Header.Get(access.HeaderClientID), r.Header.Get(access.HeaderClientSecret)
	if id != "" || secret != "" {
		return strings.TrimSpace(id), strings.TrimSpace(secret)
	}
	if app.ServiceTokenHeader == "" {
		return "", ""
	}
	v := strings.TrimSpace(r.Header.Get(app.ServiceTokenHeader))
	if !strings.HasPrefix(v, "{") {
		return "", ""
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(v), &body); err != nil || body[access.JSONClientID] == "" {
		return "", ""
	}
	return body[access.JSONClientID], body[access.JSONClientSecret]
}

// mintService returns a signed app token for the service token clientID
// under grant g: common_name = client ID, empty sub, no email.
func (h *Handler) mintService(app *access.App, g access.Grant, clientID string) (*token.Claims, string, error) {
	keys := h.o.Keys()
	if keys == nil {
		return nil, "", errNoKeys
	}
	c := token.AppClaims(access.Identity{}, "", app.AUD, g)
	c.CommonName = clientID
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
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Cloudflare-Access")
	}
	h.fail(w, r, status, title, "A valid service token is required.")
}
