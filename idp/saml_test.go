package idp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
)

const (
	testACS      = "https://auth.example.com/cdn-cgi/access/callback"
	testEntityID = testACS
	testIdPMeta  = "https://idp.example.net/metadata"
)

// memReplay is an in-memory AssertionCache.
type memReplay struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (m *memReplay) UseAssertionID(_ context.Context, id string, expires, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.seen[id]; ok {
		return errors.New("already used")
	}
	m.seen[id] = expires
	return nil
}

func testKeyPair(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// testIdP issues signed SAML responses in process.
type testIdP struct {
	idp *saml.IdentityProvider
}

func newTestIdP(t *testing.T) *testIdP {
	key, cert := testKeyPair(t, "test idp")
	md, _ := url.Parse(testIdPMeta)
	sso, _ := url.Parse("https://idp.example.net/sso")
	return &testIdP{idp: &saml.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *md, SSOURL: *sso}}
}

func (ti *testIdP) metadata(t *testing.T) []byte {
	b, err := xml.Marshal(ti.idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// respOpts shape one crafted response.
type respOpts struct {
	now      time.Time // issue time; zero is now
	audience string    // "" is our entity ID
	reqID    string
	attrs    map[string][]string
	nameID   string
}

// response returns a signed (response and assertion) SAMLResponse XML.
func (ti *testIdP) response(t *testing.T, o respOpts) []byte {
	t.Helper()
	now := o.now
	if now.IsZero() {
		now = time.Now()
	}
	if o.audience == "" {
		o.audience = testEntityID
	}
	var attrs []saml.Attribute
	for name, vals := range o.attrs {
		a := saml.Attribute{Name: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}
		for _, v := range vals {
			a.Values = append(a.Values, saml.AttributeValue{Type: "xs:string", Value: v})
		}
		attrs = append(attrs, a)
	}
	a := &saml.Assertion{
		ID: fmt.Sprintf("id-%d", time.Now().UnixNano()), IssueInstant: now, Version: "2.0",
		Issuer: saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: testIdPMeta},
		Subject: &saml.Subject{
			NameID: &saml.NameID{Format: string(saml.EmailAddressNameIDFormat), Value: o.nameID},
			SubjectConfirmations: []saml.SubjectConfirmation{{Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &saml.SubjectConfirmationData{InResponseTo: o.reqID, Recipient: testACS, NotOnOrAfter: now.Add(5 * time.Minute)}}},
		},
		Conditions: &saml.Conditions{NotBefore: now.Add(-time.Minute), NotOnOrAfter: now.Add(5 * time.Minute),
			AudienceRestrictions: []saml.AudienceRestriction{{Audience: saml.Audience{Value: o.audience}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: now, SessionIndex: "s1",
			AuthnContext: saml.AuthnContext{AuthnContextClassRef: &saml.AuthnContextClassRef{Value: "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"}}}},
		AttributeStatements: []saml.AttributeStatement{{Attributes: attrs}},
	}
	req := &saml.IdpAuthnRequest{IDP: ti.idp, Request: saml.AuthnRequest{ID: o.reqID}, Now: now,
		ACSEndpoint:     &saml.IndexedEndpoint{Binding: saml.HTTPPostBinding, Location: testACS},
		SPSSODescriptor: &saml.SPSSODescriptor{}, Assertion: a}
	if err := req.MakeResponse(); err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.ResponseEl)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post is the ACS request carrying raw as its SAMLResponse.
func post(raw []byte) *http.Request {
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(raw)}, "RelayState": {"r"}}
	r := httptest.NewRequest(http.MethodPost, testACS, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_ = r.ParseForm() // as the ACS handler does
	return r
}

func newTestSAML(t *testing.T, ti *testIdP, mod func(*SAMLConfig)) *SAML {
	t.Helper()
	key, cert := testKeyPair(t, "gatehouse sp")
	cfg := SAMLConfig{ID: "sso", MetadataXML: ti.metadata(t), EntityID: testEntityID, ACSURL: testACS,
		Key: key, Cert: cert, Replay: &memReplay{seen: map[string]time.Time{}}}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var sigRe = regexp.MustCompile(`(?s)<ds:Signature .*?</ds:Signature>`)

func TestSAMLParseResponse(t *testing.T) {
	ti := newTestIdP(t)
	bob := map[string][]string{"mail": {"bob@example.com"}, "displayName": {"Bob"}, "groups": {"devs"}}
	tests := []struct {
		name       string
		opts       respOpts
		requestID  string
		tamper     func([]byte) []byte
		wantErr    error
		wantReason string
	}{
		{name: "valid", opts: respOpts{attrs: bob}},
		{name: "wrong audience", opts: respOpts{attrs: bob, audience: "https://other.example.com/cdn-cgi/access/callback"},
			wantErr: ErrInvalidResponse, wantReason: "saml: wrong audience"},
		{name: "expired", opts: respOpts{attrs: bob, now: time.Now().Add(-time.Hour)},
			wantErr: ErrInvalidResponse, wantReason: "saml: response expired or not yet valid"},
		{name: "issued in the future", opts: respOpts{attrs: bob, now: time.Now().Add(time.Hour)},
			wantErr: ErrInvalidResponse, wantReason: "saml: response expired or not yet valid"},
		{name: "unsigned", opts: respOpts{attrs: bob}, tamper: func(b []byte) []byte { return sigRe.ReplaceAll(b, nil) },
			wantErr: ErrInvalidResponse, wantReason: "saml: response not signed"},
		{name: "tampered", opts: respOpts{attrs: bob},
			tamper: func(b []byte) []byte {
				return []byte(strings.ReplaceAll(string(b), "bob@example.com", "eve@example.com"))
			},
			wantErr: ErrInvalidResponse, wantReason: "saml: signature invalid (tampered response)"},
		{name: "answer to another request", opts: respOpts{attrs: bob, reqID: "id-other"}, requestID: "id-mine",
			wantErr: ErrInvalidResponse, wantReason: "saml: response to an unknown request"},
		{name: "no email", opts: respOpts{attrs: map[string][]string{"displayName": {"Bob"}}, nameID: "bob"},
			wantErr: ErrNoEmail, wantReason: "saml: no email address in the assertion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSAML(t, ti, nil)
			if tt.opts.reqID == "" {
				tt.opts.reqID = "id-req"
			}
			reqID := tt.requestID
			if reqID == "" {
				reqID = tt.opts.reqID
			}
			raw := ti.response(t, tt.opts)
			if tt.tamper != nil {
				tampered := tt.tamper(raw)
				if string(tampered) == string(raw) {
					t.Fatal("tamper changed nothing")
				}
				raw = tampered
			}
			id, err := s.ParseResponse(post(raw), reqID)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if want := (Identity{Email: "bob@example.com", Name: "Bob", Groups: []string{"devs"}}); !reflect.DeepEqual(id, want) {
					t.Errorf("identity = %+v", id)
				}
				// The same assertion again is a replay.
				if _, err := s.ParseResponse(post(raw), reqID); !errors.Is(err, ErrReplayed) || SAMLReason(err) != "saml: assertion replayed" {
					t.Errorf("replay: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if r := SAMLReason(err); r != tt.wantReason {
				t.Errorf("reason = %q, want %q (err %v)", r, tt.wantReason, err)
			}
		})
	}
}

func TestSAMLAttributeMapping(t *testing.T) {
	const (
		entraEmail  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
		entraName   = "http://schemas.microsoft.com/identity/claims/displayname"
		entraGroups = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
	)
	tests := []struct {
		name   string
		cfg    func(*SAMLConfig)
		attrs  map[string][]string
		nameID string
		want   Identity
	}{
		{name: "Entra ID / ADFS claim URIs",
			attrs: map[string][]string{entraEmail: {"Ann@Corp.example"}, entraName: {"Ann"}, entraGroups: {"g1", "g2"}},
			want:  Identity{Email: "ann@corp.example", Name: "Ann", Groups: []string{"g1", "g2"}}},
		{name: "LDAP style mail, cn, memberOf",
			attrs: map[string][]string{"mail": {"cy@uni.example"}, "cn": {"Cy"}, "memberOf": {"staff"}},
			want:  Identity{Email: "cy@uni.example", Name: "Cy", Groups: []string{"staff"}}},
		{name: "eduPersonAffiliation as groups, OID email",
			attrs: map[string][]string{"urn:oid:0.9.2342.19200300.100.1.3": {"di@uni.example"}, "eduPersonAffiliation": {"member", "faculty"}},
			want:  Identity{Email: "di@uni.example", Groups: []string{"member", "faculty"}}},
		{name: "email from the NameID",
			attrs: map[string][]string{"displayName": {"Ed"}}, nameID: "ed@example.com",
			want: Identity{Email: "ed@example.com", Name: "Ed"}},
		{name: "configured attribute names and custom attributes",
			cfg: func(c *SAMLConfig) {
				c.EmailAttribute, c.NameAttribute, c.GroupsAttribute = "userPrincipal", "fullName", "teams"
				c.Attributes = []string{"uid", "teams", "absent"}
			},
			attrs: map[string][]string{"userPrincipal": {"fi@corp.example"}, "fullName": {"Fi"}, "teams": {"a", "b"},
				"uid": {"fi"}, "mail": {"other@corp.example"}, "groups": {"ignored"}},
			want: Identity{Email: "fi@corp.example", Name: "Fi", Groups: []string{"a", "b"},
				Custom: map[string]any{"uid": "fi", "teams": []string{"a", "b"}}}},
	}
	ti := newTestIdP(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSAML(t, ti, tt.cfg)
			id, err := s.ParseResponse(post(ti.response(t, respOpts{attrs: tt.attrs, nameID: tt.nameID, reqID: "id-1"})), "id-1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(id, tt.want) {
				t.Errorf("identity = %+v, want %+v", id, tt.want)
			}
		})
	}
}

