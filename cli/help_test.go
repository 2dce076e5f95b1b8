package cli

import (
	"bytes"
	"context"
	"flag"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// runMainOut runs the command line and returns its exit code and output.
func runMainOut(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, &out, &errOut, nil)
	return code, out.String(), errOut.String()
}

// runCLI runs the command line, failing the test unless it exits 0, and
// returns its standard output.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runMainOut(args...)
	if code != 0 {
		t.Fatalf("gatehouse %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestHelpEveryCommand asks every command of the table for help in each way
// an operator would, and checks that the usage names the command and each
// of its flags, on standard output, with exit code 0. A command added to the
// table without help (one whose -h is not a helpError) fails here.
func TestHelpEveryCommand(t *testing.T) {
	synopsisFlag := regexp.MustCompile(`(?:^|[\s\[|])--?([a-z][a-z0-9-]*)`)
	for _, c := range (program{}).commandTable() {
		t.Run(c.name, func(t *testing.T) {
			if c.summary == "" {
				t.Fatal("no summary")
			}
			fs := c.flagSet()
			if fs == nil {
				t.Fatal("-h does not return the command's flags (parse them with parseFlags)")
			}
			// Every flag the synopsis names exists.
			for _, m := range synopsisFlag.FindAllStringSubmatch(c.args, -1) {
				if fs.Lookup(m[1]) == nil {
					t.Errorf("synopsis %q names -%s, which is not a flag", c.args, m[1])
				}
			}
			words := strings.Fields(c.name)
			ways := [][]string{
				append(append([]string{}, words...), "-h"),
				append(append([]string{}, words...), "--help"),
				append(append([]string{}, words...), "-help"),
				append([]string{"help"}, words...),
			}
			for _, args := range ways {
				code, out, errOut := runMainOut(args...)
				if code != 0 || errOut != "" {
					t.Errorf("gatehouse %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
					continue
				}
				if !strings.HasPrefix(out, "Usage: gatehouse "+c.name) {
					t.Errorf("gatehouse %s: usage does not start with the command:\n%s", strings.Join(args, " "), out)
				}
				fs.VisitAll(func(f *flag.Flag) {
					if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f.Name) + `\b`).MatchString(out) {
						t.Errorf("gatehouse %s: flag -%s not listed:\n%s", strings.Join(args, " "), f.Name, out)
					}
				})
			}
		})
	}
}

// TestHelpGroupsAndMain covers the help of the command list and of the
// groups of subcommands (keys, service-token, sessions).
func TestHelpGroupsAndMain(t *testing.T) {
	table := (program{}).commandTable()
	groups := map[string][]string{}
	for _, c := range table {
		if g, sub, ok := strings.Cut(c.name, " "); ok {
			groups[g] = append(groups[g], sub)
		}
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		code, out, errOut := runMainOut(args...)
		if code != 0 || errOut != "" {
			t.Errorf("gatehouse %v: exit %d, stderr %q", args, code, errOut)
		}
		for _, c := range table {
			if !strings.Contains(out, "  "+c.name+"  ") {
				t.Errorf("gatehouse %v: %q not listed:\n%s", args, c.name, out)
			}
		}
	}
	for g, subs := range groups {
		for _, args := range [][]string{{g, "-h"}, {g, "--help"}, {"help", g}} {
			code, out, errOut := runMainOut(args...)
			if code != 0 || errOut != "" {
				t.Errorf("gatehouse %v: exit %d, stderr %q", args, code, errOut)
			}
			for _, sub := range subs {
				if !strings.Contains(out, "Usage: gatehouse "+g+" "+sub) {
					t.Errorf("gatehouse %v: %s %s missing:\n%s", args, g, sub, out)
				}
			}
			if !strings.Contains(out, "-config FILE") {
				t.Errorf("gatehouse %v: flags not listed:\n%s", args, out)
			}
		}
	}
}

// TestUsageErrors: a mistake in the command line prints the usage to
// standard error, nothing to standard output, and exits 2.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want []string // in stderr
	}{
		{nil, []string{"Commands:"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "Commands:"}},
		{[]string{"help", "frobnicate"}, []string{`unknown command "frobnicate"`}},
		{[]string{"revoke", "--bogus"}, []string{"flag provided but not defined: -bogus", "Usage: gatehouse revoke", "-user EMAIL"}},
		{[]string{"revoke", "-config", "x.toml"}, []string{"want exactly one of --user EMAIL or --app NAME", "Usage: gatehouse revoke"}},
		{[]string{"serve", "-nope"}, []string{"-nope", "Usage: gatehouse serve"}},
		{[]string{"keys"}, []string{"want a subcommand", "Usage: gatehouse keys rotate", "Usage: gatehouse keys list"}},
		{[]string{"keys", "spin"}, []string{`unknown subcommand "spin"`, "Usage: gatehouse keys rotate"}},
		{[]string{"keys", "rotate", "--bogus"}, []string{"-bogus", "Usage: gatehouse keys rotate"}},
		{[]string{"service-token", "create", "-config", "x.toml"}, []string{"want 1 argument(s) (NAME), got 0", "Usage: gatehouse service-token create", "-duration"}},
		{[]string{"service-token", "list", "--duration", "1h"}, []string{"-duration", "Usage: gatehouse service-token list"}},
		{[]string{"sessions", "list", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"backup", "-config", "x.toml"}, []string{"want exactly one argument", "Usage: gatehouse backup"}},
		{[]string{"version", "--bogus"}, []string{"-bogus", "Usage: gatehouse version"}},
		{[]string{"init", "-idp", "ldap"}, []string{`-idp: "ldap": one of oidc, saml, pin`}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runMainOut(tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestDescribeVersion(t *testing.T) {
	vcs := func(rev, modified, at string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "bbb6a4f1cfaf6e3e177d6e7bf2530aa4402f6513"
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		ld       stamp
		version  string
		revision string
		modified bool
		time     string // "built 2026-…" or "committed 2026-…"
	}{
		{"no build info", nil, stamp{}, "dev", "", false, ""},
		{"devel without vcs", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, stamp{}, "dev", "", false, ""},
		{"tagged module", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, stamp{}, "v0.1.0", "", false, ""},
		{"checkout with toolchain version",
			&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202132252-bbb6a4f1cfaf+dirty"}, Settings: vcs(rev, "true", "2026-12-02T13:22:52Z")},
			stamp{}, "v0.0.0-20261202132252-bbb6a4f1cfaf+dirty", rev, true, "committed 2026-12-02T13:22:52Z"},
		{"checkout, revision only",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true", "2026-12-02T13:22:52Z")},
			stamp{}, "bbb6a4f1cfaf-dirty", rev, true, "committed 2026-12-02T13:22:52Z"},
		{"clean checkout, revision only",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false", "2026-12-02T13:22:52Z")},
			stamp{}, "bbb6a4f1cfaf", rev, false, "committed 2026-12-02T13:22:52Z"},
		{"release build",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			stamp{"v0.1.0", rev, "2026-12-02T13:22:52Z"}, "v0.1.0", rev, false, "built 2026-12-02T13:22:52Z"},
		{"stamp wins over build info",
			&debug.BuildInfo{Main: debug.Module{Version: "v0.0.9"}, Settings: vcs("0123", "true", "2020-01-01T00:00:00Z")},
			stamp{"v0.1.0", rev, "2026-12-02T13:22:52Z"}, "v0.1.0", rev, true, "built 2026-12-02T13:22:52Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := describeVersion(tt.bi, tt.ld)
			if v.Version != tt.version || v.Revision != tt.revision || v.Modified != tt.modified {
				t.Errorf("got version %q revision %q modified %v, want %q %q %v", v.Version, v.Revision, v.Modified, tt.version, tt.revision, tt.modified)
			}
			if got := strings.TrimSpace(v.TimeKind + " " + v.BuildTime); got != tt.time {
				t.Errorf("time %q, want %q", got, tt.time)
			}
			var b bytes.Buffer
			v.write(&b)
			out := b.String()
			if !strings.HasPrefix(out, "gatehouse "+tt.version+"\n") || !strings.Contains(out, "go        go1.") {
				t.Errorf("output:\n%s", out)
			}
			if tt.time != "" && !strings.Contains(out, strings.Fields(tt.time)[1]) {
				t.Errorf("output lacks the time:\n%s", out)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errOut := runMainOut(args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "gatehouse ") || !strings.Contains(out, "go        go1.") {
			t.Errorf("gatehouse %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}
