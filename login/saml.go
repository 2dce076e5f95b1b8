package login

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gatehouse-dev/gatehouse/access"
)

// idpTypeSAML is the identity's idp.type after a SAML sign-in.
const idpTypeSAML = "saml"

// samlMetadataPath is the SP metadata path of provider id.
func samlMetadataPath(id string) string { return access.SAMLMetadataPath(url.PathEscape(id)) }

// samlStart sends the browser to the SAML IdP with an AuthnRequest whose
// RelayState is the pending sign-in's state (an opaque reference).
func (h *Handler) samlStart(w http.ResponseWriter, r *http.Request, t target, p Provider) error {
	if p.SAML == nil {
		return fmt.Errorf("login: provider %q has no SAML connector", p.ID)
	}
	// The request carries the state and the request ID is known only once
	// the request is built: the pending sign-in is stored after it, whole.
	state := newState()
	u, reqID, err := p.SAML.AuthnRequest(r.Context(), state)
	if err != nil {
		if errors.Is(err, access.ErrUnreachable) {
			return h.fail(w, r, p, &t.flow, t.appName(), "", unreachable(p, err))
		}
		return fmt.Errorf("login: saml start: %w", err)
	}
	if err := h.putPending(r.Context(), state, t, p, pending{RequestID: reqID}); err != nil {
		return err
	}
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

// samlCallback completes a SAML sign-in at the ACS.
func (h *Handler) samlCallback(w http.ResponseWriter, r *http.Request) error {
	pend, ok, err := h.pending.take(r.Context(), r.PostForm.Get(paramRelayState), h.now())
	if err != nil {
		return err
	}
	if !ok {
		return h.fail(w, r, Provider{Kind: KindSAML}, nil, "", "", unknownState)
	}
	p, ok := h.provider(pend.Provider)
	if !ok || p.Kind != KindSAML || p.SAML == nil {
		return h.fail(w, r, Provider{}, &pend.Flow, "", "", unknownState)
	}
	id, err := p.SAML.ParseResponse(r, pend.RequestID)
	if err != nil {
		if errors.Is(err, access.ErrUnreachable) {
			return h.fail(w, r, p, &pend.Flow, "", "", unreachable(p, err))
		}
		var pe *access.ProviderError
		if errors.As(err, &pe) {
			return h.fail(w, r, p, &pend.Flow, "", "", refusedBy(p, pe.Code))
		}
		return h.fail(w, r, p, &pend.Flow, "", "", signInFailure{
			Status: http.StatusUnauthorized,
			Title:  "Sign-in failed",
			Msg:    fmt.Sprintf("The sign-in response from %s was not accepted.", p.Name),
			Reason: p.SAML.FailureReason(err),
		})
	}
	return h.completeSignIn(w, r, p, pend.Flow, idpTypeSAML, id, access.IdPSession{})
}

// samlMetadata serves the SP metadata of the first SAML provider
// (/cdn-cgi/access/saml-metadata) or of the one in the path.
func (h *Handler) samlMetadata(id string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, _ *http.Request) error {
		for _, p := range h.o.Providers {
			if p.Kind != KindSAML || p.SAML == nil || (id != "" && p.ID != id) {
				continue
			}
			b, err := p.SAML.Metadata()
			if err != nil {
				return fmt.Errorf("login: %w", err)
			}
			w.Header().Set("Content-Type", "application/samlmetadata+xml")
			_, _ = w.Write(b)
			return nil
		}
		return h.notFound(w, nil)
	}
}
