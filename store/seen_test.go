package store

import (
	"testing"
	"time"
)

func TestSeenThrottle(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var s seenThrottle
	steps := []struct {
		name  string
		nonce string
		at    time.Time
		want  bool
	}{
		{"first request", "a", t0, true},
		{"same second", "a", t0, false},
		{"59s later", "a", t0.Add(59 * time.Second), false},
		{"another session", "b", t0.Add(59 * time.Second), true},
		{"a minute later", "a", t0.Add(time.Minute), true},
		{"clock stepped back", "a", t0, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := s.due(st.nonce, st.at); got != st.want {
				t.Fatalf("due(%s, %v) = %v, want %v", st.nonce, st.at, got, st.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		var s seenThrottle
		for i := range seenMax + 10 {
			s.due(string(rune('a'+i%26))+time.Duration(i).String(), t0)
		}
		if n := len(s.last); n > seenMax {
			t.Fatalf("remembers %d sessions, more than %d", n, seenMax)
		}
	})
}
