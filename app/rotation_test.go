package app

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/token"
)

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const rotationConfig = `
team_domain = "auth.localhost:{{PORT}}"
data_dir = "{{DATA}}"
global_session = "2h"

[tls]
mode = "off"

[metrics]
listen = ""

[keys]
rotate_every = "{{EVERY}}"

[[idps]]
id = "pin"
kind = "otp"

[[apps]]
name = "demo"
domains = ["app.localhost:{{PORT}}"]
origin = "whoami"
session_duration = "3h"
  [[apps.policies]]
  name = "all"
  decision = "allow"
  include = [{ everyone = true }]
`

// startClocked serves a Gatehouse with a settable clock and returns it, the
// team URL and the config file written for the CLI.
func startClocked(t *testing.T, clock *testClock, every string) (*App, string, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	text := strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{DATA}}", filepath.ToSlash(dir), "{{EVERY}}", every).Replace(rotationConfig)
	file := filepath.Join(dir, "gatehouse.toml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewWithOptions(context.Background(), cfg, nil, Options{Now: clock.Now, Mail: newPinMailer()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	return a, fmt.Sprintf("http://auth.localhost:%d", port), file
}

// signWithCurrent signs an app token for demo with a's current key.
func signWithCurrent(t *testing.T, a *App, now time.Time, life time.Duration) string {
	t.Helper()
	aud := a.Apps().Apps()[0].AUD
	raw, err := a.keys.Load().Sign(&token.Claims{
		Audience: []string{aud}, Email: "ann@example.com", Type: token.TypeApp,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), ExpiresAt: now.Add(life).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// verifyRemote checks raw's signature against the certs endpoint with
// go-oidc, through a fresh key set (no cached keys).
func verifyRemote(t *testing.T, team, raw string) error {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), newClient(t, false))
	_, err := oidc.NewRemoteKeySet(ctx, team+"/cdn-cgi/access/certs").VerifySignature(ctx, raw)
	return err
}

func certsBody(t *testing.T, team string) string {
	t.Helper()
	resp, err := newClient(t, false).Get(team + "/cdn-cgi/access/certs")
	if err != nil {
		t.Fatal(err)
	}
	return readBody(t, resp)
}

func TestRotationKeepsPreviousKeyUntilItsTokensExpire(t *testing.T) {
	clock := &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, team, _ := startClocked(t, clock, "0s")
	oldKid := a.keys.Load().CurrentKeyID()
	oldToken := signWithCurrent(t, a, clock.Now(), 3*time.Hour)
	if err := verifyRemote(t, team, oldToken); err != nil {
		t.Fatalf("token of the first key: %v", err)
	}

	clock.Advance(time.Minute)
	k, err := a.RotateKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := a.keys.Load().CurrentKeyID(); got != k.ID || got == oldKid {
		t.Fatalf("signing key after rotation = %s, want the new %s", got, k.ID)
	}
	newToken := signWithCurrent(t, a, clock.Now(), time.Hour)
	for name, raw := range map[string]string{"previous key": oldToken, "new key": newToken} {
		if err := verifyRemote(t, team, raw); err != nil {
			t.Errorf("%s: token does not validate through the certs endpoint: %v", name, err)
		}
	}
	if body := certsBody(t, team); !strings.Contains(body, oldKid) || !strings.Contains(body, k.ID) {
		t.Errorf("certs should publish both keys:\n%s", body)
	}

	// Just before the old key's last token expires (3h app sessions) it is
	// still published.
	clock.Advance(3 * time.Hour)
	if err := a.keys.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(certsBody(t, team), oldKid) {
		t.Fatal("previous key dropped while its tokens may still be valid")
	}

	clock.Advance(token.RetireGrace + time.Second)
	if err := a.keys.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if body := certsBody(t, team); strings.Contains(body, oldKid) || !strings.Contains(body, k.ID) {
		t.Errorf("after expiry certs should hold only the new key:\n%s", body)
	}
	if err := verifyRemote(t, team, oldToken); err == nil {
		t.Error("a token of the retired key still validates")
	}
	infos, err := a.Store().SigningKeyIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].ID != k.ID {
		t.Errorf("stored keys = %v, want only %s", infos, k.ID)
	}
}

func TestRotationScheduleAndCLI(t *testing.T) {
	clock := &testClock{t: time.Now().UTC().Add(-2 * time.Hour)} // the CLI below uses the real clock
	a, _, file := startClocked(t, clock, "1h")
	first := a.keys.Load().CurrentKeyID()

	if err := a.keys.RotateIfDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := a.keys.Load().CurrentKeyID(); got != first {
		t.Fatalf("rotated before rotate_every: %s", got)
	}
	clock.Advance(time.Hour + time.Second)
	if err := a.keys.RotateIfDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	scheduled := a.keys.Load().CurrentKeyID()
	if scheduled == first {
		t.Fatal("no rotation once rotate_every passed")
	}

	// `gatehouse keys rotate` from another process: the server picks the
	// key up at its next poll.
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"keys", "rotate", "-config", file}, &out, &errOut); code != 0 {
		t.Fatalf("keys rotate: exit %d: %s", code, errOut.String())
	}
	if err := a.keys.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	manual := a.keys.Load().CurrentKeyID()
	if manual == scheduled || !strings.Contains(out.String(), manual) {
		t.Fatalf("after keys rotate the server signs with %s; CLI said %q", manual, out.String())
	}

	out.Reset()
	if code := Main(context.Background(), []string{"keys", "list", "-config", file}, &out, &errOut); code != 0 {
		t.Fatalf("keys list: exit %d: %s", code, errOut.String())
	}
	list := out.String()
	if !strings.Contains(list, manual+"  ") || !strings.Contains(list, "signing") || strings.Count(list, "published until") != 2 {
		t.Errorf("keys list:\n%s", list)
	}
}
