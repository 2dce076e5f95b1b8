package token

import "time"

// KeyPollInterval is how often a serving process must look for signing keys
// that other processes (`gatehouse keys rotate`) add. RetireGrace counts on
// it.
const KeyPollInterval = 5 * time.Second

// RetireGrace is added to the publication of a previous key: the time other
// processes may still sign with it before they notice its successor (two
// polls), and the clock skew tokens are verified with.
const RetireGrace = 2*KeyPollInterval + MaxSkew

// Schedule is the rotation rule for signing keys: when the signing key is
// replaced, and how long a replaced key stays published so that every token
// it signed still verifies. Keys are given by their creation times, newest
// first, as the store lists them; the newest signs.
type Schedule struct {
	// Every is the age at which the signing key is replaced; 0 or less
	// replaces it only by hand.
	Every time.Duration
	// Lifetime is the longest any token signed now may live.
	Lifetime time.Duration
}

// Due reports whether a new signing key is due at now: Every has passed
// since the signing key was created, or there is no key at all. It is never
// due when Every is 0 or less.
func (s Schedule) Due(created []time.Time, now time.Time) bool {
	if s.Every <= 0 {
		return false
	}
	return len(created) == 0 || now.Sub(created[0]) >= s.Every
}

// PublishedUntil returns when a previous key stops being published, given
// the creation of its successor (the key that replaced it): every token it
// signed has expired by then, with RetireGrace to spare.
func (s Schedule) PublishedUntil(successor time.Time) time.Time {
	return successor.Add(s.Lifetime + RetireGrace)
}

// Published returns how many of the keys created at created (newest first)
// are still published at now: the signing key and each previous key until
// the first one whose every token has expired. The keys after those may be
// deleted.
func (s Schedule) Published(created []time.Time, now time.Time) int {
	for i := 1; i < len(created); i++ {
		if !now.Before(s.PublishedUntil(created[i-1])) {
			return i
		}
	}
	return len(created)
}
