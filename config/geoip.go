package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// GeoIPConfig is the [geoip] table: where the country of a request comes
// from, for the tokens' country claim, get-identity's geo.country and the
// countries policy selector.
type GeoIPConfig struct {
	// Database is a MaxMind-format (.mmdb) country database, such as
	// GeoLite2-Country.mmdb, looked up by the client IP.
	Database string `toml:"database"`
	// CountryHeader is a header holding the client's ISO country code, set
	// by a trusted proxy (for example "CF-IPCountry"); honoured only from
	// trusted_proxies, and before the database.
	CountryHeader string `toml:"country_header"`
}

// mmdbMarker starts the metadata section of every MaxMind DB file, within
// its last mmdbMetadataMax bytes.
var mmdbMarker = []byte("\xab\xcd\xefMaxMind.com")

const mmdbMetadataMax = 128 << 10

// geoip checks the [geoip] table: the database must be a readable
// MaxMind-format file, and the header a header name that trusted proxies
// can set.
func (v *validator) geoip(c *Config) {
	g := &c.GeoIP
	if g.Database != "" {
		if msg := checkMMDB(g.Database); msg != "" {
			v.add("geoip.database", "%q: %s", g.Database, msg)
		}
	}
	if g.CountryHeader != "" {
		if !headerPattern.MatchString(g.CountryHeader) {
			v.add("geoip.country_header", "%q: not a header name", g.CountryHeader)
		} else if len(c.TrustedProxies) == 0 {
			v.add("geoip.country_header", "%q: honoured only from trusted_proxies, and none is set", g.CountryHeader)
		}
	}
}

// checkMMDB returns what is wrong with the MaxMind database at path, or "".
func checkMMDB(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("cannot be read: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("cannot be read: %v", err)
	}
	if st.IsDir() {
		return "is a directory, not a MaxMind database file"
	}
	off := max(st.Size()-mmdbMetadataMax, 0)
	tail := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(tail, off); err != nil && err != io.EOF {
		return fmt.Sprintf("cannot be read: %v", err)
	}
	if !bytes.Contains(tail, mmdbMarker) {
		return "not a MaxMind-format database (.mmdb such as GeoLite2-Country.mmdb)"
	}
	return ""
}
