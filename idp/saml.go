package idp

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
)

// Default SAML attribute names, tried in order.
var (
	DefaultEmailAttributes = []string{
		"email", "mail", "urn:oid:0.9.2342.19200300.100.1.3",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
	}
	DefaultNameAttributes = []string{
		"displayName", "name", "cn", "urn:oid:2.16.840.1.113730.3.1.241",
		"http://schemas.microsoft.com/identity/claims/displayname",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
	}
	DefaultGroupsAttributes = []string{
		"groups", "memberOf", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
		"eduPersonAffiliation", "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
	}
)

// AssertionCache remembers accepted assertion IDs until they expire.
// UseAssertionID fails (with an error of its own) for an ID already used.
type AssertionCache interface {
	UseAssertionID(ctx context.Context, id string, expires, now time.Time) error
}

// SAMLConfig configures a SAML 2.0 identity provider of the service
// provider that Gatehouse is.
type SAMLConfig struct {
	ID              string // provider id from the config
	MetadataURL     string // IdP metadata URL, or
	MetadataXML     []byte // IdP metadata document (from metadata_file)
	EntityID        string // SP entity ID: the team URL + /cdn-cgi/access/callback
	ACSURL          string // the team domain's callback URL
	Key             crypto.Signer
	Cert            *x509.Certificate
	EmailAttribute  string   // "" tries DefaultEmailAttributes, then an email-like NameID
	NameAttribute   string   // "" tries DefaultNameAttributes
	GroupsAttribute string   // "" tries DefaultGroupsAttributes
	Attributes      []string // copied into Identity.Custom
	Replay          AssertionCache
	HTTPClient      *http.Client
	Log             *slog.Logger
	Now             func() time.Time
}

// SAML is one SAML identity provider. Its metadata is loaded from the file
// at once, or from the URL in the background and again on demand.
type SAML struct {
	cfg SAMLConfig
	acs url.URL

	mu      sync.Mutex
	sp      *saml.ServiceProvider // nil until the IdP metadata is loaded
	lastTry time.Time
}

