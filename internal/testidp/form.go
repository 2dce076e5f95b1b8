package testidp

import (
	"bytes"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	formRe  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`(?is)([a-z_:][-a-z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`)
)

// attrs parses the attributes of one tag into a lower-cased name → value map.
func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
		name := strings.ToLower(a[1])
		if _, dup := m[name]; dup {
			continue
		}
		m[name] = html.UnescapeString(a[2] + a[3] + a[4])
	}
	return m
}

// FormFields scrapes the first <form> of an HTML page: its action (as
// written, HTML-unescaped; "" when absent) and the name/value pairs of its
// <input> elements. Inputs without a name, and checkboxes or radio buttons
// that are not checked, are left out. It returns "" and nil when the page has
// no form.
func FormFields(page string) (action string, fields url.Values) {
	m := formRe.FindStringSubmatch(page)
	if m == nil {
		return "", nil
	}
	action = attrs(m[1])["action"]
	fields = url.Values{}
	for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		name := a["name"]
		if name == "" {
			continue
		}
		switch strings.ToLower(a["type"]) {
		case "checkbox", "radio":
			if _, checked := a["checked"]; !checked {
				continue
			}
		case "submit", "button", "image", "reset":
			continue
		}
		fields.Add(name, a["value"])
	}
	return action, fields
}

// readPage reads and closes resp's body, then gives resp a fresh body with
// the same bytes so the caller can still return it.
func readPage(t testing.TB, resp *http.Response) string {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("testidp: read %s: %v", resp.Request.URL, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return string(body)
}

// submitForm posts fields to the form action, resolved against the URL of
// the page the form came from, and returns the response after redirects.
func submitForm(t testing.TB, c *http.Client, page *http.Response, action string, fields url.Values) *http.Response {
	t.Helper()
	base := page.Request.URL
	target, err := base.Parse(action)
	if err != nil {
		t.Fatalf("testidp: form action %q: %v", action, err)
	}
	resp, err := c.PostForm(target.String(), fields)
	if err != nil {
		t.Fatalf("testidp: post form to %s: %v", target, err)
	}
	return resp
}

// snippet shortens a page for an error message.
func snippet(page string) string {
	const limit = 2000
	if len(page) > limit {
		return page[:limit] + "…"
	}
	return page
}
