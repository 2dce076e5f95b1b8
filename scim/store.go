package scim

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// User is a provisioned user as stored. UserName is the email the user
// signs in with; Attributes holds the rest of the resource (name, emails,
// the enterprise extension, ...) as a JSON object.
type User struct {
	ID          string
	UserName    string
	ExternalID  string
	DisplayName string
	Active      bool
	Attributes  []byte
	Created     time.Time
	Updated     time.Time
}

// Member is one member of a group.
type Member struct {
	ID       string // the user's id
	UserName string
}

// Group is a provisioned group as stored; its DisplayName is what a
// policy's groups selector names.
type Group struct {
	ID          string
	DisplayName string
	ExternalID  string
	Members     []Member
	Created     time.Time
	Updated     time.Time
}

// Filter selects resources by the equality of one attribute ("id",
// "userName", "externalId" for users; "id", "displayName", "externalId" for
// groups); the zero value selects all.
type Filter struct {
	Attr  string
	Value string
}

// Store is what the SCIM service provider reads and writes. Unknown ids give
// ErrNotFound, a taken userName ErrConflict. Lists return at most limit
// resources (all when limit < 0) after skipping offset, and how many match.
type Store interface {
	CreateUser(ctx context.Context, u User, now time.Time) (User, error)
	User(ctx context.Context, id string) (User, error)
	Users(ctx context.Context, f Filter, offset, limit int) ([]User, int, error)
	// UpdateUser lets fn change the user in one transaction and returns it
	// before and after.
	UpdateUser(ctx context.Context, id string, now time.Time, fn func(*User) error) (before, after User, err error)
	// DeleteUser deletes the user; its userName stays refused at sign-in
	// until provisioned again.
	DeleteUser(ctx context.Context, id string, now time.Time) (User, error)

	// CreateGroup stores a group with the users among g.Members (unknown
	// ids are skipped).
	CreateGroup(ctx context.Context, g Group, now time.Time) (Group, error)
	Group(ctx context.Context, id string) (Group, error)
	Groups(ctx context.Context, f Filter, offset, limit int) ([]Group, int, error)
	UpdateGroup(ctx context.Context, id string, now time.Time, fn func(*Group) error) (before, after Group, err error)
	DeleteGroup(ctx context.Context, id string) (Group, error)

	Audit(ctx context.Context, e access.Event) error
}
