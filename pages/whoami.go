package pages

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/access"
)

// Decoder splits a JWT into its header and payload without verifying it
// (token.Decode).
type Decoder func(raw string) (header, payload map[string]any, err error)

// WhoamiHeader is one request header as the whoami page lists it.
type WhoamiHeader struct {
	Name  string
	Value string
}

// WhoamiData is the data of the whoami page.
type WhoamiData struct {
	Email     string         // Cf-Access-Authenticated-User-Email
	HasJWT    bool           // whether Cf-Access-Jwt-Assertion is present
	JWTHeader string         // pretty JSON of the decoded token header
	Payload   string         // pretty JSON of the decoded token payload
	DecodeErr string         // why the token could not be decoded
	CertsURL  string         // where an origin fetches the keys to verify it
	Headers   []WhoamiHeader // every request header, sorted by name
}

// whoamiJSON is the ?format=json answer of the whoami origin.
type whoamiJSON struct {
	Email      string            `json:"email"`
	JWTHeader  map[string]any    `json:"jwt_header"`
	JWTPayload map[string]any    `json:"jwt_payload"`
	Headers    map[string]string `json:"headers"` // name → values joined by ", "
}

// Whoami is the built-in origin: it shows what an app behind Gatehouse
// receives, the identity headers and the decoded (not verified) token.
// ?format=json answers {"email","jwt_header","jwt_payload","headers"}.
func Whoami(rd *Renderer, decode Decoder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.Header.Get(access.HeaderJWTAssertion)
		var header, payload map[string]any
		var decodeErr error
		if raw != "" {
			header, payload, decodeErr = decode(raw)
		}
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Query().Get("format") == "json" {
			out := whoamiJSON{
				Email:      r.Header.Get(access.HeaderUserEmail),
				JWTHeader:  header,
				JWTPayload: payload,
				Headers:    make(map[string]string, len(r.Header)),
			}
			for name, values := range r.Header {
				out.Headers[name] = strings.Join(values, ", ")
			}
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(out)
			return
		}
		data := WhoamiData{
			Email:   r.Header.Get(access.HeaderUserEmail),
			HasJWT:  raw != "",
			Headers: sortedHeaders(r),
		}
		if decodeErr != nil {
			data.DecodeErr = "The token could not be decoded."
		}
		if header != nil {
			data.JWTHeader = prettyJSON(header)
			data.Payload = prettyJSON(payload)
			if iss, ok := payload["iss"].(string); ok && iss != "" {
				data.CertsURL = strings.TrimSuffix(iss, "/") + access.PathCerts
			}
		}
		rd.Render(w, http.StatusOK, PageWhoami, "whoami", data)
	})
}

// sortedHeaders lists the request headers sorted by name, with Host first
// as the origin saw it.
func sortedHeaders(r *http.Request) []WhoamiHeader {
	out := make([]WhoamiHeader, 0, len(r.Header)+1)
	if r.Host != "" {
		out = append(out, WhoamiHeader{Name: "Host", Value: r.Host})
	}
	for name, values := range r.Header {
		out = append(out, WhoamiHeader{Name: name, Value: strings.Join(values, ", ")})
	}
	slices.SortFunc(out, func(a, b WhoamiHeader) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// prettyJSON renders v indented for display.
func prettyJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}
