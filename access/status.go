package access

import "time"

// SystemStatus is the operational state an operator sees: the TLS mode,
// each certificate and the last configuration reload.
type SystemStatus struct {
	TLSMode string       // acme, files or off
	Certs   []CertStatus // sorted by domain
	Reload  ReloadStatus
	// Nodes are the nodes registered on the store, by name; NodesError
	// says why they could not be read ("" when they were).
	Nodes      []NodeStatus
	NodesError string
}

// NodeStatus is one registered node as the System panel shows it.
type NodeStatus struct {
	Node
	Live bool // its heartbeat is within the live window: revokes wait for it
	Self bool // the node that answered
}

// CertStatus is the state of the certificate of one domain.
type CertStatus struct {
	Domain      string
	NotAfter    time.Time // zero: no certificate yet
	LastError   string    // text of the last failure to obtain, renew or load it
	LastErrorAt time.Time
	LastOKAt    time.Time // last successful obtain, renewal or load
}

// Failing reports whether the last attempt on the certificate failed (no
// success since the last error).
func (c CertStatus) Failing() bool {
	return c.LastError != "" && !c.LastOKAt.After(c.LastErrorAt)
}

// ReloadStatus is the result of the last configuration reload.
type ReloadStatus struct {
	At    time.Time // zero: no reload since start
	OK    bool
	Error string
}
