package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// nonceAlphabet is the alphabet of identity nonces.
const nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// nonceLen is the length of an identity nonce.
const nonceLen = 16

// NewNonce returns a fresh identity_nonce: 16 random alphanumeric characters
// drawn uniformly with crypto/rand.
func NewNonce() string {
	out := make([]byte, 0, nonceLen)
	var buf [32]byte
	// Reject bytes at or above the largest multiple of the alphabet size so
	// every character is equally likely.
	const limit = 256 - 256%len(nonceAlphabet)
	for len(out) < nonceLen {
		rand.Read(buf[:]) // never fails (crypto/rand crashes the program instead)
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, nonceAlphabet[int(b)%len(nonceAlphabet)])
			if len(out) == nonceLen {
				break
			}
		}
	}
	return string(out)
}

// RandomHex returns nBytes random bytes from crypto/rand, hex encoded.
func RandomHex(nBytes int) string {
	b := make([]byte, nBytes)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return hex.EncodeToString(b)
}

// TeamAudience returns the aud of global (org) tokens for teamDomain: the hex
// SHA-256 of "gatehouse-team:" + teamDomain.
func TeamAudience(teamDomain string) string {
	sum := sha256.Sum256([]byte("gatehouse-team:" + teamDomain))
	return hex.EncodeToString(sum[:])
}
