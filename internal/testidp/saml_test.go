package testidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/xml"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
)

// spResult is what the test SP's protected page answers.
type spResult struct {
	Subject    string              `json:"subject"`
	Attributes map[string][]string `json:"attributes"`
}

// startTestSP runs a crewjam/saml service provider on a free port that
// trusts idp, registers its metadata with the IdP, and serves /whoami
// (protected) answering the session's subject and attributes as JSON.
func startTestSP(t *testing.T, idp *SAML) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("sp key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test sp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("sp cert: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("sp cert parse: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	metaURL, _ := url.Parse(idp.MetadataURL)
	idpMeta, err := samlsp.FetchMetadata(ctx, http.DefaultClient, *metaURL)
	if err != nil {
		t.Fatalf("fetch idp metadata: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sp listen: %v", err)
	}
	root, _ := url.Parse("http://" + ln.Addr().String())
	sp, err := samlsp.New(samlsp.Options{URL: *root, Key: key, Certificate: cert, IDPMetadata: idpMeta})
	if err != nil {
		t.Fatalf("samlsp: %v", err)
	}
	sp.ServiceProvider.AuthnNameIDFormat = saml.EmailAddressNameIDFormat

	spMeta, err := xml.MarshalIndent(sp.ServiceProvider.Metadata(), "", "  ")
	if err != nil {
		t.Fatalf("sp metadata: %v", err)
	}
	idp.SetSPMetadata(t, spMeta)

	mux := http.NewServeMux()
	mux.Handle("/saml/", sp)
	mux.Handle("/whoami", sp.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := samlsp.SessionFromContext(r.Context()).(samlsp.JWTSessionClaims)
		if !ok {
			http.Error(w, "no session", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(spResult{Subject: s.Subject, Attributes: s.Attributes})
	})))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return root.String() + "/whoami"
}

func TestSAMLLogin(t *testing.T) {
	idp := StartSAML(t, 0)
	if !strings.HasPrefix(idp.EntityID, "http://127.0.0.1:") || idp.EntityID != idp.MetadataURL {
		t.Errorf("EntityID = %s, MetadataURL = %s", idp.EntityID, idp.MetadataURL)
	}
	// On a port chosen at run time, the IdP's own metadata names it too.
	base := strings.TrimSuffix(idp.MetadataURL, "/saml2/idp/metadata.php")
	resp, err := http.Get(idp.MetadataURL)
	if err != nil {
		t.Fatalf("get metadata: %v", err)
	}
	meta := readPage(t, resp)
	for _, want := range []string{`entityID="` + idp.EntityID + `"`, `Location="` + idp.SSOURL} {
		if !strings.Contains(meta, want) {
			t.Errorf("metadata lacks %s:\n%s", want, snippet(meta))
		}
	}
	protected := startTestSP(t, idp)

	tests := []struct {
		name        string
		user, pass  string
		wantSubject string
		wantGroups  []string
		wantName    string
	}{
		{name: "alice", user: "alice", pass: "alicepass", wantSubject: "alice@example.com", wantGroups: []string{"admins", "devs"}, wantName: "Alice"},
		{name: "bob", user: "bob", pass: "bobpass", wantSubject: "bob@example.com", wantGroups: []string{"devs"}, wantName: "Bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar, Timeout: 15 * time.Second}
			resp, err := c.Get(protected)
			if err != nil {
				t.Fatalf("get protected page: %v", err)
			}
			if !strings.HasPrefix(resp.Request.URL.String(), base+"/") {
				t.Fatalf("protected page led to %s, want the IdP", resp.Request.URL)
			}
			final := idp.Login(t, c, resp, tt.user, tt.pass)
			defer final.Body.Close()
			body, _ := io.ReadAll(final.Body)
			if final.StatusCode != http.StatusOK || final.Request.URL.String() != protected {
				t.Fatalf("login ended at %s with %s: %s", final.Request.URL, final.Status, snippet(string(body)))
			}
			var res spResult
			if err := json.Unmarshal(body, &res); err != nil {
				t.Fatalf("decode sp result %q: %v", body, err)
			}
			if res.Subject != tt.wantSubject {
				t.Errorf("subject (NameID) = %q, want %q", res.Subject, tt.wantSubject)
			}
			if got := res.Attributes["email"]; !slices.Equal(got, []string{tt.wantSubject}) {
				t.Errorf("email = %v, want [%s]", got, tt.wantSubject)
			}
			if got := res.Attributes["groups"]; !slices.Equal(got, tt.wantGroups) {
				t.Errorf("groups = %v, want %v", got, tt.wantGroups)
			}
			if got := res.Attributes["displayName"]; !slices.Equal(got, []string{tt.wantName}) {
				t.Errorf("displayName = %v, want [%s]", got, tt.wantName)
			}
		})
	}

	t.Run("wrong password shows the form again", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 15 * time.Second}
		resp, err := c.Get(protected)
		if err != nil {
			t.Fatalf("get protected page: %v", err)
		}
		final := idp.Login(t, c, resp, "alice", "wrong")
		defer final.Body.Close()
		body, _ := io.ReadAll(final.Body)
		if _, fields := FormFields(string(body)); !fields.Has("AuthState") || final.Request.URL.String() == protected {
			t.Errorf("wrong password ended at %s (%s), want the login form again", final.Request.URL, final.Status)
		}
	})
}
