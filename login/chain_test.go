package login

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestChainHosts(t *testing.T) {
	var many []string
	for i := range 15 {
		many = append(many, fmt.Sprintf("d%d.example.com", i))
	}
	tests := []struct {
		name    string
		domains []string
		start   string
		want    []string
	}{
		{"one domain", []string{"a.example.com"}, "a.example.com", nil},
		{"siblings in order, start left out", []string{"b.example.com", "a.example.com", "c.example.com"}, "a.example.com", []string{"b.example.com", "c.example.com"}},
		{"wildcards left out", []string{"a.example.com", "*.w.example.com", "c.example.com"}, "a.example.com", []string{"c.example.com"}},
		{"started on a wildcard host", []string{"*.w.example.com", "c.example.com"}, "x.w.example.com", []string{"c.example.com"}},
		{"start's port borrowed", []string{"a.localhost", "b.localhost"}, "a.localhost:8080", []string{"b.localhost:8080"}},
		{"own port kept, duplicates once", []string{"A.localhost:8080", "b.localhost:9090", "b.localhost:9090."}, "a.localhost:8080", []string{"b.localhost:9090"}},
		{"at most MaxChainHops-1 siblings", many, "d0.example.com", many[1:MaxChainHops]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chainHosts(&access.App{Domains: tt.domains}, tt.start)
			if !slices.Equal(got, tt.want) {
				t.Errorf("chainHosts = %q, want %q", got, tt.want)
			}
		})
	}
}
