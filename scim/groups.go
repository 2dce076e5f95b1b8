package scim

import (
	"net/http"
	"strings"

	elim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	parser "github.com/scim2/filter-parser/v2"

	"github.com/gatehouse-dev/gatehouse/access"
)

// groupSchema is the Group resource type's schema.
var groupSchema = resourceSchema{core: schema.CoreGroupSchema()}

// groups is the /Groups resource handler.
type groups struct{ h *Handler }

// groupMap is g as a client sees it.
func (h *Handler) groupMap(g Group) map[string]any {
	members := make([]any, 0, len(g.Members))
	for _, m := range g.Members {
		members = append(members, map[string]any{
			"value":   m.ID,
			"display": m.UserName,
			"$ref":    h.o.TeamURL + access.PathSCIM + "/Users/" + m.ID,
			"type":    "User",
		})
	}
	m := map[string]any{"displayName": g.DisplayName, "members": members}
	if g.ExternalID != "" {
		m["externalId"] = g.ExternalID
	}
	return m
}

// groupFrom fills g's name, external id and members from the attributes m.
func groupFrom(g *Group, m map[string]any) error {
	name, _ := m["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		e := scimerr.ScimErrorInvalidValue
		e.Detail = "displayName is required."
		return e
	}
	g.DisplayName = strings.TrimSpace(name)
	g.ExternalID, _ = m["externalId"].(string)
	g.Members = nil
	for _, it := range list(m["members"]) {
		item, _ := it.(map[string]any)
		if id, ok := item["value"].(string); ok && id != "" {
			g.Members = append(g.Members, Member{ID: id})
		}
	}
	return nil
}

// groupResource is g as the library returns it for r: without members when
// r excludes them (excludedAttributes=members, which Entra ID sends).
func (h *Handler) groupResource(r *http.Request, g Group) elim.Resource {
	m := h.groupMap(g)
	delete(m, "externalId")
	for _, a := range strings.Split(r.URL.Query().Get("excludedAttributes"), ",") {
		if strings.EqualFold(strings.TrimSpace(a), "members") {
			delete(m, "members")
		}
	}
	res := elim.Resource{ID: g.ID, Attributes: m, Meta: elim.Meta{Created: &g.Created, LastModified: &g.Updated}}
	if g.ExternalID != "" {
		res.ExternalID = optional.NewString(g.ExternalID)
	}
	return res
}

func (s groups) Create(r *http.Request, attrs elim.ResourceAttributes) (elim.Resource, error) {
	var g Group
	if err := groupFrom(&g, attrs); err != nil {
		return elim.Resource{}, err
	}
	g, err := s.h.o.Store.CreateSCIMGroup(r.Context(), g, s.h.now())
	if err != nil {
		return elim.Resource{}, s.h.storeError(r, err, "")
	}
	s.h.audit(r, access.EventSCIM, "Provisioned group "+g.DisplayName)
	s.h.groupChanged(r, nil, &g)
	return s.h.groupResource(r, g), nil
}

func (s groups) Get(r *http.Request, id string) (elim.Resource, error) {
	g, err := s.h.o.Store.SCIMGroup(r.Context(), id)
	if err != nil {
		return elim.Resource{}, s.h.storeError(r, err, id)
	}
	return s.h.groupResource(r, g), nil
}

func (s groups) GetAll(r *http.Request, p elim.ListRequestParams) (elim.Page, error) {
	f, simple := simpleFilter(p, "id", "displayName", "externalId")
	offset, limit := p.StartIndex-1, p.Count
	if !simple {
		offset, limit = 0, -1
	}
	list, total, err := s.h.o.Store.SCIMGroups(r.Context(), f, offset, limit)
	if err != nil {
		return elim.Page{}, s.h.storeError(r, err, "")
	}
	page := elim.Page{TotalResults: total, Resources: []elim.Resource{}}
	if simple {
		for _, g := range list {
			page.Resources = append(page.Resources, s.h.groupResource(r, g))
		}
		return page, nil
	}
	var all []elim.Resource
	for _, g := range list {
		res := s.h.groupResource(r, g)
		if passes(p, res) {
			all = append(all, res)
		}
	}
	page.TotalResults = len(all)
	page.Resources = window(all, p.StartIndex-1, p.Count)
	return page, nil
}

