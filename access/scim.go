package access

import (
	"errors"
	"time"
)

// ErrConflict is what a store returns (or wraps) for a write refused because
// a unique value (a SCIM user's userName) is taken.
var ErrConflict = errors.New("already exists")

// SCIMUser is a user provisioned over SCIM. UserName is the email the user
// signs in with; Attributes holds the rest of the resource (name, emails,
// the enterprise extension, ...) as a JSON object.
type SCIMUser struct {
	ID          string
	UserName    string
	ExternalID  string
	DisplayName string
	Active      bool
	Attributes  []byte
	Created     time.Time
	Updated     time.Time
}

// SCIMMember is one member of a SCIM group.
type SCIMMember struct {
	ID       string // the SCIM user's id
	UserName string
}

// SCIMGroup is a group provisioned over SCIM; its DisplayName is what a
// policy's groups selector names.
type SCIMGroup struct {
	ID          string
	DisplayName string
	ExternalID  string
	Members     []SCIMMember
	Created     time.Time
	Updated     time.Time
}

// SCIMFilter selects resources by one attribute's equality; the zero value
// selects all. Attr is one of "id", "userName", "externalId" (users) or
// "id", "displayName", "externalId" (groups).
type SCIMFilter struct {
	Attr  string
	Value string
}
