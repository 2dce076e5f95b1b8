package testidp

import (
	"net/url"
	"testing"
)

func TestFormFields(t *testing.T) {
	tests := []struct {
		name       string
		page       string
		wantAction string
		wantFields url.Values
	}{
		{
			name:       "no form",
			page:       `<html><body><input name="x" value="1"></body></html>`,
			wantAction: "",
			wantFields: nil,
		},
		{
			name: "first form only, unescaped, mixed quotes",
			page: `<form method="post" action="https://idp/acs?a=1&amp;b=2">
				<input type="hidden" name="SAMLResponse" value="PD94&#43;bWw=" />
				<input type=hidden name='RelayState' value='r&amp;s'>
				<input type="submit" name="go" value="Submit">
				<input type="checkbox" name="remember" value="Yes">
				<input type="checkbox" name="keep" value="on" checked>
				<input id="nameless" value="dropped">
				<input type="text" name="username">
			</form><form action="/second"><input name="other" value="x"></form>`,
			wantAction: "https://idp/acs?a=1&b=2",
			wantFields: url.Values{"SAMLResponse": {"PD94+bWw="}, "RelayState": {"r&s"}, "keep": {"on"}, "username": {""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action, fields := FormFields(tt.page)
			if action != tt.wantAction {
				t.Errorf("action = %q, want %q", action, tt.wantAction)
			}
			if fields.Encode() != tt.wantFields.Encode() || (fields == nil) != (tt.wantFields == nil) {
				t.Errorf("fields = %v, want %v", fields, tt.wantFields)
			}
		})
	}
}
