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
