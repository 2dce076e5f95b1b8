package scim

import (
	"reflect"
	"strings"

	elim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	parser "github.com/scim2/filter-parser/v2"
)

// resourceSchema is a resource type's schema and its extensions.
type resourceSchema struct {
	core schema.Schema
	exts []schema.Schema
}

// attribute returns the attribute named name (any case) of the schema with
// id uri ("" or the core id: the core schema), or false.
func (rs resourceSchema) attribute(uri, name string) (schema.Schema, schema.CoreAttribute, bool) {
	s := rs.core
	if uri != "" && uri != rs.core.ID {
		found := false
		for _, e := range rs.exts {
			if strings.EqualFold(e.ID, uri) {
				s, found = e, true
			}
		}
		if !found {
			return schema.Schema{}, schema.CoreAttribute{}, false
		}
	}
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name(), name) {
			return s, a, true
		}
	}
	return schema.Schema{}, schema.CoreAttribute{}, false
}

// applyPatch applies the validated operations ops, in order, to m: the
// resource's attributes as a client sees them (extension attributes in a
// map under the extension's id). It implements RFC 7644 §3.5.2 as Okta and
// Entra ID use it: operations with and without a path, sub-attribute paths
// (name.familyName), value filters (members[value eq "id"],
// emails[type eq "work"].value) and Entra's removal of listed values.
func applyPatch(m map[string]any, ops []elim.PatchOperation, rs resourceSchema) error {
	for _, op := range ops {
		if err := applyOp(m, op, rs); err != nil {
			return err
		}
	}
	return nil
}

func applyOp(m map[string]any, op elim.PatchOperation, rs resourceSchema) error {
	if op.Path == nil {
		values, ok := op.Value.(map[string]any)
		if !ok {
			return scimerr.ScimErrorInvalidValue
		}
		for k, v := range values {
			name := k
			if _, a, ok := rs.attribute("", k); ok {
				name = a.Name()
				if op.Op == elim.PatchOperationAdd && a.MultiValued() {
					m[name] = appendUnique(list(m[name]), list(v))
					continue
				}
			}
			if ext, ok := v.(map[string]any); ok && isExtension(rs, k) {
				cur, _ := m[k].(map[string]any)
				if cur == nil {
					cur = map[string]any{}
				}
				for ek, ev := range ext {
					cur[ek] = ev
				}
				m[k] = cur
				continue
			}
			m[name] = v
		}
		return nil
	}
	p := op.Path
	uri := p.AttributePath.URI()
	s, attr, ok := rs.attribute(uri, p.AttributePath.AttributeName)
	if !ok {
		return scimerr.ScimErrorInvalidPath
	}
	container := m
	if s.ID != rs.core.ID {
		ext, _ := m[s.ID].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
		}
		m[s.ID] = ext
		container = ext
	}
	name := attr.Name()
	if p.ValueExpression != nil {
		return applyFiltered(container, name, attr, op)
	}
	if sub := p.AttributePath.SubAttributeName(); sub != "" {
		obj, _ := container[name].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		sub = subName(attr, sub)
		if op.Op == elim.PatchOperationRemove {
			delete(obj, sub)
		} else {
			obj[sub] = op.Value
		}
		container[name] = obj
		return nil
	}
	switch op.Op {
	case elim.PatchOperationRemove:
		if op.Value != nil && attr.MultiValued() {
			// Entra ID: {"op":"Remove","path":"members","value":[{"value":"id"}]}
			container[name] = removeListed(list(container[name]), list(op.Value))
		} else {
			delete(container, name)
		}
	case elim.PatchOperationAdd:
		switch {
		case attr.MultiValued():
			container[name] = appendUnique(list(container[name]), list(op.Value))
		case attr.HasSubAttributes():
			obj, _ := container[name].(map[string]any)
			if obj == nil {
				obj = map[string]any{}
			}
			if v, ok := op.Value.(map[string]any); ok {
				for k, x := range v {
					obj[k] = x
				}
			}
			container[name] = obj
		default:
			container[name] = op.Value
		}
	default: // replace
		container[name] = op.Value
	}
	return nil
}

// applyFiltered applies op to the items of the multi-valued attribute name
// that its path's value filter selects.
func applyFiltered(container map[string]any, name string, attr schema.CoreAttribute, op elim.PatchOperation) error {
	p := op.Path
	fv := filter.NewFilterValidator(p.ValueExpression, schema.Schema{Attributes: filter.MultiValuedFilterAttributes(attr)})
	sub := ""
	if s := p.SubAttributeName(); s != "" {
		sub = subName(attr, s)
	}
	var out []any
	matched := false
	for _, it := range list(container[name]) {
		item, _ := it.(map[string]any)
		if item == nil || fv.PassesFilter(item) != nil {
			out = append(out, it)
			continue
		}
		matched = true
		switch {
		case op.Op == elim.PatchOperationRemove && sub == "":
			// dropped
		case op.Op == elim.PatchOperationRemove:
			delete(item, sub)
			out = append(out, item)
		case sub != "":
			item[sub] = op.Value
			out = append(out, item)
		default:
			if v, ok := op.Value.(map[string]any); ok {
				for k, x := range v {
					item[k] = x
				}
			}
			out = append(out, item)
		}
	}
	if !matched && op.Op != elim.PatchOperationRemove {
		// Entra ID replaces emails[type eq "work"].value on a user without a
		// work email: add the item the filter describes.
		item := map[string]any{}
		if e, ok := p.ValueExpression.(*parser.AttributeExpression); ok && e.Operator == parser.EQ {
			item[e.AttributePath.AttributeName] = e.CompareValue
		}
		if sub != "" {
			item[sub] = op.Value
		} else if v, ok := op.Value.(map[string]any); ok {
			for k, x := range v {
				item[k] = x
			}
		}
		out = append(out, item)
	}
	if out == nil {
		out = []any{}
	}
	container[name] = out
	return nil
}

// subName is the canonical name of attr's sub-attribute sub.
func subName(attr schema.CoreAttribute, sub string) string {
	for _, a := range attr.SubAttributes() {
		if strings.EqualFold(a.Name(), sub) {
			return a.Name()
		}
	}
	return sub
}

// isExtension reports whether key names one of rs's extensions.
func isExtension(rs resourceSchema, key string) bool {
	for _, e := range rs.exts {
		if strings.EqualFold(e.ID, key) {
			return true
		}
	}
	return false
}

// list returns v as a list: itself, or a list of one, or none for nil.
func list(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	case []map[string]any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	}
	return []any{v}
}

// sameItem reports whether two items of a multi-valued attribute are the
// same: equal "value" sub-attributes for complex items, else equal values.
func sameItem(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		if av, ok := am["value"]; ok {
			return reflect.DeepEqual(av, bm["value"])
		}
	}
	return reflect.DeepEqual(a, b)
}

// appendUnique appends to cur the items of add it does not hold yet.
func appendUnique(cur, add []any) []any {
	out := append([]any{}, cur...)
	for _, a := range add {
		dup := false
		for _, c := range out {
			if sameItem(a, c) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out
}

// removeListed drops from cur the items that match one of drop.
func removeListed(cur, drop []any) []any {
	out := []any{}
	for _, c := range cur {
		keep := true
		for _, d := range drop {
			if sameItem(c, d) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}
