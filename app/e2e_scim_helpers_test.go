package app

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SCIM message schemas (RFC 7644 §3.12, §3.4.2, §3.5.2) and resource
// schemas (RFC 7643 §4).
const (
	scimListSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimPatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimUserSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// scimAPI sends SCIM requests to env's team domain with a bearer token.
type scimAPI struct {
	t     *testing.T
	env   *testEnv
	token string
}

// scimResp is one SCIM answer.
type scimResp struct {
	Status int
	Header http.Header
	Raw    string
	Doc    map[string]any
}

// do sends method path (below /scim/v2) with body (JSON, "" for none) and
// checks the answer's media type: application/scim+json for every answer
// with a body (RFC 7644 §3.1), no body for 204.
func (s scimAPI) do(method, path, body string) scimResp {
	s.t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, s.env.team+"/scim/v2"+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/scim+json")
	c := &http.Client{Transport: &http.Transport{DialContext: loopbackDialer}, Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	out := scimResp{Status: resp.StatusCode, Header: resp.Header, Raw: readBody(s.t, resp)}
	if resp.StatusCode == http.StatusNoContent {
		if out.Raw != "" {
			s.t.Errorf("%s %s: 204 with a body: %s", method, path, out.Raw)
		}
		return out
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		s.t.Errorf("%s %s: Content-Type %q, want application/scim+json", method, path, ct)
	}
	if err := json.Unmarshal([]byte(out.Raw), &out.Doc); err != nil {
		s.t.Fatalf("%s %s: %d, body is not JSON: %v\n%s", method, path, resp.StatusCode, err, out.Raw)
	}
	return out
}

// want fails the test unless the answer has status.
func (r scimResp) want(t *testing.T, what string, status int) scimResp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, r.Status, status, r.Raw)
	}
	return r
}

// str returns the string at the dotted path of the answer ("meta.location").
func (r scimResp) str(path string) string {
	v, _ := lookup(r.Doc, path).(string)
	return v
}

// lookup walks a dotted path through nested objects.
func lookup(doc map[string]any, path string) any {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// schemas returns the answer's "schemas".
func (r scimResp) schemas() []string {
	var out []string
	for _, s := range asList(r.Doc["schemas"]) {
		if v, ok := s.(string); ok {
			out = append(out, v)
		}
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// checkResource asserts the common shape of a resource answer (RFC 7643
// §3.1): the schema, an id, meta with resourceType, created, lastModified
// and a location ending in /scim/v2/<endpoint>/<id>.
func checkResource(t *testing.T, what string, r scimResp, schema, resourceType, endpoint string) {
	t.Helper()
	if !slices.Contains(r.schemas(), schema) {
		t.Errorf("%s: schemas %v lack %s", what, r.schemas(), schema)
	}
	id := r.str("id")
	if id == "" {
		t.Fatalf("%s: no id\n%s", what, r.Raw)
	}
	if got := r.str("meta.resourceType"); got != resourceType {
		t.Errorf("%s: meta.resourceType %q, want %q", what, got, resourceType)
	}
	for _, k := range []string{"meta.created", "meta.lastModified"} {
		if _, err := time.Parse(time.RFC3339, r.str(k)); err != nil {
			t.Errorf("%s: %s %q is not an RFC 3339 time", what, k, r.str(k))
		}
	}
	if loc := r.str("meta.location"); !strings.HasSuffix(loc, "/scim/v2/"+endpoint+"/"+id) || !strings.HasPrefix(loc, "http") {
		t.Errorf("%s: meta.location %q, want an absolute URL ending in /scim/v2/%s/%s", what, loc, endpoint, id)
	}
}

// checkList asserts a ListResponse (RFC 7644 §3.4.2) with total results and
// as many resources on its page.
func checkList(t *testing.T, what string, r scimResp, total int) []any {
	t.Helper()
	r.want(t, what, http.StatusOK)
	if !slices.Equal(r.schemas(), []string{scimListSchema}) {
		t.Errorf("%s: schemas %v, want [%s]", what, r.schemas(), scimListSchema)
	}
	if got, _ := r.Doc["totalResults"].(float64); int(got) != total {
		t.Errorf("%s: totalResults %v, want %d\n%s", what, r.Doc["totalResults"], total, r.Raw)
	}
	if got, _ := r.Doc["startIndex"].(float64); got != 1 {
		t.Errorf("%s: startIndex %v, want 1", what, r.Doc["startIndex"])
	}
	res, ok := r.Doc["Resources"].([]any)
	if !ok {
		t.Fatalf("%s: Resources is not a list: %s", what, r.Raw)
	}
	if len(res) != total {
		t.Errorf("%s: %d resources, want %d", what, len(res), total)
	}
	if got, _ := r.Doc["itemsPerPage"].(float64); int(got) != len(res) {
		t.Errorf("%s: itemsPerPage %v, want the %d resources on the page", what, r.Doc["itemsPerPage"], len(res))
	}
	return res
}

// checkError asserts a SCIM error answer (RFC 7644 §3.12): status, the
// error schema and the status repeated as a string.
func checkError(t *testing.T, what string, r scimResp, status int, scimType string) {
	t.Helper()
	r.want(t, what, status)
	if !slices.Equal(r.schemas(), []string{scimErrorSchema}) {
		t.Errorf("%s: schemas %v, want [%s]", what, r.schemas(), scimErrorSchema)
	}
	if got := r.str("status"); got != strconv.Itoa(status) {
		t.Errorf("%s: status field %q, want %q", what, got, strconv.Itoa(status))
	}
	if scimType != "" && r.str("scimType") != scimType {
		t.Errorf("%s: scimType %q, want %q", what, r.str("scimType"), scimType)
	}
}

// members returns the member ids of a group answer.
func members(r scimResp) []string {
	var out []string
	for _, m := range asList(r.Doc["members"]) {
		if mm, ok := m.(map[string]any); ok {
			if v, ok := mm["value"].(string); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// scimToken returns the secret of a new API token with scopes, made the
// way the CLI and the admin page make them.
func scimToken(t *testing.T, env *testEnv, scopes ...string) string {
	t.Helper()
	_, secret, err := env.app.Store().CreateAPIToken(context.Background(), "scim test "+strings.Join(scopes, ","), scopes, 0, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return secret
}
