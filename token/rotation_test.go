package token

import (
	"testing"
	"time"
)

func TestScheduleDue(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Schedule{Every: time.Hour, Lifetime: 3 * time.Hour}
	tests := []struct {
		name    string
		s       Schedule
		created []time.Time
		now     time.Time
		want    bool
	}{
		{"young key", s, []time.Time{t0}, t0.Add(time.Hour - time.Second), false},
		{"key exactly Every old", s, []time.Time{t0}, t0.Add(time.Hour), true},
		{"only the newest key counts", s, []time.Time{t0, t0.Add(-5 * time.Hour)}, t0.Add(time.Minute), false},
		{"no key at all", s, nil, t0, true},
		{"rotation by hand only", Schedule{Lifetime: time.Hour}, []time.Time{t0}, t0.AddDate(1, 0, 0), false},
		{"negative Every", Schedule{Every: -time.Hour}, nil, t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Due(tt.created, tt.now); got != tt.want {
				t.Errorf("Due = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSchedulePublishedUntil(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Schedule{Lifetime: 3 * time.Hour}
	want := t0.Add(3*time.Hour + 2*KeyPollInterval + MaxSkew)
	if got := s.PublishedUntil(t0); !got.Equal(want) {
		t.Errorf("PublishedUntil = %v, want %v (successor + lifetime + grace)", got, want)
	}
}

func TestSchedulePublished(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Schedule{Lifetime: 3 * time.Hour}
	// Newest first: k0 signs since t0, k1 signed from t0-2h to t0, k2 from
	// t0-5h to t0-2h.
	keys := []time.Time{t0, t0.Add(-2 * time.Hour), t0.Add(-5 * time.Hour)}
	end1 := s.PublishedUntil(keys[0]) // last moment k1's tokens may verify
	end2 := s.PublishedUntil(keys[1])
	tests := []struct {
		name string
		keys []time.Time
		now  time.Time
		want int
	}{
		{"no keys", nil, t0, 0},
		{"the signing key alone stays forever", keys[:1], t0.AddDate(10, 0, 0), 1},
		{"all tokens may still be live", keys, t0, 3},
		{"just before k2's last token expires", keys, end2.Add(-time.Nanosecond), 3},
		{"k2 retired at its end", keys, end2, 2},
		{"k1 still published", keys, end1.Add(-time.Nanosecond), 2},
		{"only the signing key left", keys, end1, 1},
		{"long after", keys, t0.AddDate(1, 0, 0), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Published(tt.keys, tt.now); got != tt.want {
				t.Errorf("Published = %d, want %d", got, tt.want)
			}
		})
	}
}
