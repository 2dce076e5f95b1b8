package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigStore(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pg-password")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GATEHOUSE_TEST_PG_PASSWORD", "from-env")
	tests := []struct {
		name     string
		store    string
		want     string // "" for valid
		password string // the resolved password when valid
	}{
		{"default sqlite", "", "", ""},
		{"sqlite spelled out", "[store]\nbackend = \"sqlite\"\n", "", ""},
		{"postgres url", "[store]\nbackend = \"postgres\"\ndsn = \"postgres://gatehouse@db.internal:5432/gatehouse?sslmode=verify-full\"\npassword_file = \"" + pwFile + "\"\n", "", "s3cret"},
		{"postgres key value from env", "[store]\nbackend = \"postgres\"\ndsn = \"host=db.internal user=gatehouse dbname=gatehouse\"\npassword_env = \"GATEHOUSE_TEST_PG_PASSWORD\"\n", "", "from-env"},
		{"postgres without password", "[store]\nbackend = \"postgres\"\ndsn = \"host=/run/postgresql dbname=gatehouse\"\n", "", ""},
		{"unknown backend", "[store]\nbackend = \"mysql\"\n", `gatehouse.toml:8: store.backend: "mysql"`, ""},
		{"postgres without dsn", "[store]\nbackend = \"postgres\"\n", "store.dsn: required when backend = \"postgres\"", ""},
		{"password in url", "[store]\nbackend = \"postgres\"\ndsn = \"postgres://gatehouse:hunter2@db/gatehouse\"\n", "store.dsn: holds a password", ""},
		{"password in query", "[store]\nbackend = \"postgres\"\ndsn = \"postgres://gatehouse@db/gatehouse?password=hunter2\"\n", "store.dsn: holds a password", ""},
		{"password pair", "[store]\nbackend = \"postgres\"\ndsn = \"host=db password=hunter2\"\n", "store.dsn: holds a password", ""},
		{"dsn for sqlite", "[store]\ndsn = \"host=db\"\n", "store.dsn: only for backend = \"postgres\"", ""},
		{"both password sources", "[store]\nbackend = \"postgres\"\ndsn = \"host=db\"\npassword_file = \"" + pwFile + "\"\npassword_env = \"X\"\n", "store.password_file: set only one", ""},
		{"missing password file", "[store]\nbackend = \"postgres\"\ndsn = \"host=db\"\npassword_file = \"" + filepath.Join(dir, "nope") + "\"\n", "store.password_file: cannot read", ""},
		{"unset password env", "[store]\nbackend = \"postgres\"\ndsn = \"host=db\"\npassword_env = \"GATEHOUSE_TEST_UNSET\"\n", "store.password_env: environment variable GATEHOUSE_TEST_UNSET is not set", ""},
		{"ack timeout not above stale window", "[store]\nstale_after = \"10s\"\nack_timeout = \"5s\"\n", "store.ack_timeout: 5s: must be longer than stale_after (10s)", ""},
		{"postgres with a generated SAML key pair", "[store]\nbackend = \"postgres\"\ndsn = \"host=db\"\n[[idps]]\nid = \"corp\"\nkind = \"saml\"\nmetadata_url = \"https://idp.example.com/metadata\"\n",
			"idps[1].sp_key_file: required with store.backend = \"postgres\"", ""},
		{"stale window not positive", "[store]\nstale_after = \"0s\"\n", "store.stale_after: 0s: must be positive", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(validBase+tt.store+validApp), "gatehouse.toml")
			if tt.want != "" {
				if err == nil {
					t.Fatalf("Parse succeeded, want %s", tt.want)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error\n%s\ndoes not contain\n%s", err, tt.want)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error %q repeats the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := cfg.Store.Password(); got != tt.password {
				t.Errorf("password = %q, want %q", got, tt.password)
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		cfg, err := Parse([]byte(validBase+validApp), "gatehouse.toml")
		if err != nil {
			t.Fatal(err)
		}
		s := cfg.Store
		if s.Backend != StoreSQLite || s.StaleAfter.Duration != 10*time.Second || s.AckTimeout.Duration != 15*time.Second {
			t.Errorf("store defaults = %+v", s)
		}
	})
}
