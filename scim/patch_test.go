package scim

import (
	"encoding/json"
	"testing"

	elim "github.com/elimity-com/scim"
	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
)

// op builds a validated-looking operation on rs with path ("" for none).
func op(t *testing.T, rs resourceSchema, kind, path string, value any) elim.PatchOperation {
	t.Helper()
	o := elim.PatchOperation{Op: kind, Value: value}
	if path != "" {
		v, err := filter.NewPathValidator(path, rs.core, rs.exts...)
		if err != nil {
			t.Fatalf("path %q: %v", path, err)
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("path %q: %v", path, err)
		}
		p := v.Path()
		o.Path = &p
	}
	return o
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApplyPatch(t *testing.T) {
	user := func() map[string]any {
		return map[string]any{
			"userName": "a@example.com", "active": true,
			"name":   map[string]any{"givenName": "A", "familyName": "B"},
			"emails": []any{map[string]any{"type": "work", "value": "a@example.com", "primary": true}},
		}
	}
	group := func() map[string]any {
		return map[string]any{"displayName": "eng", "members": []any{map[string]any{"value": "u1"}, map[string]any{"value": "u2"}}}
	}
	ext := schema.ExtensionEnterpriseUser().ID
	tests := []struct {
		name  string
		start func() map[string]any
		rs    resourceSchema
		ops   func(t *testing.T) []elim.PatchOperation
		check string // a JSON fragment of one attribute: key=value
		key   string
	}{
		{"Okta: replace without path", user, userSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, userSchema, "replace", "", map[string]any{"active": false})}
		}, "false", "active"},
		{"Entra: replace active by path", user, userSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, userSchema, "replace", "active", false)}
		}, "false", "active"},
		{"sub-attribute", user, userSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, userSchema, "replace", "name.familyName", "C")}
		}, `{"familyName":"C","givenName":"A"}`, "name"},
		{"value filter with sub-attribute", user, userSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, userSchema, "replace", `emails[type eq "work"].value`, "new@example.com")}
		}, `[{"primary":true,"type":"work","value":"new@example.com"}]`, "emails"},
		{"value filter matching nothing adds the item", user, userSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, userSchema, "replace", `emails[type eq "home"].value`, "h@example.com")}
		}, `[{"primary":true,"type":"work","value":"a@example.com"},{"type":"home","value":"h@example.com"}]`, "emails"},
		{"extension attribute", user, userSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, userSchema, "add", ext+":employeeNumber", "42")}
		}, `{"employeeNumber":"42"}`, ext},
		{"remove a single-valued attribute", user, userSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, userSchema, "remove", "name", nil)}
		}, `null`, "name"},
		{"add members skips duplicates", group, groupSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, groupSchema, "add", "members", []any{map[string]any{"value": "u2"}, map[string]any{"value": "u3"}})}
		}, `[{"value":"u1"},{"value":"u2"},{"value":"u3"}]`, "members"},
		{"Okta: remove a member by filter", group, groupSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, groupSchema, "remove", `members[value eq "u1"]`, nil)}
		}, `[{"value":"u2"}]`, "members"},
		{"Entra: remove members by value list", group, groupSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, groupSchema, "remove", "members", []any{map[string]any{"value": "u2", "$ref": nil}})}
		}, `[{"value":"u1"}]`, "members"},
		{"remove all members", group, groupSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, groupSchema, "remove", "members", nil)}
		}, `null`, "members"},
		{"replace members", group, groupSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{op(t, groupSchema, "replace", "members", []any{map[string]any{"value": "u9"}})}
		}, `[{"value":"u9"}]`, "members"},
		{"operations apply in order", group, groupSchema, func(t *testing.T) []elim.PatchOperation {
			return []elim.PatchOperation{
				op(t, groupSchema, "remove", `members[value eq "u1"]`, nil),
				op(t, groupSchema, "add", "members", []any{map[string]any{"value": "u1"}}),
				op(t, groupSchema, "replace", "", map[string]any{"displayName": "ops"}),
			}
		}, `[{"value":"u2"},{"value":"u1"}]`, "members"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.start()
			if err := applyPatch(m, tt.ops(t), tt.rs); err != nil {
				t.Fatal(err)
			}
			if got := jsonOf(t, m[tt.key]); got != tt.check {
				t.Errorf("%s = %s, want %s", tt.key, got, tt.check)
			}
		})
	}
}

func TestApplyPatchRefusesNonObjectWithoutPath(t *testing.T) {
	m := map[string]any{"userName": "a@example.com"}
	if err := applyPatch(m, []elim.PatchOperation{{Op: "replace", Value: "x"}}, userSchema); err == nil {
		t.Fatal("a path-less replace with a non-object value was applied")
	}
}

func TestUserRoundTrip(t *testing.T) {
	var u User
	err := userFrom(&u, map[string]any{"userName": " a@example.com ", "active": false, "password": "secret",
		"groups": []any{}, "id": "forged", "externalId": "x1", "displayName": "A", "locale": "en"})
	if err != nil {
		t.Fatal(err)
	}
	if u.UserName != "a@example.com" || u.Active || u.ExternalID != "x1" || u.DisplayName != "A" {
		t.Fatalf("columns: %+v", u)
	}
	if got := string(u.Attributes); got != `{"locale":"en"}` {
		t.Fatalf("stored attributes %s: the password, id or groups were kept", got)
	}
	if err := userFrom(&u, map[string]any{"active": true}); err == nil {
		t.Fatal("a user without userName was accepted")
	}
	for _, was := range []bool{true, false} {
		d := User{Active: was}
		if err := userFrom(&d, map[string]any{"userName": "b@example.com"}); err != nil || d.Active != was {
			t.Fatalf("no active keeps active %v: %+v %v", was, d, err)
		}
	}
}
