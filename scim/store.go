package scim

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// The resources as the store keeps them (see access).
type (
	User   = access.SCIMUser
	Member = access.SCIMMember
	Group  = access.SCIMGroup
	Filter = access.SCIMFilter
)

// Store is what the SCIM service provider reads and writes. Unknown ids give
// ErrNotFound, a taken userName ErrConflict. Lists return at most limit
// resources (all when limit < 0) after skipping offset, and how many match.
type Store interface {
	CreateSCIMUser(ctx context.Context, u User, now time.Time) (User, error)
	SCIMUser(ctx context.Context, id string) (User, error)
	SCIMUsers(ctx context.Context, f Filter, offset, limit int) ([]User, int, error)
	// UpdateSCIMUser lets fn change the user in one transaction and returns it
	// before and after.
	UpdateSCIMUser(ctx context.Context, id string, now time.Time, fn func(*User) error) (before, after User, err error)
	// DeleteSCIMUser deletes the user; its userName stays refused at sign-in
	// until provisioned again.
	DeleteSCIMUser(ctx context.Context, id string, now time.Time) (User, error)

	// CreateSCIMGroup stores a group with the users among g.Members (unknown
	// ids are skipped).
	CreateSCIMGroup(ctx context.Context, g Group, now time.Time) (Group, error)
	SCIMGroup(ctx context.Context, id string) (Group, error)
	SCIMGroups(ctx context.Context, f Filter, offset, limit int) ([]Group, int, error)
	UpdateSCIMGroup(ctx context.Context, id string, now time.Time, fn func(*Group) error) (before, after Group, err error)
	DeleteSCIMGroup(ctx context.Context, id string) (Group, error)

	Audit(ctx context.Context, e access.Event) error
}
