package idp

import (
	"errors"
	"fmt"
	"testing"
)

func TestSAMLStatus(t *testing.T) {
	const (
		top  = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="r1" Version="2.0"><samlp:Status><samlp:StatusCode Value="%s">%s</samlp:StatusCode></samlp:Status></samlp:Response>`
		sub  = `<samlp:StatusCode Value="%s"/>`
		resp = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	)
	tests := []struct {
		name, response, want string
	}{
		{"success", fmt.Sprintf(top, "urn:oasis:names:tc:SAML:2.0:status:Success", ""), ""},
		{"top-level code", fmt.Sprintf(top, resp, ""), resp},
		{"second-level code wins", fmt.Sprintf(top, resp, fmt.Sprintf(sub, "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed")), "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"},
		{"not xml", "not xml", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := samlStatus(tt.response); got != tt.want {
				t.Errorf("samlStatus = %q, want %q", got, tt.want)
			}
		})
	}
	err := fmt.Errorf("idp: saml x: %w", &ProviderError{Code: resp})
	if !errors.Is(err, ErrAccessDenied) || SAMLReason(err) != "saml: provider returned status "+resp {
		t.Errorf("reason %q", SAMLReason(err))
	}
}
