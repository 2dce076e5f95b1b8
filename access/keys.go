package access

import (
	"crypto/rsa"
	"time"
)

// SigningKey is an RSA-2048 token signing key. ID is the hex SHA-256 of the
// PKIX DER encoding of the public key (the JWT kid).
type SigningKey struct {
	ID        string
	Private   *rsa.PrivateKey
	CreatedAt time.Time
}

// KeyInfo names one stored signing key without its private part.
type KeyInfo struct {
	ID        string
	CreatedAt time.Time
}
