// Package geoip finds the country a request comes from: from a header set
// by a trusted proxy (such as Cloudflare's CF-IPCountry), else from a
// MaxMind-format country database looked up by the client IP. Countries are
// ISO 3166-1 alpha-2 codes in upper case; "" means unknown.
package geoip

import (
	"fmt"
	"net/http"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/web"
)

// Options configure a Resolver.
type Options struct {
	Database      string         // path of a .mmdb file; "" for none
	CountryHeader string         // header name; "" for none
	Trusted       []netip.Prefix // peers whose CountryHeader is believed
}

// Resolver answers the country of requests. The zero value and a nil
// *Resolver know no country. It is safe for concurrent use.
type Resolver struct {
	db      *maxminddb.Reader
	header  string
	trusted []netip.Prefix
}

// Open builds the resolver of o, opening its database.
func Open(o Options) (*Resolver, error) {
	r := &Resolver{header: o.CountryHeader, trusted: o.Trusted}
	if o.Database != "" {
		db, err := maxminddb.Open(o.Database)
		if err != nil {
			return nil, fmt.Errorf("geoip: open %s: %w", o.Database, err)
		}
		r.db = db
	}
	return r, nil
}

// Close releases the database.
func (r *Resolver) Close() error {
	if r == nil || r.db == nil {
		return nil
	}
	return r.db.Close()
}

// Enabled reports whether r can know any country.
func (r *Resolver) Enabled() bool { return r != nil && (r.db != nil || r.header != "") }

// record is the part of a GeoLite2/GeoIP2 Country record Gatehouse reads.
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

// Country is the country of req, whose client address (by the trusted-proxy
// rule of web.ClientIP) is ip: the country header when the connection's
// peer is a trusted proxy and the header, sent once, holds an assigned
// code, else the
// database's country of ip (its registered country when the record has no
// other), else "".
func (r *Resolver) Country(req *http.Request, ip netip.Addr) string {
	if r == nil {
		return ""
	}
	if r.header != "" {
		// Several copies mean a proxy added its own to the client's instead
		// of replacing it: none is believed, as none can be told apart.
		if v := req.Header.Values(r.header); len(v) == 1 && r.peerTrusted(req) {
			if c, ok := access.CountryCode(v[0]); ok {
				return c
			}
		}
	}
	if r.db == nil || !ip.IsValid() {
		return ""
	}
	var rec record
	if err := r.db.Lookup(ip.Unmap()).Decode(&rec); err != nil {
		return ""
	}
	if c, ok := access.CountryCode(rec.Country.ISOCode); ok {
		return c
	}
	if c, ok := access.CountryCode(rec.RegisteredCountry.ISOCode); ok {
		return c
	}
	return ""
}

// peerTrusted reports whether the connection's peer is a trusted proxy.
func (r *Resolver) peerTrusted(req *http.Request) bool {
	peer := web.ClientIP(req, nil, "")
	if !peer.IsValid() {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}