func TestSAMLConfiguredEmailAttributeIgnoresNameID(t *testing.T) {
	ti := newTestIdP(t)
	s := newTestSAML(t, ti, func(c *SAMLConfig) { c.EmailAttribute = "email" })
	_, err := s.ParseResponse(post(ti.response(t, respOpts{nameID: "x@example.com", reqID: "id-1",
		attrs: map[string][]string{"mail": {"x@example.com"}}})), "id-1")
	if !errors.Is(err, ErrNoEmail) {
		t.Errorf("err = %v, want ErrNoEmail", err)
	}
}

func TestSAMLMetadataAndAuthnRequest(t *testing.T) {
	ti := newTestIdP(t)
	s := newTestSAML(t, ti, nil)
	md, err := s.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`entityID="` + testEntityID + `"`, `Location="` + testACS + `"`, "emailAddress"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("metadata lacks %s:\n%s", want, md)
		}
	}
	u, reqID, err := s.AuthnRequest(context.Background(), "relay-1")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := url.Parse(u)
	if !strings.HasPrefix(u, "https://idp.example.net/sso?") || p.Query().Get("RelayState") != "relay-1" || p.Query().Get("SAMLRequest") == "" || reqID == "" {
		t.Errorf("redirect %s, request %q", u, reqID)
	}
}

func TestSAMLMetadataURLUnreachable(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	ti := newTestIdP(t)
	s := newTestSAML(t, ti, func(c *SAMLConfig) { c.MetadataXML, c.MetadataURL = nil, down.URL })
	if _, _, err := s.AuthnRequest(context.Background(), "r"); !errors.Is(err, ErrUnreachable) {
		t.Errorf("404 metadata: err = %v", err)
	}
	if _, err := s.ParseResponse(post([]byte("<x/>")), "id"); !errors.Is(err, ErrUnreachable) || SAMLReason(err) != "saml: identity provider not reachable" {
		t.Errorf("parse while unreachable: %v", err)
	}
	down.Close()
}
