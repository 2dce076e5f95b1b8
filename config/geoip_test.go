package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

func TestConfigGeoIP(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "country.mmdb")
	testkit.WriteCountryDB(t, db, map[string]string{"192.0.2.0/24": "PT"})
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	countries := func(list string) string {
		return strings.Replace(validApp, "{ everyone = true }", "{ countries = ["+list+"] }", 1)
	}
	tests := []struct {
		name string
		toml string
		want string // "" for valid
	}{
		{"valid database and header", "trusted_proxies = [\"10.0.0.0/8\"]\n" + validBase + "[geoip]\ndatabase = \"" + db + "\"\ncountry_header = \"CF-IPCountry\"\n" + validApp, ""},
		{"missing database", validBase + "[geoip]\ndatabase = \"" + filepath.Join(dir, "nope.mmdb") + "\"\n" + validApp,
			"gatehouse.toml:8: geoip.database: \"" + filepath.Join(dir, "nope.mmdb") + "\": cannot be read"},
		{"directory", validBase + "[geoip]\ndatabase = \"" + dir + "\"\n" + validApp, "gatehouse.toml:8: geoip.database: \"" + dir + "\": is a directory"},
		{"not a database", validBase + "[geoip]\n\ndatabase = \"" + notDB + "\"\n" + validApp, "gatehouse.toml:9: geoip.database: \"" + notDB + "\": not a MaxMind-format database"},
		{"header without trusted proxies", validBase + "[geoip]\ncountry_header = \"CF-IPCountry\"\n" + validApp, "gatehouse.toml:8: geoip.country_header: \"CF-IPCountry\": honoured only from trusted_proxies"},
		{"bad header", "trusted_proxies = [\"10.0.0.0/8\"]\n" + validBase + "[geoip]\ncountry_header = \"CF IPCountry\"\n" + validApp, "geoip.country_header: \"CF IPCountry\": not a header name"},
		{"countries valid", validBase + countries(`"US", "pt"`), ""},
		{"countries unknown code", validBase + countries(`"US", "UK"`), `gatehouse.toml:14: apps[0].policies[0].include[0].countries[1]: "UK": not an ISO 3166-1 alpha-2 country code`},
		{"countries three letters", validBase + countries(`"USA"`), `apps[0].policies[0].include[0].countries[0]: "USA": not an ISO 3166-1 alpha-2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.toml), "gatehouse.toml")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want %s", cfg, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error\n%s\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
	t.Run("countries reach the policy upper-cased", func(t *testing.T) {
		cfg, err := Parse([]byte(validBase+countries(`"us", "PT"`)), "gatehouse.toml")
		if err != nil {
			t.Fatal(err)
		}
		apps, err := cfg.AccessApps()
		if err != nil {
			t.Fatal(err)
		}
		got := apps[0].Policies[0].Include[0].Countries
		if strings.Join(got, ",") != "US,PT" {
			t.Fatalf("countries = %v, want [US PT]", got)
		}
	})
}
