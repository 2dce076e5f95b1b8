package config

import (
	"slices"
	"testing"
)

func TestRestartKeys(t *testing.T) {
	base := func() *Config {
		c := Default()
		c.TeamDomain = "auth.example.com"
		c.Admins = []string{"root@example.com"}
		return &c
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"nothing", func(*Config) {}, nil},
		{"admins", func(c *Config) { c.Admins = append(c.Admins, "new@example.com") }, []string{"admins"}},
		{"team domain", func(c *Config) { c.TeamDomain = "login.example.com" }, []string{"team_domain"}},
		{"apps are reloaded", func(c *Config) { c.Apps = append(c.Apps, AppConfig{Name: "new"}) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := base()
			tt.change(next)
			if got := RestartKeys(base(), next); !slices.Equal(got, tt.want) {
				t.Errorf("RestartKeys = %v, want %v", got, tt.want)
			}
		})
	}
}
