package app

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

// TestGetIdentityOneShape: the team domain and a protected host answer
// get-identity with the same document for one signed-in user.
func TestGetIdentityOneShape(t *testing.T) {
	env := startEnv(t, e2eConfig, "")
	c := newClient(t, false)
	readBody(t, env.signInWithPIN(t, c, env.url("app", "/"), "fay@example.com"))
	get := func(u string) map[string]any {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(readBody(t, resp)), &m); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", u, resp.StatusCode, err)
		}
		return m
	}
	team := get(env.team + "/cdn-cgi/access/get-identity")
	host := get(env.url("app", "/cdn-cgi/access/get-identity"))
	tk, hk := slices.Sorted(maps.Keys(team)), slices.Sorted(maps.Keys(host))
	if !slices.Equal(tk, hk) {
		t.Fatalf("team domain keys %v, protected host keys %v", tk, hk)
	}
	for _, k := range []string{"id", "email", "user_uuid", "account_id", "identity_nonce", "iat"} {
		if team[k] != host[k] || team[k] == "" || team[k] == nil {
			t.Errorf("%s: team %v, host %v", k, team[k], host[k])
		}
	}
	if amr, _ := team["amr"].([]any); len(amr) != 1 || amr[0] != "otp" {
		t.Errorf("amr = %v, want [otp] after a PIN sign-in", team["amr"])
	}
	for _, k := range []string{"geo", "groups", "idp"} {
		if _, ok := team[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
}
