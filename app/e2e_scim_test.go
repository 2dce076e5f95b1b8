package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/store"
)

// e2eSCIMConfig has an app any example.com user may reach and one that
// needs the group "engineering".
var e2eSCIMConfig = e2eHeader() + `
[[apps]]
name = "demo"
domains = ["app.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "staff"
  decision = "allow"
  include = [{ email_domains = ["example.com", "okta.local", "testuser.com"] }]

[[apps]]
name = "wiki"
domains = ["wiki.localhost:{{PORT}}"]
origin = "whoami"
  [[apps.policies]]
  name = "engineers"
  decision = "allow"
  include = [{ groups = ["engineering"] }]
`

// startSCIMEnv starts Gatehouse with e2eSCIMConfig and returns it with a
// SCIM client holding an API token of scope scim.
func startSCIMEnv(t *testing.T) (*testEnv, scimAPI) {
	t.Helper()
	env := startEnv(t, e2eSCIMConfig, "")
	return env, scimAPI{t: t, env: env, token: scimToken(t, env, "scim")}
}

// q escapes a filter for a query string.
func q(filter string) string { return url.QueryEscape(filter) }

// TestSCIMOktaSequence replays the requests Okta documents for SCIM 2.0
// provisioning (developer.okta.com, "Okta and SCIM Version 2.0"): the
// existence check by userName, create, read, the profile update by PUT,
// deactivation by PATCH in Okta's shape (no path, value {"active":false}),
// Group Push (create, rename by PATCH without path, membership PATCH
// add/remove, delete) and the error answers.
func TestSCIMOktaSequence(t *testing.T) {
	_, api := startSCIMEnv(t)

	// 1. Does the user exist? An empty ListResponse.
	r := api.do("GET", "/Users?filter="+q(`userName eq "test.user@okta.local"`)+"&startIndex=1&count=100", "")
	checkList(t, "existence check", r, 0)

	// 2. Create the user (Okta sends a password and an empty groups list).
	created := api.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"test.user@okta.local","name":{"givenName":"Test","familyName":"User"},
		"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],
		"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7",
		"groups":[],"password":"1mz050nq","active":true}`).want(t, "create user", http.StatusCreated)
	checkResource(t, "create user", created, scimUserSchema, "User", "Users")
	id := created.str("id")
	if loc := created.Header.Get("Location"); loc == "" || loc != created.str("meta.location") {
		t.Errorf("create user: Location %q, want meta.location %q", loc, created.str("meta.location"))
	}
	if created.str("userName") != "test.user@okta.local" || created.str("externalId") != "00ujl29u0le5T6Aj10h7" ||
		created.Doc["active"] != true || created.str("name.givenName") != "Test" || created.str("displayName") != "Test User" {
		t.Errorf("create user: attributes not echoed: %s", created.Raw)
	}
	if strings.Contains(created.Raw, "1mz050nq") || created.Doc["password"] != nil {
		t.Errorf("create user: the password came back (RFC 7643 §4.1.1: returned never): %s", created.Raw)
	}

	// 3. Read it back, and find it by userName (in any case: userName is
	// caseExact false) and by externalId.
	got := api.do("GET", "/Users/"+id, "").want(t, "get user", http.StatusOK)
	checkResource(t, "get user", got, scimUserSchema, "User", "Users")
	if got.str("userName") != "test.user@okta.local" || got.str("id") != id || len(asList(got.Doc["emails"])) != 1 {
		t.Errorf("get user: %s", got.Raw)
	}
	res := checkList(t, "filter userName", api.do("GET", "/Users?filter="+q(`userName eq "Test.User@okta.local"`)+"&startIndex=1&count=100", ""), 1)
	if m, _ := res[0].(map[string]any); m["id"] != id || !strings.HasSuffix(fmt.Sprint(lookup(m, "meta.location")), "/Users/"+id) {
		t.Errorf("filter userName: %v", res[0])
	}
	checkList(t, "filter externalId", api.do("GET", "/Users?filter="+q(`externalId eq "00ujl29u0le5T6Aj10h7"`), ""), 1)
	checkList(t, "filter externalId is case-exact", api.do("GET", "/Users?filter="+q(`externalId eq "00UJL29U0LE5T6AJ10H7"`), ""), 0)
	checkList(t, "filter handled in memory", api.do("GET", "/Users?filter="+q(`name.familyName eq "User" and active eq true`), ""), 1)

	// Pagination: the second of two users, one a page.
	two := api.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"page.two@okta.local","active":true}`).want(t, "second user", http.StatusCreated).str("id")
	page := api.do("GET", "/Users?startIndex=2&count=1", "").want(t, "page 2", http.StatusOK)
	if page.Doc["totalResults"] != float64(2) || page.Doc["itemsPerPage"] != float64(1) || page.Doc["startIndex"] != float64(2) ||
		len(asList(page.Doc["Resources"])) != 1 || lookup(asList(page.Doc["Resources"])[0].(map[string]any), "id") != two {
		t.Errorf("page 2 of 1: %s", page.Raw)
	}
	api.do("DELETE", "/Users/"+two, "").want(t, "delete second user", http.StatusNoContent)

	// 4. Profile update: Okta PUTs the whole user.
	put := api.do("PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"`+id+`",
		"userName":"test.user@okta.local","name":{"givenName":"Another","middleName":"Excited","familyName":"User"},
		"emails":[{"primary":true,"value":"test.user@okta.local","type":"work","display":"test.user@okta.local"}],
		"active":true,"groups":[],"meta":{"resourceType":"User"}}`).want(t, "put user", http.StatusOK)
	checkResource(t, "put user", put, scimUserSchema, "User", "Users")
	if put.str("name.givenName") != "Another" || put.str("name.middleName") != "Excited" || put.str("id") != id {
		t.Errorf("put user: %s", put.Raw)
	}
	if put.str("displayName") != "" || put.str("locale") != "" {
		t.Errorf("put user: PUT replaces, yet omitted attributes stayed: %s", put.Raw)
	}

	// 5. Deactivate, Okta's shape.
	deact := api.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, "deactivate", http.StatusOK)
	if deact.Doc["active"] != false || deact.str("userName") != "test.user@okta.local" {
		t.Errorf("deactivate: %s", deact.Raw)
	}
	if api.do("GET", "/Users/"+id, "").Doc["active"] != false {
		t.Error("deactivation was not stored")
	}
	// ...and reactivate.
	react := api.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":true}}]}`).want(t, "reactivate", http.StatusOK)
	if react.Doc["active"] != true {
		t.Errorf("reactivate: %s", react.Raw)
	}

	// 6. Duplicate userName: 409 uniqueness.
	dup := api.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"TEST.USER@okta.local","active":true}`)
	checkError(t, "duplicate userName", dup, http.StatusConflict, "uniqueness")

	// 7. Group Push.
	other := api.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"other.user@okta.local","active":true}`).want(t, "create second user", http.StatusCreated).str("id")
	g := api.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"displayName":"Test SCIMv2","members":[]}`).want(t, "create group", http.StatusCreated)
	checkResource(t, "create group", g, scimGroupSchema, "Group", "Groups")
	gid := g.str("id")
	if g.Header.Get("Location") != g.str("meta.location") || g.str("displayName") != "Test SCIMv2" || len(members(g)) != 0 {
		t.Errorf("create group: %s", g.Raw)
	}
	checkList(t, "filter displayName", api.do("GET", "/Groups?filter="+q(`displayName eq "Test SCIMv2"`)+"&startIndex=1&count=100", ""), 1)
	checkList(t, "filter unknown displayName", api.do("GET", "/Groups?filter="+q(`displayName eq "nope"`), ""), 0)

	// Rename: PATCH without a path; Okta repeats the id in the value.
	ren := api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"id":"`+gid+`","displayName":"Test SCIMv2 renamed"}}]}`).want(t, "rename group", http.StatusOK)
	if ren.str("displayName") != "Test SCIMv2 renamed" || ren.str("id") != gid {
		t.Errorf("rename group: %s", ren.Raw)
	}

	// Membership: add both, then Okta's remove by value filter plus add.
	api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"add","path":"members","value":[{"value":"`+other+`","display":"other.user@okta.local"}]}]}`).
		want(t, "add member", http.StatusOK)
	mem := api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"remove","path":"members[value eq \"`+other+`\"]"},
		{"op":"add","path":"members","value":[{"value":"`+id+`","display":"test.user@okta.local"}]}]}`).
		want(t, "membership patch", http.StatusOK)
	if got := members(mem); !slices.Equal(got, []string{id}) {
		t.Errorf("membership patch: members %v, want [%s]\n%s", got, id, mem.Raw)
	}
	if got := members(api.do("GET", "/Groups/"+gid, "").want(t, "get group", http.StatusOK)); !slices.Equal(got, []string{id}) {
		t.Errorf("get group: members %v, want [%s]", got, id)
	}
	// Replace the whole member list.
	repl := api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","path":"members","value":[{"value":"`+other+`"},{"value":"`+id+`"}]}]}`).
		want(t, "replace members", http.StatusOK)
	if got := members(repl); len(got) != 2 {
		t.Errorf("replace members: %v", got)
	}

	// 8. Unknown ids: 404 in the SCIM error shape.
	checkError(t, "unknown user", api.do("GET", "/Users/00000000-0000-0000-0000-000000000000", ""), http.StatusNotFound, "")
	checkError(t, "unknown group", api.do("GET", "/Groups/nope", ""), http.StatusNotFound, "")
	checkError(t, "patch unknown user", api.do("PATCH", "/Users/nope", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`), http.StatusNotFound, "")
	checkError(t, "bad filter", api.do("GET", "/Users?filter="+q(`userName eq`), ""), http.StatusBadRequest, "invalidFilter")

	// 9. Delete: 204, then 404; the user leaves the group.
	api.do("DELETE", "/Groups/"+gid, "").want(t, "delete group", http.StatusNoContent)
	checkError(t, "deleted group", api.do("GET", "/Groups/"+gid, ""), http.StatusNotFound, "")
	api.do("DELETE", "/Users/"+id, "").want(t, "delete user", http.StatusNoContent)
	checkError(t, "deleted user", api.do("GET", "/Users/"+id, ""), http.StatusNotFound, "")
	checkError(t, "delete again", api.do("DELETE", "/Users/"+id, ""), http.StatusNotFound, "")
	checkList(t, "after delete", api.do("GET", "/Users?filter="+q(`userName eq "test.user@okta.local"`), ""), 0)
}

// TestSCIMEntraSequence replays the requests Microsoft Entra ID documents
// for its SCIM provisioning (learn.microsoft.com, "Tutorial: Develop and
// plan provisioning for a SCIM endpoint", request/response examples):
// capitalised ops, the enterprise extension, path filters on emails,
// active as the string "False", members added and removed by value list
// and by value filter, and the group queries with excludedAttributes.
func TestSCIMEntraSequence(t *testing.T) {
	_, api := startSCIMEnv(t)

	// Get user by query: none yet.
	checkList(t, "query zero results", api.do("GET", "/Users?filter="+q(`userName eq "non-existent user"`), ""), 0)

	// Create user.
	u := api.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee@testuser.com","active":true,
		"emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b@testuser.com"}],
		"meta":{"resourceType":"User"},
		"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
		"roles":[],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Engineering"}}`).
		want(t, "create user", http.StatusCreated)
	checkResource(t, "create user", u, scimUserSchema, "User", "Users")
	id := u.str("id")
	if u.str("name.formatted") != "givenName familyName" || u.str("externalId") != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
		t.Errorf("create user: %s", u.Raw)
	}
	if dep := u.Doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]; fmt.Sprint(dep) != "map[department:Engineering]" {
		t.Errorf("create user: enterprise extension %v", dep)
	}

	// Get user, and by query.
	api.do("GET", "/Users/"+id, "").want(t, "get user", http.StatusOK)
	checkList(t, "query by userName", api.do("GET", "/Users?filter="+q(`userName eq "Test_User_ab6490ee@testuser.com"`), ""), 1)

	// Update user: multi-valued and single-valued properties.
	upd := api.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@testuser.com"},
		{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"701984"}]}`).
		want(t, "update user", http.StatusOK)
	if upd.str("name.familyName") != "updatedFamilyName" || upd.str("name.givenName") != "givenName" {
		t.Errorf("update user: name %v", upd.Doc["name"])
	}
	if e, _ := asList(upd.Doc["emails"])[0].(map[string]any); e["value"] != "updatedEmail@testuser.com" || e["type"] != "work" {
		t.Errorf("update user: emails %v", upd.Doc["emails"])
	}
	if v := upd.Doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]; !strings.Contains(fmt.Sprint(v), "employeeNumber:701984") {
		t.Errorf("update user: enterprise extension %v", v)
	}

	// Disable user: Entra sends a capitalised op and the string "False".
	dis := api.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`).want(t, "disable user", http.StatusOK)
	if dis.Doc["active"] != false {
		t.Errorf("disable user: active %v", dis.Doc["active"])
	}
	// The string inside a path-less value too.
	if r := api.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","value":{"active":"True"}}]}`).want(t, "enable by value", http.StatusOK); r.Doc["active"] != true {
		t.Errorf("enable by value: active %v", r.Doc["active"])
	}
	// The boolean form too.
	en := api.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":true}]}`).want(t, "enable user", http.StatusOK)
	if en.Doc["active"] != true {
		t.Errorf("enable user: active %v", en.Doc["active"])
	}
	// Change the userName.
	renamed := api.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"userName","value":"renamed@testuser.com"}]}`).want(t, "rename user", http.StatusOK)
	if renamed.str("userName") != "renamed@testuser.com" {
		t.Errorf("rename user: %s", renamed.Raw)
	}

	// Create group.
	g := api.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}`).
		want(t, "create group", http.StatusCreated)
	checkResource(t, "create group", g, scimGroupSchema, "Group", "Groups")
	gid := g.str("id")
	if g.str("externalId") != "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" {
		t.Errorf("create group: %s", g.Raw)
	}

	// Get group; get group by displayName.
	api.do("GET", "/Groups/"+gid+"?excludedAttributes=members", "").want(t, "get group", http.StatusOK)
	res := checkList(t, "group by displayName", api.do("GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "displayName"`), ""), 1)
	if m, _ := res[0].(map[string]any); m["id"] != gid {
		t.Errorf("group by displayName: %v", res[0])
	}

	// Update group [non-member attributes].
	api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}`).
		want(t, "update group name", http.StatusOK)

	// Update group [add members].
	add := api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}]}`).
		want(t, "add members", http.StatusOK)
	if got := members(add); !slices.Equal(got, []string{id}) || add.str("displayName") != "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" {
		t.Errorf("add members: %s", add.Raw)
	}
	if ex := api.do("GET", "/Groups/"+gid+"?excludedAttributes=members", "").want(t, "get group without members", http.StatusOK); ex.Doc["members"] != nil {
		t.Errorf("excludedAttributes=members: members still returned: %s", ex.Raw)
	}
	// Adding again keeps one membership.
	again := api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}]}`).want(t, "add again", http.StatusOK)
	if got := members(again); len(got) != 1 {
		t.Errorf("add again: members %v", got)
	}

	// Update group [remove members]: by value list, then (after a re-add)
	// by value filter.
	rm := api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}]}`).
		want(t, "remove members", http.StatusOK)
	if got := members(rm); len(got) != 0 {
		t.Errorf("remove members: %v", got)
	}
	api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Add","path":"members","value":[{"value":"`+id+`"}]}]}`).want(t, "re-add", http.StatusOK)
	rm2 := api.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Remove","path":"members[value eq \"`+id+`\"]"}]}`).want(t, "remove by filter", http.StatusOK)
	if got := members(rm2); len(got) != 0 {
		t.Errorf("remove by filter: %v", got)
	}

	// Malformed PATCH bodies.
	checkError(t, "patch without schemas", api.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"Replace","path":"active","value":false}]}`), http.StatusBadRequest, "")
	checkError(t, "patch with a bad path", api.do("PATCH", "/Users/"+id, `{"schemas":["`+scimPatchSchema+`"],
		"Operations":[{"op":"Replace","path":"nosuchattribute","value":1}]}`), http.StatusBadRequest, "")
	checkError(t, "patch active with a non-boolean", api.do("PATCH", "/Users/"+id, `{"schemas":["`+scimPatchSchema+`"],
		"Operations":[{"op":"Replace","path":"active","value":"maybe"}]}`), http.StatusBadRequest, "invalidValue")

	// Delete group; delete user.
	api.do("DELETE", "/Groups/"+gid, "").want(t, "delete group", http.StatusNoContent)
	api.do("DELETE", "/Users/"+id, "").want(t, "delete user", http.StatusNoContent)
	checkError(t, "deleted user", api.do("GET", "/Users/"+id, ""), http.StatusNotFound, "")
}

