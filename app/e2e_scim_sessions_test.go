package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/store"
)

// scimUser provisions email (active) and returns its SCIM id.
func scimUser(t *testing.T, api scimAPI, email string) string {
	t.Helper()
	return api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"`+email+`",
		"emails":[{"primary":true,"type":"work","value":"`+email+`"}],"active":true}`).
		want(t, "create "+email, http.StatusCreated).str("id")
}

// appStatus is the status of GET url with c, which does not follow
// redirects: 200 from the origin, 302 to the sign-in, 403 denied.
func appStatus(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	return resp.StatusCode
}

// signedIn signs email in at the demo app and returns a client holding the
// session that does not follow redirects.
func signedIn(t *testing.T, env *testEnv, target, email string) *http.Client {
	t.Helper()
	c := newClient(t, false)
	resp := env.signInWithPIN(t, c, target, email)
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in of %s at %s: %d\n%s", email, target, resp.StatusCode, body)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// signInRefused signs email in again with a fresh browser and asserts the
// deactivation page.
func signInRefused(t *testing.T, env *testEnv, email string) {
	t.Helper()
	c := newClient(t, false)
	resp := env.signInWithPIN(t, c, env.url("app", "/?format=json"), email)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "deactivated") {
		t.Fatalf("sign-in of deactivated %s: %d, want 403 with the deactivation page\n%s", email, resp.StatusCode, body)
	}
}

// TestSCIMDeprovisioningLiveSessions checks what SCIM does to users who are
// signed in: deactivation (Okta's and Entra ID's PATCH) and deletion revoke
// every session at the next request and refuse sign-in until reactivated;
// group membership changes reach the live session at its next request.
func TestSCIMDeprovisioningLiveSessions(t *testing.T) {
	// Each case has its own Gatehouse: the PIN limits (3 per address, 10 per
	// client address in 10 minutes) would stop one shared instance.
	t.Run("deactivation in Entra's shape", func(t *testing.T) {
		env, api := startSCIMEnv(t)
		demo := env.url("app", "/?format=json")
		id := scimUser(t, api, "bob@example.com")
		c := signedIn(t, env, demo, "bob@example.com")
		// A second browser of bob: every session goes.
		c2 := signedIn(t, env, demo, "bob@example.com")
		if got := appStatus(t, c, demo); got != http.StatusOK {
			t.Fatalf("before deactivation: %d", got)
		}
		api.do("PATCH", "/Users/"+id, `{"schemas":["`+scimPatchSchema+`"],
			"Operations":[{"op":"Replace","path":"active","value":"False"}]}`).want(t, "deactivate", http.StatusOK)
		for i, cl := range []*http.Client{c, c2} {
			if got := appStatus(t, cl, demo); got != http.StatusFound {
				t.Errorf("session %d after deactivation: %d, want 302 to the sign-in", i+1, got)
			}
		}
		signInRefused(t, env, "bob@example.com")
		// The revocation went through the revocation log, by "scim", and the
		// audit names the actor.
		revs, err := env.app.Store().Revocations(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) == 0 || revs[0].Kind != access.RevocationUser || revs[0].Subject != "bob@example.com" || revs[0].By != "scim" {
			t.Errorf("revocation log: %+v", revs)
		}
		events, _, err := env.app.Store().AuditSearch(context.Background(), store.AuditFilter{Kind: access.EventRevoked, Email: "scim"})
		if err != nil || len(events) == 0 || !strings.Contains(events[0].Detail, "bob@example.com") || !strings.Contains(events[0].Detail, "2 session") {
			t.Errorf("audit: %+v %v", events, err)
		}
		failed, _, _ := env.app.Store().AuditSearch(context.Background(), store.AuditFilter{Kind: access.EventSignInFailed, Email: "bob@example.com"})
		if len(failed) == 0 {
			t.Error("the refused sign-in was not audited")
		}
	})

	t.Run("deactivation in Okta's shape, then reactivation", func(t *testing.T) {
		env, api := startSCIMEnv(t)
		demo := env.url("app", "/?format=json")
		id := scimUser(t, api, "carol@example.com")
		c := signedIn(t, env, demo, "carol@example.com")
		api.do("PATCH", "/Users/"+id, `{"schemas":["`+scimPatchSchema+`"],
			"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, "deactivate", http.StatusOK)
		if got := appStatus(t, c, demo); got != http.StatusFound {
			t.Errorf("after deactivation: %d, want 302", got)
		}
		// The team domain's session is gone too.
		if got := appStatus(t, c, env.team+"/cdn-cgi/access/get-identity"); got != http.StatusUnauthorized {
			t.Errorf("get-identity after deactivation: %d, want 401", got)
		}
		signInRefused(t, env, "carol@example.com")

		// Reactivated (Entra sends "True"): sign-in works again.
		api.do("PATCH", "/Users/"+id, `{"schemas":["`+scimPatchSchema+`"],
			"Operations":[{"op":"Replace","path":"active","value":"True"}]}`).want(t, "reactivate", http.StatusOK)
		c3 := signedIn(t, env, demo, "carol@example.com")
		if got := appStatus(t, c3, demo); got != http.StatusOK {
			t.Errorf("after reactivation: %d", got)
		}
	})

	t.Run("deletion", func(t *testing.T) {
		env, api := startSCIMEnv(t)
		demo := env.url("app", "/?format=json")
		id := scimUser(t, api, "dave@example.com")
		c := signedIn(t, env, demo, "dave@example.com")
		api.do("DELETE", "/Users/"+id, "").want(t, "delete", http.StatusNoContent)
		if got := appStatus(t, c, demo); got != http.StatusFound {
			t.Errorf("after deletion: %d, want 302", got)
		}
		// Deleted, the user may not sign in (not even with a one-time PIN)
		// until provisioned again.
		signInRefused(t, env, "dave@example.com")
		scimUser(t, api, "dave@example.com")
		if got := appStatus(t, signedIn(t, env, demo, "dave@example.com"), demo); got != http.StatusOK {
			t.Errorf("sign-in after provisioning again: %d", got)
		}
	})

	t.Run("group membership", func(t *testing.T) {
		env, api := startSCIMEnv(t)
		wiki := env.url("wiki", "/?format=json")
		eve := scimUser(t, api, "eve@example.com")
		gid := api.do("POST", "/Groups", `{"schemas":["`+scimGroupSchema+`"],"displayName":"engineering",
			"members":[{"value":"`+eve+`"}]}`).want(t, "create group", http.StatusCreated).str("id")
		// Signed in as a member: the provisioned group admits her, although
		// the PIN sign-in asserts no group at all.
		c := signedIn(t, env, wiki, "eve@example.com")
		if got := appStatus(t, c, wiki); got != http.StatusOK {
			t.Fatalf("member: %d", got)
		}
		// Removed (Okta's shape): refused at the next request.
		api.do("PATCH", "/Groups/"+gid, `{"schemas":["`+scimPatchSchema+`"],
			"Operations":[{"op":"remove","path":"members[value eq \"`+eve+`\"]"}]}`).want(t, "remove member", http.StatusOK)
		if got := appStatus(t, c, wiki); got != http.StatusForbidden {
			t.Errorf("after removal from the group: %d, want 403", got)
		}
		// The session itself lives on.
		if got := appStatus(t, c, env.team+"/cdn-cgi/access/get-identity"); got != http.StatusOK {
			t.Errorf("get-identity after removal from the group: %d, want 200", got)
		}
		// Added back (Entra's shape): admitted at the next request, with no
		// new sign-in.
		api.do("PATCH", "/Groups/"+gid, `{"schemas":["`+scimPatchSchema+`"],
			"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+eve+`"}]}]}`).want(t, "add member", http.StatusOK)
		if got := appStatus(t, c, wiki); got != http.StatusOK {
			t.Errorf("after re-adding to the group: %d, want 200 without signing in", got)
		}
		// Renaming the group away from "engineering" refuses her again.
		api.do("PATCH", "/Groups/"+gid, `{"schemas":["`+scimPatchSchema+`"],
			"Operations":[{"op":"Replace","path":"displayName","value":"marketing"}]}`).want(t, "rename", http.StatusOK)
		if got := appStatus(t, c, wiki); got != http.StatusForbidden {
			t.Errorf("after the group's rename: %d, want 403", got)
		}
		// A provisioned user signed in elsewhere, added to the group, reaches
		// the wiki through her global session: no new PIN.
		grace := scimUser(t, api, "grace@example.com")
		gc := signedIn(t, env, env.url("app", "/?format=json"), "grace@example.com")
		api.do("PATCH", "/Groups/"+gid, `{"schemas":["`+scimPatchSchema+`"],
			"Operations":[{"op":"Replace","path":"displayName","value":"engineering"},
			{"op":"Add","path":"members","value":[{"value":"`+grace+`"}]}]}`).want(t, "add grace", http.StatusOK)
		gc.CheckRedirect = nil
		resp, err := gc.Get(wiki)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusOK || resp.Request.URL.Host != strings.TrimPrefix(env.url("wiki", ""), "http://") {
			t.Errorf("grace at the wiki after being added: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		env.mail.mu.Lock()
		pins := len(env.mail.pins["grace@example.com"])
		env.mail.mu.Unlock()
		if pins != 1 {
			t.Errorf("grace was sent %d PINs, want 1 (no new sign-in)", pins)
		}

		// A user SCIM does not know keeps the IdP's groups (none here).
		resp = env.signInWithPIN(t, newClient(t, false), wiki, "frank@example.com")
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden {
			t.Errorf("unprovisioned user at the wiki: %d, want 403\n%s", resp.StatusCode, body)
		}
	})
}

// TestSCIMDeactivationClosesWebSocket: deactivating a user over SCIM cancels
// their requests in flight, as the admin page's revoke user does: an open
// WebSocket through Gatehouse closes within a second.
func TestSCIMDeactivationClosesWebSocket(t *testing.T) {
	origin := echoOrigin(t)
	env := startEnv(t, strings.ReplaceAll(wsConfig, "{{ORIGIN}}", origin.URL), "")
	api := scimAPI{t: t, env: env, token: scimToken(t, env, "scim")}
	id := scimUser(t, api, "alice@example.com")
	c := newClient(t, false)
	resp := env.signInWithPIN(t, c, env.url("app", "/"), "alice@example.com")
	if readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	conn := dialEcho(t, env, c)
	defer conn.Close()
	assertClosedWithin(t, conn, time.Second, func() {
		api.do("PATCH", "/Users/"+id, `{"schemas":["`+scimPatchSchema+`"],
			"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, "deactivate", http.StatusOK)
	})
}
