package idp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// EnsureSPKeyPair generates a SAML SP key pair unless keyFile exists: an
// RSA-2048 key into keyFile and a 10-year self-signed certificate for cn
// into certFile, both PEM. Whatever the umask, the key is 0600, the
// certificate 0644 and a directory it creates 0700. Each file is written
// in full before it takes its name, the certificate first, so a crash
// leaves no half key behind.
func EnsureSPKeyPair(keyFile, certFile, cn string, now time.Time) error {
	if _, err := os.Stat(keyFile); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("idp: sp key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("idp: sp key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return fmt.Errorf("idp: sp certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("idp: sp certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("idp: sp key: %w", err)
	}
	if err := writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("idp: sp certificate: %w", err)
	}
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("idp: sp key: %w", err)
	}
	return nil
}

// LoadSPKeyPair reads the SP key and certificate (PEM) of a SAML
// provider; the key must be RSA.
func LoadSPKeyPair(keyFile, certFile string) (*rsa.PrivateKey, *x509.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("idp: sp key pair: %w", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("idp: sp certificate: %w", err)
	}
	key, ok := pair.PrivateKey.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("idp: sp key must be RSA")
	}
	return key, cert, nil
}

// writeFile writes data to path with mode perm whatever the umask,
// creating its directory 0700 if missing. The data goes to a temporary file
// first, which then takes path's name.
func writeFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	// The umask may have taken bits off perm, and a temporary file left by
	// a crash keeps its old mode: set it.
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// SPKeyPair returns the SP key pair of the SAML provider id: the configured
// keyFile and certFile, or, when keyFile is empty, saml-ID.key and
// saml-ID.crt in dataDir, generated (for cn) on first use.
func SPKeyPair(dataDir, id, keyFile, certFile, cn string, now time.Time) (*rsa.PrivateKey, *x509.Certificate, error) {
	if keyFile == "" {
		keyFile = filepath.Join(dataDir, "saml-"+id+".key")
		certFile = filepath.Join(dataDir, "saml-"+id+".crt")
		if err := EnsureSPKeyPair(keyFile, certFile, cn, now); err != nil {
			return nil, nil, err
		}
	}
	return LoadSPKeyPair(keyFile, certFile)
}