// NewSAML checks cfg. With MetadataXML it parses the IdP metadata now.
func NewSAML(cfg SAMLConfig) (*SAML, error) {
	if cfg.ID == "" || cfg.EntityID == "" || cfg.ACSURL == "" || cfg.Key == nil || cfg.Cert == nil || cfg.Replay == nil {
		return nil, errors.New("idp: saml: id, entity id, ACS URL, key, certificate and replay cache are required")
	}
	if (cfg.MetadataURL == "") == (len(cfg.MetadataXML) == 0) {
		return nil, fmt.Errorf("idp: saml %s: exactly one of metadata URL and metadata document is required", cfg.ID)
	}
	acs, err := url.Parse(cfg.ACSURL)
	if err != nil {
		return nil, fmt.Errorf("idp: saml %s: ACS URL: %w", cfg.ID, err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &SAML{cfg: cfg, acs: *acs}
	if len(cfg.MetadataXML) > 0 {
		md, err := samlsp.ParseMetadata(cfg.MetadataXML)
		if err != nil {
			return nil, fmt.Errorf("idp: saml %s: metadata: %w", cfg.ID, err)
		}
		s.sp = s.serviceProvider(md)
	}
	return s, nil
}

// ID is the provider id.
func (s *SAML) ID() string { return s.cfg.ID }

// serviceProvider is Gatehouse's SP for IdP metadata md: signed responses
// or assertions required, email NameID requested, IdP-initiated sign-in
// refused.
func (s *SAML) serviceProvider(md *saml.EntityDescriptor) *saml.ServiceProvider {
	return &saml.ServiceProvider{
		EntityID:          s.cfg.EntityID,
		Key:               s.cfg.Key,
		Certificate:       s.cfg.Cert,
		HTTPClient:        s.cfg.HTTPClient,
		AcsURL:            s.acs,
		MetadataURL:       s.acs,
		IDPMetadata:       md,
		AuthnNameIDFormat: saml.EmailAddressNameIDFormat,
		AllowIDPInitiated: false,
	}
}

// Start loads the IdP metadata from its URL in the background, retrying
// with backoff until it succeeds or ctx ends.
func (s *SAML) Start(ctx context.Context) {
	if s.cfg.MetadataURL == "" {
		return
	}
	go retryLoop(ctx, func() bool {
		_, err := s.load(ctx, true)
		return err == nil
	})
}

// load returns the SP, fetching the IdP metadata when it is missing and the
// last attempt is old enough (or force is set).
func (s *SAML) load(ctx context.Context, force bool) (*saml.ServiceProvider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sp != nil {
		return s.sp, nil
	}
	if !force && time.Since(s.lastTry) < onDemandRetry {
		return nil, fmt.Errorf("idp: saml %s: metadata fetch failed moments ago: %w", s.cfg.ID, ErrUnreachable)
	}
	s.lastTry = time.Now()
	md, err := s.fetch(ctx)
	if err != nil {
		s.cfg.Log.Warn("idp: saml metadata fetch failed", "idp", s.cfg.ID, "url", s.cfg.MetadataURL, "err", err)
		return nil, fmt.Errorf("idp: saml %s: metadata: %w: %w", s.cfg.ID, ErrUnreachable, err)
	}
	s.cfg.Log.Info("idp: saml metadata loaded", "idp", s.cfg.ID, "entity_id", md.EntityID)
	s.sp = s.serviceProvider(md)
	return s.sp, nil
}

// fetch downloads and parses the IdP metadata.
func (s *SAML) fetch(ctx context.Context) (*saml.EntityDescriptor, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.MetadataURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	return samlsp.ParseMetadata(b)
}

// Metadata is the SP metadata document (it needs no IdP metadata).
func (s *SAML) Metadata() ([]byte, error) {
	sp := s.serviceProvider(nil)
	b, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("idp: saml %s: sp metadata: %w", s.cfg.ID, err)
	}
	return append([]byte(xml.Header), b...), nil
}

// AuthnRequest builds an HTTP-Redirect AuthnRequest carrying relayState. It
// returns the IdP URL to redirect to and the request ID, which the caller
// keeps and passes to ParseResponse. It fails with ErrUnreachable while the
// IdP metadata is missing.
func (s *SAML) AuthnRequest(ctx context.Context, relayState string) (redirect, requestID string, err error) {
	sp, err := s.load(ctx, false)
	if err != nil {
		return "", "", err
	}
	sso := sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if sso == "" {
		return "", "", fmt.Errorf("idp: saml %s: the IdP has no HTTP-Redirect SSO endpoint", s.cfg.ID)
	}
	req, err := sp.MakeAuthenticationRequest(sso, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", "", fmt.Errorf("idp: saml %s: authn request: %w", s.cfg.ID, err)
	}
	u, err := req.Redirect(relayState, sp)
	if err != nil {
		return "", "", fmt.Errorf("idp: saml %s: authn request: %w", s.cfg.ID, err)
	}
	return u.String(), req.ID, nil
}

// ParseResponse validates the SAMLResponse posted in r (signature,
// issuer, audience, recipient, time conditions with bounded skew,
// InResponseTo = requestID), accepts its assertion ID once and maps the
// attributes. Failures wrap ErrInvalidResponse, ErrReplayed, ErrNoEmail or
// ErrUnreachable.
func (s *SAML) ParseResponse(r *http.Request, requestID string) (Identity, error) {
	sp, err := s.load(r.Context(), false)
	if err != nil {
		return Identity{}, err
	}
	a, err := sp.ParseResponse(r, []string{requestID})
	if err != nil {
		reason := err
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil {
			reason = ire.PrivateErr
		}
		if ire != nil {
			if code := samlStatus(ire.Response); code != "" {
				return Identity{}, fmt.Errorf("idp: saml %s: %w", s.cfg.ID, &ProviderError{Code: code})
			}
		}
		return Identity{}, fmt.Errorf("idp: saml %s: %w: %w", s.cfg.ID, ErrInvalidResponse, reason)
	}
	now := s.cfg.Now()
	if err := s.cfg.Replay.UseAssertionID(r.Context(), a.ID, assertionExpiry(a, now), now); err != nil {
		return Identity{}, fmt.Errorf("idp: saml %s: assertion %s: %w: %w", s.cfg.ID, a.ID, ErrReplayed, err)
	}
	return s.identity(a)
}

// samlStatus returns the status code of a SAML response that is not a
// success (the second-level code when there is one, being more precise), or
// "". The code is for the page shown to the user only: the response failed
// validation, so nothing else in it is believed.
func samlStatus(response string) string {
	if response == "" {
		return ""
	}
	var resp saml.Response
	if err := xml.Unmarshal([]byte(response), &resp); err != nil {
		return ""
	}
	sc := resp.Status.StatusCode
	if sc.Value == "" || sc.Value == saml.StatusSuccess {
		return ""
	}
	if sc.StatusCode != nil && sc.StatusCode.Value != "" {
		return sc.StatusCode.Value
	}
	return sc.Value
}

// assertionExpiry is how long a's ID must be remembered: until no check
// would accept it any more, clock skew included.
func assertionExpiry(a *saml.Assertion, now time.Time) time.Time {
	exp := a.IssueInstant.Add(saml.MaxIssueDelay)
	if a.Conditions != nil && a.Conditions.NotOnOrAfter.After(exp) {
		exp = a.Conditions.NotOnOrAfter
	}
	if a.Subject != nil {
		for _, sc := range a.Subject.SubjectConfirmations {
			if d := sc.SubjectConfirmationData; d != nil && d.NotOnOrAfter.After(exp) {
				exp = d.NotOnOrAfter
			}
		}
	}
	exp = exp.Add(saml.MaxClockSkew)
	if exp.Before(now) {
		exp = now.Add(saml.MaxClockSkew)
	}
	return exp
}

// identity maps a's attributes.
func (s *SAML) identity(a *saml.Assertion) (Identity, error) {
	attrs := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				for _, key := range []string{at.Name, at.FriendlyName} {
					if key != "" {
						attrs[key] = append(attrs[key], v.Value)
					}
				}
			}
		}
	}
	pick := func(configured string, defaults []string) []string {
		if configured != "" {
			return attrs[configured]
		}
		for _, name := range defaults {
			if v := attrs[name]; len(v) > 0 {
				return v
			}
		}
		return nil
	}
	candidates := pick(s.cfg.EmailAttribute, DefaultEmailAttributes)
	if s.cfg.EmailAttribute == "" && a.Subject != nil && a.Subject.NameID != nil {
		candidates = append(candidates, a.Subject.NameID.Value)
	}
	email, err := emailFrom(candidates...)
	if err != nil {
		return Identity{}, fmt.Errorf("idp: saml %s: %w", s.cfg.ID, err)
	}
	id := Identity{
		Email:  email,
		Name:   firstNonEmpty(pick(s.cfg.NameAttribute, DefaultNameAttributes)...),
		Groups: pick(s.cfg.GroupsAttribute, DefaultGroupsAttributes),
	}
	for _, name := range s.cfg.Attributes {
		v, ok := attrs[name]
		if !ok {
			continue
		}
		if id.Custom == nil {
			id.Custom = map[string]any{}
		}
		if len(v) == 1 {
			id.Custom[name] = v[0]
		} else {
			id.Custom[name] = v
		}
	}
	return id, nil
}

