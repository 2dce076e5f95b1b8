package token

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Decode returns the header and payload of raw WITHOUT verifying anything.
// It is for display only (the whoami page); never trust what it returns.
func Decode(raw string) (header, payload map[string]any, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("token: decode: want 3 segments, got %d: %w", len(parts), ErrInvalid)
	}
	if header, err = decodeSegment(parts[0]); err != nil {
		return nil, nil, fmt.Errorf("token: decode header: %w: %w", ErrInvalid, err)
	}
	if payload, err = decodeSegment(parts[1]); err != nil {
		return nil, nil, fmt.Errorf("token: decode payload: %w: %w", ErrInvalid, err)
	}
	return header, payload, nil
}

// decodeSegment decodes one base64url JSON object segment.
func decodeSegment(seg string) (map[string]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("segment is not a JSON object")
	}
	return m, nil
}
