package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Store backends.
const (
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

// Defaults of the [store] table's timing.
const (
	// DefaultStaleAfter is how long a node goes on authorizing requests
	// after its last successful sync with the store.
	DefaultStaleAfter = 10 * time.Second
	// DefaultAckTimeout is how long a revoke waits for every other live
	// node to apply it.
	DefaultAckTimeout = 15 * time.Second
)

// StoreConfig is the [store] table: where sessions, keys and revocations
// live. SQLite (the default) keeps them in data_dir/gatehouse.db on this
// machine; PostgreSQL lets several Gatehouse nodes with the same
// configuration share them.
type StoreConfig struct {
	Backend string `toml:"backend"` // "sqlite" (default) or "postgres"
	// DSN is the PostgreSQL connection string, a postgres:// URL or
	// key=value pairs, without the password.
	DSN          string `toml:"dsn"`
	PasswordFile string `toml:"password_file"` // file holding the PostgreSQL password
	PasswordEnv  string `toml:"password_env"`  // environment variable holding it
	// NodeName names this node in the node registry, the admin page and
	// the answers of a revoke that a node did not acknowledge (default:
	// the host name and process ID).
	NodeName string `toml:"node_name"`
	// StaleAfter: a node that has not synced with the store for this long
	// refuses the requests it would authorize until it syncs again, so that
	// a node cut off from the store never admits a session revoked
	// elsewhere.
	StaleAfter Duration `toml:"stale_after"`
	// AckTimeout bounds how long a revoke waits for every other live node
	// to apply it; past it the answer names the nodes that did not.
	AckTimeout Duration `toml:"ack_timeout"`

	password string // resolved from password_file or password_env by Load
}

// Password returns the PostgreSQL password that Load resolved from
// password_file or password_env ("" when neither is set).
func (s StoreConfig) Password() string { return s.password }

// store checks the [store] table, and that on a shared store every node
// can read the others' SAML responses.
func (v *validator) store(c *Config) {
	s := &c.Store
	if s.Backend == StorePostgres {
		for i, p := range c.IdPs {
			// A generated SP key pair lives in one node's data_dir: another
			// node would publish other metadata and could not decrypt the
			// assertions encrypted to it.
			if p.Kind == "saml" && p.SPKeyFile == "" && p.SPCertFile == "" {
				v.add(fmt.Sprintf("idps[%d].sp_key_file", i), "required with store.backend = %q: give every node the same SP key pair (sp_key_file and sp_cert_file)", StorePostgres)
			}
		}
	}
	v.oneOf("store.backend", s.Backend, StoreSQLite, StorePostgres)
	if s.Backend != StorePostgres {
		for key, val := range map[string]string{"dsn": s.DSN, "password_file": s.PasswordFile, "password_env": s.PasswordEnv} {
			if val != "" {
				v.add("store."+key, "only for backend = %q", StorePostgres)
			}
		}
	} else {
		switch {
		case strings.TrimSpace(s.DSN) == "":
			v.add("store.dsn", "required when backend = %q (such as \"postgres://gatehouse@db.internal:5432/gatehouse\")", StorePostgres)
		case dsnHasPassword(s.DSN):
			v.add("store.dsn", "holds a password: put it in password_file or password_env instead")
		}
		if s.PasswordFile != "" && s.PasswordEnv != "" {
			v.add("store.password_file", "set only one of password_file and password_env")
		} else if s.PasswordFile != "" || s.PasswordEnv != "" {
			s.password = v.secret("store.", "password", "", s.PasswordFile, s.PasswordEnv)
		}
	}
	if s.StaleAfter.Duration <= 0 {
		v.add("store.stale_after", "%s: must be positive", s.StaleAfter.Duration)
	}
	if s.AckTimeout.Duration <= s.StaleAfter.Duration {
		v.add("store.ack_timeout", "%s: must be longer than stale_after (%s), so that a node that did not acknowledge a revoke is already refusing requests when the revoke gives up on it",
			s.AckTimeout.Duration, s.StaleAfter.Duration)
	}
}

// dsnHasPassword reports whether a PostgreSQL connection string carries a
// password, as a URL's user information or a password= pair.
func dsnHasPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return strings.Contains(dsn, "@") // unparsable: refuse what may be a password
		}
		if _, set := u.User.Password(); set {
			return true
		}
		return u.Query().Has("password")
	}
	for _, f := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(f, "="); ok && strings.TrimSpace(k) == "password" {
			return true
		}
	}
	return strings.Contains(dsn, "password =") || strings.Contains(dsn, "password=")
}

// DatabaseFile is the SQLite database of data_dir, the store of backend
// "sqlite".
func (c *Config) DatabaseFile() string { return filepath.Join(c.DataDir, "gatehouse.db") }
