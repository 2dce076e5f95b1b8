package idp

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSPKeyPairModes generates an SP key pair under the usual umask 022
// into a directory that does not exist yet: the key is 0600, the
// directory 0700, and the pair loads as an RSA key and its certificate.
func TestSPKeyPairModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	keyFile, certFile := filepath.Join(dir, "saml-corp.key"), filepath.Join(dir, "saml-corp.crt")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := EnsureSPKeyPair(keyFile, certFile, "auth.example.com", now); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{dir: 0o700, keyFile: 0o600, certFile: 0o644} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %o, want %o", filepath.Base(p), got, mode)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	key, cert, err := LoadSPKeyPair(keyFile, certFile)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 || cert.Subject.CommonName != "auth.example.com" ||
		!cert.NotAfter.Equal(now.AddDate(10, 0, 0)) || !cert.NotBefore.Equal(now.Add(-time.Hour)) {
		t.Errorf("key of %d bits, certificate for %q valid %v to %v", key.N.BitLen(), cert.Subject.CommonName, cert.NotBefore, cert.NotAfter)
	}
}

// TestSPKeyPairKept checks that an existing key is never replaced, and that
// a temporary file left by a crash with a wide mode does not widen the key.
func TestSPKeyPairKept(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	keyFile, certFile := filepath.Join(dir, "sp.key"), filepath.Join(dir, "sp.crt")
	if err := os.WriteFile(keyFile+".tmp", []byte("junk"), 0o666); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := EnsureSPKeyPair(keyFile, certFile, "auth.example.com", now); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key after a stale temporary file: %v %v", fi.Mode(), err)
	}
	first, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureSPKeyPair(keyFile, certFile, "other.example.com", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(keyFile); !bytes.Equal(first, again) {
		t.Error("an existing SP key was replaced")
	}
}

func TestLoadSPKeyPairErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadSPKeyPair(filepath.Join(dir, "none.key"), filepath.Join(dir, "none.crt")); err == nil {
		t.Error("missing files: no error")
	}
	// An ECDSA pair loads as TLS keys do, but SAML signing here wants RSA.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, certFile := filepath.Join(dir, "ec.key"), filepath.Join(dir, "ec.crt")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadSPKeyPair(keyFile, certFile); err == nil || !strings.Contains(err.Error(), "must be RSA") {
		t.Errorf("ECDSA pair: %v, want the RSA error", err)
	}
}
