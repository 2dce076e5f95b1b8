package login

import (
	"fmt"
	"net/http"
	"strings"
)

// providerCodes turns the error codes identity providers send back into
// sentences for people: OAuth 2.0 (RFC 6749 §4.1.2.1), OpenID Connect Core
// (§3.1.2.6) and SAML 2.0 status codes (SAML Core §3.2.2.2, keyed by the
// part after "urn:oasis:names:tc:SAML:2.0:status:").
var providerCodes = map[string]string{
	// OAuth 2.0 and OpenID Connect.
	"access_denied":              "The sign-in was cancelled, or the identity provider does not let this account use this application.",
	"login_required":             "The identity provider needs you to sign in there first.",
	"interaction_required":       "The identity provider needs you to complete a step there first.",
	"consent_required":           "The identity provider needs you to approve this application first.",
	"account_selection_required": "The identity provider needs you to choose an account first.",
	"temporarily_unavailable":    "The identity provider is busy or down for maintenance. Try again in a few minutes.",
	"server_error":               "The identity provider ran into an error of its own. Try again in a few minutes.",
	"invalid_scope":              "The identity provider refused the permissions Gatehouse asked for. An administrator needs to check the configured scopes.",
	"unauthorized_client":        "The identity provider does not allow Gatehouse to sign people in this way. An administrator needs to check the client settings there.",
	"invalid_client":             "The identity provider does not recognise Gatehouse as a client. An administrator needs to check the client ID and secret.",
	"invalid_request":            "The identity provider could not accept the sign-in request. An administrator needs to check the provider's settings.",
	"unsupported_response_type":  "The identity provider does not support the kind of sign-in Gatehouse asked for. An administrator needs to check the provider's settings.",
	"invalid_request_uri":        "The identity provider could not accept the sign-in request. An administrator needs to check the provider's settings.",
	"invalid_request_object":     "The identity provider could not accept the sign-in request. An administrator needs to check the provider's settings.",
	"request_not_supported":      "The identity provider does not support the kind of sign-in Gatehouse asked for. An administrator needs to check the provider's settings.",
	"request_uri_not_supported":  "The identity provider does not support the kind of sign-in Gatehouse asked for. An administrator needs to check the provider's settings.",
	"registration_not_supported": "The identity provider does not support the kind of sign-in Gatehouse asked for. An administrator needs to check the provider's settings.",
	// SAML 2.0 status codes.
	"Requester":                "The identity provider rejected the sign-in request.",
	"Responder":                "The identity provider could not complete the sign-in.",
	"VersionMismatch":          "The identity provider does not support this version of SAML.",
	"AuthnFailed":              "The identity provider could not confirm who you are.",
	"InvalidAttrNameOrValue":   "The identity provider could not accept the sign-in request. An administrator needs to check the provider's settings.",
	"InvalidNameIDPolicy":      "The identity provider cannot give the kind of user identifier Gatehouse asked for. An administrator needs to check the NameID format.",
	"NoAuthnContext":           "The identity provider cannot sign you in the way this application requires.",
	"NoAvailableIDP":           "No identity provider is available to sign you in.",
	"NoPassive":                "The identity provider needs you to sign in there first.",
	"NoSupportedIDP":           "No identity provider is available to sign you in.",
	"PartialLogout":            "The identity provider could not sign you out everywhere.",
	"ProxyCountExceeded":       "The identity provider could not pass the sign-in on.",
	"RequestDenied":            "The identity provider refused the sign-in.",
	"RequestUnsupported":       "The identity provider does not support the kind of sign-in Gatehouse asked for.",
	"RequestVersionDeprecated": "The identity provider does not support this version of SAML.",
	"RequestVersionTooHigh":    "The identity provider does not support this version of SAML.",
	"RequestVersionTooLow":     "The identity provider does not support this version of SAML.",
	"ResourceNotRecognized":    "The identity provider does not recognise this application.",
	"TooManyResponses":         "The identity provider sent too many answers.",
	"UnknownAttrProfile":       "The identity provider could not accept the sign-in request. An administrator needs to check the provider's settings.",
	"UnknownPrincipal":         "The identity provider does not know this account.",
	"UnsupportedBinding":       "The identity provider does not support the way Gatehouse sent the sign-in request. An administrator needs to check the provider's settings.",
}

// unknownCodeSentence is said of a code providerCodes does not know.
const unknownCodeSentence = "The identity provider did not sign you in."

// samlStatusPrefix starts every SAML 2.0 status code.
const samlStatusPrefix = "urn:oasis:names:tc:SAML:2.0:status:"

// maxShownCode bounds the raw code shown in the detail line.
const maxShownCode = 100

// codeSentence says in words what a provider's error code means; a code it
// does not know gets a general sentence.
func codeSentence(code string) string {
	if s, ok := providerCodes[strings.TrimPrefix(code, samlStatusPrefix)]; ok {
		return s
	}
	return unknownCodeSentence
}

// shownCode is code as the page may show it in its detail line: "" unless it
// is short and made of the characters error codes use. The code comes from
// the query string, so anything else is not repeated to the user.
func shownCode(code string) string {
	if code == "" || len(code) > maxShownCode {
		return ""
	}
	for _, c := range code {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-.:", c)) {
			return ""
		}
	}
	return code
}

// refusedBy is the failure of a sign-in the provider p itself refused with
// code (an OAuth error or a SAML status code): a sentence for people, the
// raw code in the detail line and the audit reason.
func refusedBy(p Provider, code string) signInFailure {
	f := signInFailure{
		Status: http.StatusUnauthorized,
		Title:  "Sign-in not completed",
		Msg:    fmt.Sprintf("%s did not sign you in. %s", p.Name, codeSentence(code)),
		Reason: fmt.Sprintf("%s: provider returned error=%s", p.Kind, code),
	}
	if code == "access_denied" {
		f.Title = "Sign-in cancelled"
	}
	if c := shownCode(code); c != "" {
		f.Detail = "Code from the identity provider: " + c
	}
	return f
}
