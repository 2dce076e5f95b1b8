package access

import (
	"slices"
	"testing"
)

func TestWithDirectory(t *testing.T) {
	idp := Identity{Email: "a@example.com", Groups: []string{"idp-group"}}
	tests := []struct {
		name string
		dir  Directory
		want []string
	}{
		{"unknown user keeps the IdP's groups", Directory{}, []string{"idp-group"}},
		{"known user gets the directory's groups", Directory{Known: true, Active: true, Groups: []string{"eng", "ops"}}, []string{"eng", "ops"}},
		{"known user in no group has none", Directory{Known: true, Active: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := idp.WithDirectory(tt.dir)
			if !slices.Equal(got.Groups, tt.want) {
				t.Fatalf("groups = %v, want %v", got.Groups, tt.want)
			}
			if got.Email != idp.Email {
				t.Fatalf("email changed to %q", got.Email)
			}
		})
	}
	if !slices.Equal(idp.Groups, []string{"idp-group"}) {
		t.Fatalf("WithDirectory modified its receiver: %v", idp.Groups)
	}
}

// TestInIdPGroup: the directory may take a group away from what grants
// control of Gatehouse, never give it.
func TestInIdPGroup(t *testing.T) {
	idp := Identity{Email: "a@example.com", Groups: []string{"ops", "eng"}}
	tests := []struct {
		name  string
		id    Identity
		group string
		want  bool
	}{
		{"unprovisioned, asserted", idp, "ops", true},
		{"unprovisioned, not asserted", idp, "admins", false},
		{"provisioned, in both", idp.WithDirectory(Directory{Known: true, Active: true, Groups: []string{"ops"}}), "ops", true},
		{"provisioned, removed by the directory", idp.WithDirectory(Directory{Known: true, Active: true, Groups: []string{"eng"}}), "ops", false},
		{"provisioned, added by the directory only", idp.WithDirectory(Directory{Known: true, Active: true, Groups: []string{"admins"}}), "admins", false},
		{"provisioned twice, added by the directory only", idp.WithDirectory(Directory{Known: true, Groups: []string{"admins"}}).
			WithDirectory(Directory{Known: true, Groups: []string{"admins"}}), "admins", false},
		{"PIN sign-in, directory group", Identity{Email: "b@example.com"}.WithDirectory(Directory{Known: true, Groups: []string{"ops"}}), "ops", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.id.InIdPGroup(tt.group); got != tt.want {
				t.Fatalf("InIdPGroup(%q) = %v, want %v (groups %v)", tt.group, got, tt.want, tt.id.Groups)
			}
		})
	}
}
