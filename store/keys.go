package store

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/gatehouse-dev/gatehouse/access"
)

// SigningKeys returns the signing keys, newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]access.SigningKey, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT kid, private_pem, created_at FROM signing_keys ORDER BY created_at DESC, kid DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	defer rows.Close()
	var keys []access.SigningKey
	for rows.Next() {
		var (
			k       access.SigningKey
			pemText string
			created int64
		)
		if err := rows.Scan(&k.ID, &pemText, &created); err != nil {
			return nil, fmt.Errorf("store: signing keys: %w", err)
		}
		k.Private, err = decodeKey(pemText)
		if err != nil {
			return nil, fmt.Errorf("store: signing key %s: %w", k.ID, err)
		}
		k.CreatedAt = fromMillis(created)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	return keys, nil
}

// AddSigningKey stores k.
func (db *DB) AddSigningKey(ctx context.Context, k access.SigningKey) error {
	pemText, err := encodeKey(k)
	if err != nil {
		return fmt.Errorf("store: add signing key: %w", err)
	}
	_, err = db.sql.ExecContext(ctx, `INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (?, ?, ?)`,
		k.ID, pemText, toMillis(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: add signing key: %w", err)
	}
	return nil
}

// encodeKey is k's private key as PKCS#8 PEM.
func encodeKey(k access.SigningKey) (string, error) {
	if k.ID == "" || k.Private == nil {
		return "", errors.New("missing id or private key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// decodeKey parses a PKCS#8 PEM RSA private key.
func decodeKey(pemText string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PKCS#8 PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, not RSA", key)
	}
	return rsaKey, nil
}
