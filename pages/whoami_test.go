package pages

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// decodeJWT is an unverified JWT decoder like token.Decode.
func decodeJWT(raw string) (header, payload map[string]any, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a JWT")
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, nil, err
		}
	}
	return header, payload, nil
}

// fakeJWT builds an unsigned token with the given header and payload JSON.
func fakeJWT(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestWhoami(t *testing.T) {
	rd, err := New("Test Team", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h := Whoami(rd, decodeJWT)
	raw := fakeJWT(`{"alg":"RS256","kid":"k1"}`, `{"email":"ann@example.com","iss":"https://auth.example.com","aud":["a"]}`)
	newReq := func(target string) *http.Request {
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("Cf-Access-Authenticated-User-Email", "ann@example.com")
		req.Header.Set("Cf-Access-Jwt-Assertion", raw)
		req.Header.Set("X-Evil", `<script>alert(1)</script>`)
		return req
	}

	t.Run("html", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newReq("http://app.example.com/"))
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		for _, want := range []string{
			"<title>whoami",
			"ann@example.com",
			"present",
			"Decoded, not verified",
			"https://auth.example.com/cdn-cgi/access/certs",
			"&#34;kid&#34;: &#34;k1&#34;",
			"&lt;script&gt;alert(1)&lt;/script&gt;",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(body, "<script>alert") {
			t.Error("header value not escaped")
		}
		if i, j := strings.Index(body, "Cf-Access-Jwt-Assertion</code>"), strings.Index(body, "X-Evil</code>"); i < 0 || j < 0 || i > j {
			t.Errorf("headers not sorted: %d %d", i, j)
		}
	})

	t.Run("json", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newReq("http://app.example.com/?format=json"))
		var got struct {
			Email      string            `json:"email"`
			JWTHeader  map[string]any    `json:"jwt_header"`
			JWTPayload map[string]any    `json:"jwt_payload"`
			Headers    map[string]string `json:"headers"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("body %q: %v", rec.Body.String(), err)
		}
		if got.Email != "ann@example.com" || got.JWTHeader["kid"] != "k1" || got.JWTPayload["email"] != "ann@example.com" ||
			got.Headers["X-Evil"] != `<script>alert(1)</script>` {
			t.Fatalf("json %+v", got)
		}
	})

	t.Run("no token", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://app.example.com/?format=json", nil))
		if !strings.Contains(rec.Body.String(), `"jwt_payload": null`) || !strings.Contains(rec.Body.String(), `"email": ""`) {
			t.Fatalf("body %s", rec.Body.String())
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://app.example.com/", nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "absent") {
			t.Fatalf("status %d body %s", rec.Code, rec.Body.String())
		}
	})

	t.Run("undecodable token", func(t *testing.T) {
		req := httptest.NewRequest("GET", "http://app.example.com/", nil)
		req.Header.Set("Cf-Access-Jwt-Assertion", "garbage")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !strings.Contains(rec.Body.String(), "could not be decoded") {
			t.Fatalf("body %s", rec.Body.String())
		}
	})
}
