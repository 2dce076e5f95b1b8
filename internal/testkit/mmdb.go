package testkit

import (
	"net"
	"os"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// WriteCountryDB writes a small MaxMind-format country database to path,
// shaped like GeoLite2-Country: each network (a CIDR) maps to
// {"country": {"iso_code": CODE}}.
func WriteCountryDB(t testing.TB, path string, networks map[string]string) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoLite2-Country",
		RecordSize:              24,
		IncludeReservedNetworks: true, // tests look up 127.0.0.1 and 192.0.2.x
	})
	if err != nil {
		t.Fatalf("mmdb: %v", err)
	}
	for cidr, code := range networks {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatalf("mmdb: %v", err)
		}
		rec := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code)}}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("mmdb: insert %s: %v", cidr, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("mmdb: %v", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		t.Fatalf("mmdb: write: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("mmdb: %v", err)
	}
}
