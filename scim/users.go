package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	elim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/gatehouse-dev/gatehouse/access"
)

// userSchema is the User resource type's schema.
var userSchema = resourceSchema{core: schema.CoreUserSchema(), exts: []schema.Schema{schema.ExtensionEnterpriseUser()}}

// userColumns are the User attributes kept in their own columns; dropped are
// those never stored (readOnly ones the server computes, and the password,
// which Gatehouse has no use for).
var (
	userColumns = []string{"userName", "active", "displayName", "externalId"}
	userDropped = []string{"id", "meta", "schemas", "password", "groups"}
)

// users is the /Users resource handler.
type users struct{ h *Handler }

// userMap is u as a client sees it.
func userMap(u User) map[string]any {
	m := map[string]any{}
	if len(u.Attributes) > 0 {
		_ = json.Unmarshal(u.Attributes, &m)
	}
	m["userName"] = u.UserName
	m["active"] = u.Active
	if u.DisplayName != "" {
		m["displayName"] = u.DisplayName
	}
	if u.ExternalID != "" {
		m["externalId"] = u.ExternalID
	}
	return m
}

// userFrom fills u's fields (not id nor times) from the attributes m. An
// absent (or null) active leaves u.Active as it is: a new user is active, but
// a replacement or a patch that does not name active never reactivates a
// deactivated user.
func userFrom(u *User, m map[string]any) error {
	attrs := map[string]any{}
	for k, v := range m {
		attrs[k] = v
	}
	name, _ := attrs["userName"].(string)
	if strings.TrimSpace(name) == "" {
		e := scimerr.ScimErrorInvalidValue
		e.Detail = "userName is required."
		return e
	}
	u.UserName = strings.TrimSpace(name)
	u.ExternalID, _ = attrs["externalId"].(string)
	u.DisplayName, _ = attrs["displayName"].(string)
	if a, ok := attrs["active"].(bool); ok {
		u.Active = a
	}
	for _, k := range append(userColumns, userDropped...) {
		delete(attrs, k)
	}
	raw, err := json.Marshal(attrs)
	if err != nil {
		return fmt.Errorf("scim: encode attributes: %w", err)
	}
	u.Attributes = raw
	return nil
}

// userResource is u as the library returns it.
func userResource(u User) elim.Resource {
	m := userMap(u)
	delete(m, "externalId")
	res := elim.Resource{ID: u.ID, Attributes: m, Meta: elim.Meta{Created: &u.Created, LastModified: &u.Updated}}
	if u.ExternalID != "" {
		res.ExternalID = optional.NewString(u.ExternalID)
	}
	return res
}

func (s users) Create(r *http.Request, attrs elim.ResourceAttributes) (elim.Resource, error) {
	u := User{Active: true}
	if err := userFrom(&u, attrs); err != nil {
		return elim.Resource{}, err
	}
	now := s.h.now()
	u, err := s.h.o.Store.CreateSCIMUser(r.Context(), u, now)
	if err != nil {
		return elim.Resource{}, s.h.storeError(r, err, "")
	}
	s.h.audit(r, access.EventSCIM, "Provisioned user "+u.UserName)
	s.h.userChanged(r, nil, &u)
	return userResource(u), nil
}

func (s users) Get(r *http.Request, id string) (elim.Resource, error) {
	u, err := s.h.o.Store.SCIMUser(r.Context(), id)
	if err != nil {
		return elim.Resource{}, s.h.storeError(r, err, id)
	}
	return userResource(u), nil
}

func (s users) GetAll(r *http.Request, p elim.ListRequestParams) (elim.Page, error) {
	f, simple := simpleFilter(p, "id", "userName", "externalId")
	offset, limit := p.StartIndex-1, p.Count
	if !simple {
		offset, limit = 0, -1 // filtered here
	}
	list, total, err := s.h.o.Store.SCIMUsers(r.Context(), f, offset, limit)
	if err != nil {
		return elim.Page{}, s.h.storeError(r, err, "")
	}
	page := elim.Page{TotalResults: total, Resources: []elim.Resource{}}
	if simple {
		for _, u := range list {
			page.Resources = append(page.Resources, userResource(u))
		}
		return page, nil
	}
	var all []elim.Resource
	for _, u := range list {
		res := userResource(u)
		if passes(p, res) {
			all = append(all, res)
		}
	}
	page.TotalResults = len(all)
	page.Resources = window(all, p.StartIndex-1, p.Count)
	return page, nil
}

func (s users) Replace(r *http.Request, id string, attrs elim.ResourceAttributes) (elim.Resource, error) {
	before, after, err := s.h.o.Store.UpdateSCIMUser(r.Context(), id, s.h.now(), func(u *User) error {
		return userFrom(u, attrs)
	})
	if err != nil {
		return elim.Resource{}, s.h.storeError(r, err, id)
	}
	s.h.audit(r, access.EventSCIM, "Replaced user "+after.UserName)
	s.h.userChanged(r, &before, &after)
	return userResource(after), nil
}

func (s users) Patch(r *http.Request, id string, ops []elim.PatchOperation) (elim.Resource, error) {
	before, after, err := s.h.o.Store.UpdateSCIMUser(r.Context(), id, s.h.now(), func(u *User) error {
		m := userMap(*u)
		if err := applyPatch(m, ops, userSchema); err != nil {
			return err
		}
		return userFrom(u, m)
	})
	if err != nil {
		return elim.Resource{}, s.h.storeError(r, err, id)
	}
	s.h.audit(r, access.EventSCIM, "Updated user "+after.UserName)
	s.h.userChanged(r, &before, &after)
	return userResource(after), nil
}

func (s users) Delete(r *http.Request, id string) error {
	u, err := s.h.o.Store.DeleteSCIMUser(r.Context(), id, s.h.now())
	if err != nil {
		return s.h.storeError(r, err, id)
	}
	s.h.audit(r, access.EventSCIM, "Deleted user "+u.UserName)
	s.h.userChanged(r, &u, nil)
	return nil
}

// userChanged acts on a user's change from before to after (nil: created,
// or deleted): a user deleted or made inactive loses every session; any
// other change refreshes the identity of their sessions.
func (h *Handler) userChanged(r *http.Request, before, after *User) {
	ctx := r.Context()
	switch {
	case after == nil && before.Active, after != nil && !after.Active && (before == nil || before.Active):
		u := after
		why := "deactivated"
		if u == nil {
			u, why = before, "deleted"
		}
		names := []string{u.UserName}
		if before != nil && after != nil && !strings.EqualFold(before.UserName, after.UserName) {
			names = append(names, before.UserName) // renamed and deactivated at once
		}
		for _, name := range names {
			n, err := h.o.Sessions.RevokeUser(ctx, name, Actor, h.now())
			if err != nil {
				h.log.ErrorContext(ctx, "scim: revoke user", "user", name, "err", err)
				continue
			}
			h.log.InfoContext(ctx, "scim: user "+why, "user", name, "sessions_revoked", n)
			h.audit(r, access.EventRevoked, fmt.Sprintf("Revoked %d session(s) of %s: %s by SCIM", n, name, why))
		}
	default:
		var names []string
		if before != nil {
			names = append(names, before.UserName)
		}
		if after != nil && (before == nil || !strings.EqualFold(before.UserName, after.UserName)) {
			names = append(names, after.UserName)
		}
		h.o.Sessions.Refresh(ctx, names...)
	}
}
