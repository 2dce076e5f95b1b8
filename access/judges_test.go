package access

import "testing"

func TestJudgesCountry(t *testing.T) {
	tests := []struct {
		name string
		app  App
		want bool
	}{
		{"no policies", App{}, false},
		{"emails only", App{Policies: []Policy{{Include: []Rule{{Emails: []string{"a@example.com"}}}}}}, false},
		{"include", App{Policies: []Policy{{Include: []Rule{{Countries: []string{"PT"}}}}}}, true},
		{"require in a later policy", App{Policies: []Policy{
			{Include: []Rule{{Everyone: true}}},
			{Include: []Rule{{Everyone: true}}, Require: []Rule{{Countries: []string{"PT"}}}},
		}}, true},
		{"exclude", App{Policies: []Policy{{Include: []Rule{{Everyone: true}}, Exclude: []Rule{{Countries: []string{"US"}}}}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.app.JudgesCountry(); got != tt.want {
				t.Errorf("JudgesCountry = %v, want %v", got, tt.want)
			}
		})
	}
}
