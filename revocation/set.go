package revocation

import (
	"bytes"
	"crypto/sha256"
	"slices"
)

// nonceKey is a session nonce as a fixed-size key without pointers, so
// that the garbage collector never scans the (possibly million-entry)
// index: byte 0 holds the length and the rest the nonce, or, for nonces of
// 24 bytes and more, 0xff and a SHA-256 prefix.
type nonceKey [24]byte

// keyOf returns the index key of nonce.
func keyOf[T ~string | ~[]byte](nonce T) nonceKey {
	var k nonceKey
	if len(nonce) < len(k) {
		k[0] = byte(len(nonce))
		copy(k[1:], nonce)
		return k
	}
	sum := sha256.Sum256([]byte(nonce))
	k[0] = 0xff
	copy(k[1:], sum[:])
	return k
}

// sortedKeys is the set of revoked nonces read at start-up: one sorted
// array of 24-byte keys, 24 bytes per revoked session and a single
// allocation (a map of the same keys takes about twice the memory and
// longer to build). It is never modified once built; revocations applied
// later go to a small map beside it.
type sortedKeys []nonceKey

// buildSorted sorts keys in place, drops duplicates and trims the spare
// capacity of the append that collected them.
func buildSorted(keys []nonceKey) sortedKeys {
	slices.SortFunc(keys, func(a, b nonceKey) int { return bytes.Compare(a[:], b[:]) })
	keys = slices.Compact(keys)
	if cap(keys)-len(keys) > len(keys)/8 {
		keys = slices.Clip(slices.Clone(keys))
	}
	return sortedKeys(keys)
}

// has reports whether k is in the set, by binary search.
func (s sortedKeys) has(k nonceKey) bool {
	_, found := slices.BinarySearchFunc(s, k, func(a, b nonceKey) int { return bytes.Compare(a[:], b[:]) })
	return found
}
