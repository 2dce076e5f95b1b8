package access

import "errors"

// ErrUserDeactivated refuses the sign-in of a user whom the provisioning
// directory (SCIM) knows as inactive; they may sign in again once
// reactivated.
var ErrUserDeactivated = errors.New("access: the account is deactivated")

// Directory is what the provisioning directory (SCIM) says about the user
// who signs in as an email.
type Directory struct {
	Known  bool     // the directory has a user with this email (userName)
	Active bool     // and that user is active
	Groups []string // the names (displayName) of that user's groups
}

// WithDirectory is THE group rule of provisioned users: for a user the
// directory knows, the directory's groups replace the groups the IdP asserted
// at sign-in (the directory is current, the assertion is as old as the
// session), so that removing someone from a group takes effect at their next
// request. For a user it does not know, the IdP's groups stand.
func (id Identity) WithDirectory(d Directory) Identity {
	if d.Known {
		if !id.provisioned {
			id.idpGroups, id.provisioned = id.Groups, true
		}
		id.Groups = append([]string(nil), d.Groups...)
	}
	return id
}
