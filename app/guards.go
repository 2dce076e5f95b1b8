package app

import (
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/idp"
	"github.com/gatehouse-dev/gatehouse/login"
	"github.com/gatehouse-dev/gatehouse/ops"
	"github.com/gatehouse-dev/gatehouse/proxy"
	"github.com/gatehouse-dev/gatehouse/revocation"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/token"
)

// Interface guards: the store backs the revocation engine and the ops
// metrics and readiness, and the store with the engine in front is what the
// handlers need.
var (
	_ revocation.Source   = (*store.DB)(nil)
	_ ops.Stats           = (*store.DB)(nil)
	_ ops.WriteChecker    = (*store.DB)(nil)
	_ idp.PINStore        = (*store.DB)(nil)
	_ token.KeyStore      = (*store.DB)(nil)
	_ proxy.Store         = revokingStore{}
	_ proxy.ServiceTokens = revokingStore{}
	_ login.Store         = meteredLoginStore{}
	_ admin.Store         = revokingStore{}
	_ admin.ServiceTokens = revokingStore{}
	_ admin.APITokens     = revokingStore{}
	_ login.SessionStore  = revokingStore{}
)
