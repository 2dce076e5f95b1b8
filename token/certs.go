package token

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// certCommonName is the subject of the self-signed certificates published
// for each signing key.
const certCommonName = "Gatehouse signing key"

// certValidity is how long a published key certificate is valid.
const certValidity = 10 * 365 * 24 * time.Hour

// JWK is one RSA public key of the certs document.
type JWK struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	E   string `json:"e"`
	N   string `json:"n"`
}

// PublicCert is one signing key as a PEM X.509 certificate.
type PublicCert struct {
	Kid  string `json:"kid"`
	Cert string `json:"cert"`
}

// Certs is the document served at /cdn-cgi/access/certs.
type Certs struct {
	Keys        []JWK        `json:"keys"`
	PublicCert  PublicCert   `json:"public_cert"`
	PublicCerts []PublicCert `json:"public_certs"`
}

// buildCerts renders the certs document for keys (newest first).
func buildCerts(keys []Key) ([]byte, error) {
	doc := Certs{
		Keys:        make([]JWK, 0, len(keys)),
		PublicCerts: make([]PublicCert, 0, len(keys)),
	}
	for _, key := range keys {
		pub := &key.Private.PublicKey
		doc.Keys = append(doc.Keys, JWK{
			Kid: key.ID,
			Kty: "RSA",
			Alg: "RS256",
			Use: "sig",
			E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
			N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		})
		cert, err := selfSignedPEM(key)
		if err != nil {
			return nil, err
		}
		doc.PublicCerts = append(doc.PublicCerts, PublicCert{Kid: key.ID, Cert: cert})
	}
	doc.PublicCert = doc.PublicCerts[0]
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("token: encode certs: %w", err)
	}
	return b, nil
}

// selfSignedPEM returns a PEM self-signed certificate for key. The serial is
// derived from the kid, so the certificate of a key is stable.
func selfSignedPEM(key Key) (string, error) {
	kid, err := hex.DecodeString(key.ID)
	if err != nil || len(kid) < 16 {
		return "", fmt.Errorf("token: certificate for key %q: malformed kid", key.ID)
	}
	serial := new(big.Int).SetBytes(kid[:16])
	serial.SetBit(serial, 127, 0) // keep it positive in DER and at most 16 bytes
	notBefore := key.CreatedAt.Add(-time.Hour).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: certCommonName},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.Private.PublicKey, key.Private)
	if err != nil {
		return "", fmt.Errorf("token: certificate for key %s: %w", key.ID, err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}
