package revocation

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

// gatedSource holds LoadRevoked until release is closed, then answers as
// src (or fails with err).
type gatedSource struct {
	*fakeSource
	release chan struct{}
	err     error
}

func (g *gatedSource) LoadRevoked(ctx context.Context, now time.Time, session func([]byte)) (map[string]access.AppRevocation, int64, error) {
	<-g.release
	if g.err != nil {
		return nil, 0, g.err
	}
	return g.fakeSource.LoadRevoked(ctx, now, session)
}

// TestOpenRefusesNothingEarly: while Open is still loading, a check for a
// revoked session waits until the load has ended and then refuses it; a
// revocation applied during the load holds too, as do the app revocations
// loaded.
func TestOpenRefusesNothingEarly(t *testing.T) {
	src := &gatedSource{fakeSource: newFakeSource(), release: make(chan struct{})}
	src.write(access.Revocation{Kind: access.RevocationSession, Nonces: []string{"OLDREVOKED000000"}, At: t0})
	src.write(access.Revocation{Kind: access.RevocationApp, Subject: "aud1", At: t0})
	e := Open(context.Background(), src, t0, nil)

	answered := make(chan bool, 1)
	go func() { answered <- e.SessionRevoked("OLDREVOKED000000") }()
	select {
	case <-answered:
		t.Fatal("SessionRevoked answered before the revocations were loaded")
	case <-time.After(50 * time.Millisecond):
	}
	// A revocation written and applied by this process during the load.
	e.Apply(src.write(access.Revocation{Kind: access.RevocationSession, Nonces: []string{"NEWREVOKED000000"}, At: t0}))
	close(src.release)
	if !<-answered {
		t.Fatal("a session revoked before start-up passed")
	}
	for _, tc := range []struct {
		nonce string
		want  bool
	}{{"OLDREVOKED000000", true}, {"NEWREVOKED000000", true}, {"LIVESESSION00000", false}} {
		t.Run(tc.nonce, func(t *testing.T) {
			if got := e.SessionRevoked(tc.nonce); got != tc.want {
				t.Errorf("SessionRevoked = %v, want %v", got, tc.want)
			}
		})
	}
	if hard, _ := e.AppTokenRevoked("aud1", t0.Add(-time.Minute).Unix()); !hard {
		t.Error("a token of an app revoked before start-up passed")
	}
	if err := e.LoadErr(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenFailedLoadRefusesAll: when the start-up load fails, every session
// and every app token is refused.
func TestOpenFailedLoadRefusesAll(t *testing.T) {
	src := &gatedSource{fakeSource: newFakeSource(), release: make(chan struct{}), err: errors.New("disk on fire")}
	close(src.release)
	e := Open(context.Background(), src, t0, nil)
	<-e.Loaded()
	if e.LoadErr() == nil {
		t.Fatal("LoadErr = nil after a failed load")
	}
	if !e.SessionRevoked("LIVESESSION00000") {
		t.Error("a session passed although the revocations could not be loaded")
	}
	if hard, _ := e.AppTokenRevoked("aud1", t0.Unix()); !hard {
		t.Error("an app token passed although the revocations could not be loaded")
	}
}

// TestSortedKeys: the compact start-up set finds exactly its members, long
// nonces (hashed) included, duplicates and all.
func TestSortedKeys(t *testing.T) {
	var keys []nonceKey
	for i := range 1000 {
		keys = append(keys, keyOf(fmt.Sprintf("n%015d", i*2)))
	}
	keys = append(keys, keyOf("n000000000000000"), keyOf("a-nonce-of-more-than-twenty-four-bytes"))
	s := buildSorted(keys)
	for _, tc := range []struct {
		nonce string
		want  bool
	}{
		{"n000000000000000", true}, {"n000000000001998", true}, {"n000000000000001", false},
		{"a-nonce-of-more-than-twenty-four-bytes", true}, {"a-nonce-of-more-than-twenty-four-bytez", false}, {"", false},
	} {
		t.Run(tc.nonce, func(t *testing.T) {
			if got := s.has(keyOf(tc.nonce)); got != tc.want {
				t.Errorf("has = %v, want %v", got, tc.want)
			}
		})
	}
	if len(s) != 1001 {
		t.Errorf("len = %d, want 1001 (duplicates dropped)", len(s))
	}
}
