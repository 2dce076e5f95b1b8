package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestIdPSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		save := func(nonce string, s access.IdPSession) {
			t.Helper()
			if err := db.SaveIdPSession(ctx, nonce, s); err != nil {
				t.Fatalf("SaveIdPSession: %v", err)
			}
		}
		// Sessions of subject u1 at corp: two with sids, one without; u2 at
		// corp; u1 at another provider; one of u1 expired; one revoked.
		for _, n := range []string{"S1S1S1S1S1S1S1S1", "S2S2S2S2S2S2S2S2", "NOSIDNOSIDNOSID0", "U2U2U2U2U2U2U2U2", "OTHEROTHEROTHER0", "REVOKEDREVOKED00"} {
			newSession(t, db, n, now, time.Hour)
		}
		newSession(t, db, "EXPIREDEXPIRED00", now.Add(-2*time.Hour), time.Hour)
		save("S1S1S1S1S1S1S1S1", access.IdPSession{IdP: "corp", Subject: "u1", SID: "sid-1", IDToken: "tok-1"})
		save("S2S2S2S2S2S2S2S2", access.IdPSession{IdP: "corp", Subject: "u1", SID: "sid-2"})
		save("NOSIDNOSIDNOSID0", access.IdPSession{IdP: "corp", Subject: "u1"})
		save("U2U2U2U2U2U2U2U2", access.IdPSession{IdP: "corp", Subject: "u2", SID: "sid-3"})
		save("OTHEROTHEROTHER0", access.IdPSession{IdP: "other", Subject: "u1", SID: "sid-1"})
		save("EXPIREDEXPIRED00", access.IdPSession{IdP: "corp", Subject: "u1", SID: "sid-1"})
		save("REVOKEDREVOKED00", access.IdPSession{IdP: "corp", Subject: "u1", SID: "sid-1"})
		if _, err := db.RevokeSession(ctx, "REVOKEDREVOKED00", "", now); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name, sid, sub string
			want           []string
		}{
			{name: "by sid", sid: "sid-1", want: []string{"S1S1S1S1S1S1S1S1"}},
			{name: "by sid and sub: that sid, and the subject's sessions without one", sid: "sid-1", sub: "u1",
				want: []string{"NOSIDNOSIDNOSID0", "S1S1S1S1S1S1S1S1"}},
			{name: "by sub: every session of the subject at the provider", sub: "u1",
				want: []string{"NOSIDNOSIDNOSID0", "S1S1S1S1S1S1S1S1", "S2S2S2S2S2S2S2S2"}},
			{name: "unknown sid", sid: "nope"},
			{name: "another subject's sid with this sub ends neither", sid: "sid-3", sub: "u1",
				want: []string{"NOSIDNOSIDNOSID0"}},
			{name: "a sid with another sub ends nothing", sid: "sid-1", sub: "u9"},
			{name: "another subject", sub: "u2", want: []string{"U2U2U2U2U2U2U2U2"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				list, err := db.IdPSessions(ctx, "corp", tt.sid, tt.sub, now)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, s := range list {
					got = append(got, s.Nonce)
				}
				slices.Sort(got)
				if !slices.Equal(got, tt.want) {
					t.Errorf("IdPSessions(%q, %q) = %v, want %v", tt.sid, tt.sub, got, tt.want)
				}
			})
		}
		if _, err := db.IdPSessions(ctx, "corp", "", "", now); err == nil {
			t.Error("IdPSessions with neither sid nor sub succeeded")
		}
		got, err := db.IdPSession(ctx, "S1S1S1S1S1S1S1S1")
		if err != nil || got != (access.IdPSession{IdP: "corp", Subject: "u1", SID: "sid-1", IDToken: "tok-1"}) {
			t.Errorf("IdPSession = %+v, %v", got, err)
		}
		if _, err := db.IdPSession(ctx, "UNKNOWNUNKNOWN00"); !errors.Is(err, ErrNotFound) {
			t.Errorf("IdPSession(unknown) = %v, want ErrNotFound", err)
		}
	})
}

func TestUseLogoutJTI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		ctx := context.Background()
		now := time.Unix(1_700_000_000, 0)
		tests := []struct {
			name, idp, jti string
			expires, now   time.Time
			wantErr        error
		}{
			{name: "first use", idp: "corp", jti: "j1", expires: now.Add(2 * time.Minute), now: now},
			{name: "replay", idp: "corp", jti: "j1", expires: now.Add(2 * time.Minute), now: now.Add(time.Minute), wantErr: ErrLogoutReplayed},
			{name: "same jti from another provider", idp: "other", jti: "j1", expires: now.Add(2 * time.Minute), now: now},
			{name: "after expiry the entry is purged", idp: "corp", jti: "j1", expires: now.Add(10 * time.Minute), now: now.Add(3 * time.Minute)},
			{name: "replay of the new entry", idp: "corp", jti: "j1", expires: now.Add(10 * time.Minute), now: now.Add(4 * time.Minute), wantErr: ErrLogoutReplayed},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.UseLogoutJTI(ctx, tt.idp, tt.jti, tt.expires, tt.now)
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Fatalf("UseLogoutJTI = %v, want %v", err, tt.wantErr)
				}
			})
		}
		if err := db.UseLogoutJTI(ctx, "corp", "", now, now); err == nil {
			t.Error("empty jti accepted")
		}
	})
}