func (s groups) Replace(r *http.Request, id string, attrs elim.ResourceAttributes) (elim.Resource, error) {
	before, after, err := s.h.o.Store.UpdateSCIMGroup(r.Context(), id, s.h.now(), func(g *Group) error {
		return groupFrom(g, attrs)
	})
	if err != nil {
		return elim.Resource{}, s.h.storeError(r, err, id)
	}
	s.h.audit(r, access.EventSCIM, "Replaced group "+after.DisplayName)
	s.h.groupChanged(r, &before, &after)
	return s.h.groupResource(r, after), nil
}

func (s groups) Patch(r *http.Request, id string, ops []elim.PatchOperation) (elim.Resource, error) {
	before, after, err := s.h.o.Store.UpdateSCIMGroup(r.Context(), id, s.h.now(), func(g *Group) error {
		m := s.h.groupMap(*g)
		if err := applyPatch(m, ops, groupSchema); err != nil {
			return err
		}
		return groupFrom(g, m)
	})
	if err != nil {
		return elim.Resource{}, s.h.storeError(r, err, id)
	}
	s.h.audit(r, access.EventSCIM, "Updated group "+after.DisplayName)
	s.h.groupChanged(r, &before, &after)
	return s.h.groupResource(r, after), nil
}

func (s groups) Delete(r *http.Request, id string) error {
	g, err := s.h.o.Store.DeleteSCIMGroup(r.Context(), id)
	if err != nil {
		return s.h.storeError(r, err, id)
	}
	s.h.audit(r, access.EventSCIM, "Deleted group "+g.DisplayName)
	s.h.groupChanged(r, &g, nil)
	return nil
}

// groupChanged refreshes the sessions of the users whose groups a change
// of a group from before to after (nil: created, or deleted) altered:
// members added or removed, or every member when the name changed.
func (h *Handler) groupChanged(r *http.Request, before, after *Group) {
	var b, a Group
	if before != nil {
		b = *before
	}
	if after != nil {
		a = *after
	}
	in := func(g Group, id string) bool {
		for _, m := range g.Members {
			if m.ID == id {
				return true
			}
		}
		return false
	}
	renamed := before == nil || after == nil || b.DisplayName != a.DisplayName
	var names []string
	for _, m := range b.Members {
		if renamed || !in(a, m.ID) {
			names = append(names, m.UserName)
		}
	}
	for _, m := range a.Members {
		if renamed || !in(b, m.ID) {
			names = append(names, m.UserName)
		}
	}
	if len(names) > 0 {
		h.o.Sessions.Refresh(r.Context(), names...)
	}
}

// simpleFilter returns the store filter of p's filter when it is one
// equality on one of attrs (which the store answers itself), or the zero
// Filter and true when p has no filter; false when the handler must filter.
func simpleFilter(p elim.ListRequestParams, attrs ...string) (Filter, bool) {
	if p.FilterValidator == nil {
		return Filter{}, true
	}
	e, ok := p.FilterValidator.GetFilter().(*parser.AttributeExpression)
	if !ok || e.Operator != parser.EQ || e.AttributePath.SubAttribute != nil {
		return Filter{}, false
	}
	if uri := e.AttributePath.URI(); uri != "" && !strings.HasPrefix(uri, "urn:ietf:params:scim:schemas:core:2.0:") {
		return Filter{}, false
	}
	v, ok := e.CompareValue.(string)
	if !ok {
		return Filter{}, false
	}
	for _, a := range attrs {
		if strings.EqualFold(a, e.AttributePath.AttributeName) {
			return Filter{Attr: a, Value: v}, true
		}
	}
	return Filter{}, false
}

// passes reports whether res passes p's filter.
func passes(p elim.ListRequestParams, res elim.Resource) bool {
	m := map[string]any{}
	for k, v := range res.Attributes {
		m[k] = v
	}
	m["id"] = res.ID
	if res.ExternalID.Present() {
		m["externalId"] = res.ExternalID.Value()
	}
	return p.FilterValidator.PassesFilter(m) == nil
}

// window is the page of all that starts at offset with at most count items.
func window(all []elim.Resource, offset, count int) []elim.Resource {
	out := []elim.Resource{}
	if offset < 0 {
		offset = 0
	}
	for i := offset; i < len(all) && len(out) < count; i++ {
		out = append(out, all[i])
	}
	return out
}