// TestSCIMDiscoveryAndAuth checks the discovery endpoints (RFC 7644 §4) and
// that SCIM needs an API token of scope scim: 401 without a valid one, 403
// without the scope.
func TestSCIMDiscoveryAndAuth(t *testing.T) {
	dir := t.TempDir()
	env := startEnv(t, e2eSCIMConfig, dir)
	// The token the README tells operators to make, with the CLI.
	cfg := writeConfigFile(t, e2eSCIMConfig, env, dir)
	secret, _ := createAPITokenCLI(t, cfg, "okta-scim", "scim")
	api := scimAPI{t: t, env: env, token: secret}
	readOnly, _ := createAPITokenCLI(t, cfg, "reader", "read")

	spc := api.do("GET", "/ServiceProviderConfig", "").want(t, "ServiceProviderConfig", http.StatusOK)
	if !slices.Contains(spc.schemas(), "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig") ||
		lookup(spc.Doc, "patch.supported") != true || lookup(spc.Doc, "filter.supported") != true ||
		lookup(spc.Doc, "bulk.supported") != false {
		t.Errorf("ServiceProviderConfig: %s", spc.Raw)
	}
	if auth := asList(spc.Doc["authenticationSchemes"]); len(auth) != 1 || lookup(auth[0].(map[string]any), "type") != "oauthbearertoken" {
		t.Errorf("ServiceProviderConfig: authenticationSchemes %v", spc.Doc["authenticationSchemes"])
	}
	rt := checkList(t, "ResourceTypes", api.do("GET", "/ResourceTypes", ""), 2)
	var endpoints []string
	for _, r := range rt {
		endpoints = append(endpoints, fmt.Sprint(r.(map[string]any)["endpoint"]))
	}
	slices.Sort(endpoints)
	if !slices.Equal(endpoints, []string{"/Groups", "/Users"}) {
		t.Errorf("ResourceTypes: endpoints %v", endpoints)
	}
	sch := api.do("GET", "/Schemas", "").want(t, "Schemas", http.StatusOK)
	for _, id := range []string{scimUserSchema, scimGroupSchema, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"} {
		if !strings.Contains(sch.Raw, `"`+id+`"`) {
			t.Errorf("Schemas: no %s", id)
		}
	}
	api.do("GET", "/Schemas/"+scimUserSchema, "").want(t, "user schema", http.StatusOK)

	// A body over 1 MiB is refused, not read.
	big := api.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"big@example.com","displayName":"`+strings.Repeat("a", 2<<20)+`"}`)
	checkError(t, "oversized body", big, http.StatusBadRequest, "")
	checkList(t, "after the oversized body", api.do("GET", "/Users", ""), 0)

	for _, tc := range []struct {
		name   string
		token  string
		status int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"unknown token", "gh_api_" + strings.Repeat("0", 64), http.StatusUnauthorized},
		{"revoked token", revokedToken(t, env), http.StatusUnauthorized},
		{"token without the scim scope", readOnly, http.StatusForbidden},
		{"token with other scopes", scimToken(t, env, "read", "revoke"), http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := scimAPI{t: t, env: env, token: tc.token}
			for _, path := range []string{"/Users", "/ServiceProviderConfig", "/Groups/x"} {
				checkError(t, path, other.do("GET", path, ""), tc.status, "")
			}
			r := other.do("POST", "/Users", `{"schemas":["`+scimUserSchema+`"],"userName":"sneaky@example.com"}`)
			checkError(t, "create", r, tc.status, "")
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	list, _, err := env.app.Store().SCIMUsers(context.Background(), store.SCIMFilter{}, 0, -1)
	if err != nil || len(list) != 0 {
		t.Errorf("users created without a valid token: %v %v", list, err)
	}
}

// revokedToken returns the secret of an API token of scope scim that was
// revoked.
func revokedToken(t *testing.T, env *testEnv) string {
	t.Helper()
	tok, secret, err := env.app.Store().CreateAPIToken(context.Background(), "revoked", []string{"scim"}, 0, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := env.app.Store().RevokeAPIToken(context.Background(), tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	return secret
}
