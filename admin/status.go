package admin

import "github.com/gatehouse-dev/gatehouse/access"

// The System panel shows access's operational status types.
type (
	SystemStatus = access.SystemStatus
	CertStatus   = access.CertStatus
	ReloadStatus = access.ReloadStatus
)
