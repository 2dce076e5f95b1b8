package ops

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter := map[string]time.Time{"b.example.com": t0.AddDate(0, 3, 0)}
	var s Status
	s.SetTLS("acme", []string{"b.example.com", "a.example.com", "gone.example.com"}, func(d string) time.Time { return notAfter[d] })
	s.CertOK("b.example.com", t0)
	s.CertFailed("a.example.com", "rate limited", t0.Add(time.Minute))
	s.CertFailed("gone.example.com", "no such host", t0)
	s.Reloaded(t0.Add(time.Hour), errors.New("config: bad file"))
	// A reload drops gone.example.com; the others keep their state.
	s.SetTLS("acme", []string{"a.example.com", "b.example.com"}, func(d string) time.Time { return notAfter[d] })

	want := SystemStatus{
		TLSMode: "acme",
		Certs: []CertStatus{
			{Domain: "a.example.com", LastError: "rate limited", LastErrorAt: t0.Add(time.Minute)},
			{Domain: "b.example.com", NotAfter: t0.AddDate(0, 3, 0), LastOKAt: t0},
		},
		Reload: ReloadStatus{At: t0.Add(time.Hour), Error: "config: bad file"},
	}
	if got := s.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("Snapshot =\n%+v\nwant\n%+v", got, want)
	}
	if got, want := s.Expiries(), map[string]time.Time{"b.example.com": t0.AddDate(0, 3, 0)}; !reflect.DeepEqual(got, want) {
		t.Errorf("Expiries = %v, want %v (only domains with a certificate)", got, want)
	}

	s.Reloaded(t0.Add(2*time.Hour), nil)
	if got := s.Snapshot().Reload; got != (ReloadStatus{At: t0.Add(2 * time.Hour), OK: true}) {
		t.Errorf("after a good reload: %+v", got)
	}
}

func TestStatusZeroValue(t *testing.T) {
	var s Status
	if got := s.Snapshot(); !reflect.DeepEqual(got, SystemStatus{}) {
		t.Errorf("zero Snapshot = %+v", got)
	}
	if got := s.Expiries(); len(got) != 0 {
		t.Errorf("zero Expiries = %v", got)
	}
	s.CertOK("x.example.com", time.Unix(1, 0)) // no SetTLS first: recorded anyway
	if got := s.Snapshot().Certs; len(got) != 1 || got[0].Domain != "x.example.com" {
		t.Errorf("Certs = %+v", got)
	}
}