// FailureReason is SAMLReason(err): the audit reason of a failed response,
// for callers that hold the connector behind an interface.
func (s *SAML) FailureReason(err error) string { return SAMLReason(err) }

// SAMLReason is a short audit reason for a failed SAML response.
func SAMLReason(err error) string {
	msg := err.Error()
	var refused *ProviderError
	switch {
	case errors.Is(err, ErrReplayed):
		return "saml: assertion replayed"
	case errors.As(err, &refused):
		return "saml: provider returned status " + refused.Code
	case errors.Is(err, ErrUnreachable):
		return "saml: identity provider not reachable"
	case errors.Is(err, ErrNoEmail):
		return "saml: no email address in the assertion"
	case strings.Contains(msg, "signature element not present"):
		return "saml: response not signed"
	case strings.Contains(msg, "signature"), strings.Contains(msg, "Signature"), strings.Contains(msg, "digest"):
		return "saml: signature invalid (tampered response)"
	case strings.Contains(msg, "Audience"), strings.Contains(msg, "audience"):
		return "saml: wrong audience"
	case strings.Contains(msg, "expired"), strings.Contains(msg, "not yet valid"):
		return "saml: response expired or not yet valid"
	case strings.Contains(msg, "InResponseTo"), strings.Contains(msg, "request IDs"):
		return "saml: response to an unknown request"
	case strings.Contains(msg, "Recipient"), strings.Contains(msg, "Destination"):
		return "saml: wrong recipient"
	}
	return "saml: invalid response: " + msg
}
