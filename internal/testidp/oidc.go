package testidp

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// OIDC is a running test OpenID provider (scripts/e2e/oidc/op.mjs).
//
// Its users are alice (alice@example.com, groups admins and devs, name
// Alice), bob (bob@example.com, groups devs) and eve (eve@example.com,
// email_verified false, no groups). The client may request the scopes
// openid, email, profile and groups; consent is implied.
type OIDC struct {
	// Issuer is http://127.0.0.1:PORT; discovery is below it.
	Issuer string
	// ClientID and ClientSecret are the confidential client's credentials
	// (client_secret_basic).
	ClientID     string
	ClientSecret string
	// RedirectURIs are the registered redirect URIs of the client.
	RedirectURIs []string

	proc *process
}

type oidcConfig struct {
	clientID, clientSecret string
	userinfoOnlyGroups     bool
	backchannelLogoutURI   string
	backchannelNoSID       bool
	postLogoutRedirectURIs []string
}

// OIDCOption changes how StartOIDC configures the provider.
type OIDCOption func(*oidcConfig)

// WithUserinfoOnlyGroups leaves the groups claim out of ID tokens; it is
// served only by the userinfo endpoint.
func WithUserinfoOnlyGroups() OIDCOption {
	return func(c *oidcConfig) { c.userinfoOnlyGroups = true }
}

// WithClient sets the client's id and secret (default proxy / proxy-secret).
func WithClient(id, secret string) OIDCOption {
	return func(c *oidcConfig) { c.clientID, c.clientSecret = id, secret }
}

// WithBackchannelLogout registers uri as the client's
// backchannel_logout_uri (sid required): ending a session at the provider
// POSTs a logout token there.
func WithBackchannelLogout(uri string) OIDCOption {
	return func(c *oidcConfig) { c.backchannelLogoutURI = uri }
}

// WithoutSID leaves sid out of ID and logout tokens (the client does not
// require the session in back-channel logout): logout tokens name the
// subject only.
func WithoutSID() OIDCOption {
	return func(c *oidcConfig) { c.backchannelNoSID = true }
}

// WithPostLogoutRedirect registers the client's post_logout_redirect_uris
// for RP-initiated logout.
func WithPostLogoutRedirect(uris ...string) OIDCOption {
	return func(c *oidcConfig) { c.postLogoutRedirectURIs = uris }
}

// listeningRe finds the issuer in the provider's "listening" line.
var listeningRe = regexp.MustCompile(`listening (http://127\.0\.0\.1:[0-9]+)`)

// StartOIDC runs the test OpenID provider with node on 127.0.0.1:port (0:
// a free port, which Issuer names), with one client allowed to redirect to
// redirectURIs. It installs the npm dependencies first when they are
// missing, waits until discovery answers, and stops the provider when the
// test ends.
func StartOIDC(t testing.TB, port int, redirectURIs []string, opts ...OIDCOption) *OIDC {
	t.Helper()
	testkit.NeedPrograms(t, "node")
	cfg := oidcConfig{clientID: "proxy", clientSecret: "proxy-secret"}
	for _, o := range opts {
		o(&cfg)
	}
	dir := filepath.Join(RepoRoot(t), "scripts", "e2e", "oidc")
	ensureNodeModules(t, dir)

	command := func() *exec.Cmd {
		cmd := exec.Command("node", "op.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"OP_PORT="+strconv.Itoa(port),
			"RP_REDIRECT="+strings.Join(redirectURIs, ","),
			"CLIENT_ID="+cfg.clientID,
			"CLIENT_SECRET="+cfg.clientSecret,
		)
		if cfg.userinfoOnlyGroups {
			cmd.Env = append(cmd.Env, "USERINFO_ONLY_GROUPS=1")
		}
		if cfg.backchannelLogoutURI != "" {
			cmd.Env = append(cmd.Env, "BACKCHANNEL_LOGOUT_URI="+cfg.backchannelLogoutURI)
		}
		if cfg.backchannelNoSID {
			cmd.Env = append(cmd.Env, "BACKCHANNEL_SID=0")
		}
		if len(cfg.postLogoutRedirectURIs) > 0 {
			cmd.Env = append(cmd.Env, "POST_LOGOUT_REDIRECT="+strings.Join(cfg.postLogoutRedirectURIs, ","))
		}
		return cmd
	}
	o := &OIDC{
		Issuer:       fmt.Sprintf("http://127.0.0.1:%d", port),
		ClientID:     cfg.clientID,
		ClientSecret: cfg.clientSecret,
		RedirectURIs: redirectURIs,
	}
	p := startProcess(t, "oidc-provider", command())
	if port == 0 {
		// A start that prints nothing for half the bound, seen once on a
		// loaded machine, is given one more try.
		issuer, err := p.awaitOutput(listeningRe, readyTimeout/2)
		if err != nil {
			t.Logf("testidp: starting oidc-provider again: %v", err)
			p.stop()
			p = startProcess(t, "oidc-provider", command())
			issuer = p.waitOutput(t, listeningRe)
		}
		o.Issuer = issuer
	}
	o.proc = p
	p.waitReady(t, o.Issuer+"/.well-known/openid-configuration")
	return o
}

