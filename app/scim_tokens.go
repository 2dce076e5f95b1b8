package app

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse/scim"
	"github.com/gatehouse-dev/gatehouse/store"
)

// apiTokenVerifier checks SCIM bearer tokens against the API tokens.
type apiTokenVerifier struct{ db *store.DB }

var _ scim.TokenVerifier = apiTokenVerifier{}

// VerifyToken refuses every token until API tokens exist.
func (v apiTokenVerifier) VerifyToken(ctx context.Context, secret string, now time.Time) ([]string, error) {
	return nil, scim.ErrBadToken
}
