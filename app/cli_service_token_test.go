package app

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestServiceTokenCommands runs every service-token subcommand against a
// running serve's database: create (flags before or after the name), list,
// disable, enable and delete.
func TestServiceTokenCommands(t *testing.T) {
	dataDir := t.TempDir()
	env := startEnv(t, e2eConfig, dataDir)
	cfgPath := writeConfigFile(t, e2eConfig, env, dataDir)

	out := runCLI(t, "service-token", "create", "-config", cfgPath, "ci bot", "--duration", "720h")
	m := regexp.MustCompile(`CF-Access-Client-Id: (\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "CF-Access-Client-Secret: ") || !strings.Contains(out, "expires: ") {
		t.Fatalf("create:\n%s", out)
	}
	id := m[1]
	if out := runCLI(t, "service-token", "create", "--duration", "0", "-config", cfgPath, "forever"); !strings.Contains(out, "expires: never") {
		t.Errorf("create --duration 0:\n%s", out)
	}
	status := func() string {
		for l := range strings.SplitSeq(runCLI(t, "service-token", "list", "-config", cfgPath), "\n") {
			if strings.HasPrefix(l, id) {
				return strings.Fields(l)[3] // CLIENT ID, NAME (two words), STATUS
			}
		}
		return "(absent)"
	}
	if s := status(); s != "active" {
		t.Errorf("after create: %s", s)
	}
	runCLI(t, "service-token", "disable", "-config", cfgPath, id)
	if s := status(); s != "disabled" {
		t.Errorf("after disable: %s", s)
	}
	runCLI(t, "service-token", "enable", id, "-config", cfgPath)
	if s := status(); s != "active" {
		t.Errorf("after enable: %s", s)
	}
	runCLI(t, "service-token", "delete", "-config", cfgPath, id)
	if s := status(); s != "(absent)" {
		t.Errorf("after delete: %s", s)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"service-token", "delete", "-config", cfgPath, id}, &stdout, &stderr)
	errOut := stderr.String()
	if code != 1 || !strings.Contains(errOut, "no service token with client ID") {
		t.Errorf("delete again: exit %d %s", code, errOut)
	}
}