// Output is what the provider printed so far (its back-channel logout
// results among it).
func (o *OIDC) Output() string { return o.proc.output.String() }

// EndSession ends the browser session of c at the provider, as its user
// would: it opens endSessionURL (the provider's end_session_endpoint,
// possibly with id_token_hint, post_logout_redirect_uri and state), confirms
// "Yes, sign me out" on the provider's page and returns the response after
// redirects. The provider sends its back-channel logout tokens before it
// answers.
func (o *OIDC) EndSession(t testing.TB, c *http.Client, endSessionURL string) *http.Response {
	t.Helper()
	resp, err := c.Get(endSessionURL)
	if err != nil {
		t.Fatalf("testidp: end session: %v", err)
	}
	page := readPage(t, resp)
	action, fields := FormFields(page)
	if fields == nil || !fields.Has("xsrf") {
		t.Fatalf("testidp: no logout form at %s (status %s):\n%s", resp.Request.URL, resp.Status, snippet(page))
	}
	fields.Set("logout", "yes")
	return submitForm(t, c, resp, action, fields)
}

// ensureNodeModules runs `npm ci` in dir when node_modules is missing,
// holding a file lock so parallel test binaries install only once.
func ensureNodeModules(t testing.TB, dir string) {
	t.Helper()
	modules := filepath.Join(dir, "node_modules", "oidc-provider")
	if _, err := os.Stat(modules); err == nil {
		return
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("testidp: open npm lock: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("testidp: lock npm install: %v", err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(modules); err == nil {
		return // another test binary installed them while we waited
	}
	testkit.NeedPrograms(t, "npm")
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testidp: npm ci in %s: %v\n%s", dir, err, out)
	}
}

// Login completes the provider's login prompt as user. authorizeResp is the
// response that landed on the provider's interaction page (the client
// followed the redirect from the authorization endpoint); c must be the same
// client, with a cookie jar. It posts login=user and any password, and
// returns the response after redirects, normally the RP's redirect URI.
// For an unknown user the provider ends on its own error page (500, no code
// reaches the RP), which is returned as is.
func (o *OIDC) Login(t testing.TB, c *http.Client, authorizeResp *http.Response, user string) *http.Response {
	t.Helper()
	page := readPage(t, authorizeResp)
	action, fields := FormFields(page)
	if fields == nil || !fields.Has("prompt") {
		t.Fatalf("testidp: no login form at %s (status %s):\n%s", authorizeResp.Request.URL, authorizeResp.Status, snippet(page))
	}
	fields.Set("prompt", "login")
	fields.Set("login", user)
	fields.Set("password", "x")
	return submitForm(t, c, authorizeResp, action, fields)
}
