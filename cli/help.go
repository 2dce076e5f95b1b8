package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// command is one gatehouse command or subcommand ("keys rotate"): its help
// (synopsis and summary) next to how it runs. Its flags are those its run
// defines: run called with "-h" returns a helpError holding its flag set.
type command struct {
	name    string // "serve", "keys rotate"
	args    string // synopsis after the name: "-config FILE --user EMAIL"
	summary string // one line, for the list of commands
	detail  string // optional paragraph for its own help
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// ServeFunc runs the proxy with the configuration file at path until ctx
// ends: the composition root (package app) provides it.
type ServeFunc func(ctx context.Context, path string, stderr io.Writer) error

// program is the command line of one binary.
type program struct {
	serve ServeFunc // nil: serve fails (tests of the other commands)
}

// Main runs the gatehouse command with args and returns the exit code: 0,
// 1 for a failure, 2 for a mistake in the command line (with the usage on
// standard error). serve runs `gatehouse serve`.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, serve ServeFunc) int {
	return program{serve: serve}.runMain(ctx, args, stdout, stderr)
}

// commandTable lists every command, in the order `gatehouse help` shows
// them. Subcommands are named "group sub".
func (p program) commandTable() []command {
	return []command{
		{name: "init", args: "[-o FILE] -team-domain HOST -app-host HOST -origin URL -admin EMAIL -idp oidc|saml|pin -tls acme|files|off",
			summary: "write a commented starter configuration for production",
			detail: "Asks for what the flags do not give when standard input is a terminal. Never overwrites a file;\n" +
				"the file is written with mode 0600. Secrets stay in the files the configuration names.",
			run: func(_ context.Context, args []string, stdout, _ io.Writer) error {
				return cmdInit(args, os.Stdin, stdinIsTerminal(), stdout)
			}},
		{name: "serve", args: "-config FILE", summary: "run the proxy",
			run: func(ctx context.Context, args []string, _, stderr io.Writer) error {
				return p.cmdServe(ctx, args, stderr)
			}},
		{name: "check-config", args: "-config FILE", summary: "validate FILE and report every problem with its line",
			run: func(_ context.Context, args []string, stdout, _ io.Writer) error { return cmdCheckConfig(args, stdout) }},
		{name: "reload", args: "-config FILE", summary: "validate FILE and make the running serve load it (SIGHUP)",
			run: func(_ context.Context, args []string, stdout, _ io.Writer) error { return cmdReload(args, stdout) }},
		{name: "revoke", args: "-config FILE --user EMAIL | --app NAME [--soft]",
			summary: "end every session of a user, or revoke an app's tokens",
			detail:  "--app revokes hard (every user signs in again) unless --soft (tokens re-issued silently).\nThe running serve applies it within a second.",
			run: func(ctx context.Context, args []string, stdout, _ io.Writer) error {
				return cmdRevoke(ctx, args, stdout)
			}},
		{name: "sessions list", args: "-config FILE [--all]", summary: "list active (or all) global sessions",
			run: func(ctx context.Context, args []string, stdout, _ io.Writer) error {
				return cmdSessions(ctx, args, stdout)
			}},
		{name: "service-token create", args: "-config FILE NAME [--duration 8760h]", summary: "create a service token and show its secret once",
			run: serviceTokenRun("create")},
		{name: "service-token list", args: "-config FILE", summary: "list the service tokens", run: serviceTokenRun("list")},
		{name: "service-token disable", args: "-config FILE CLIENT_ID", summary: "refuse a service token until enabled again",
			run: serviceTokenRun("disable")},
		{name: "service-token enable", args: "-config FILE CLIENT_ID", summary: "accept a disabled service token again",
			run: serviceTokenRun("enable")},
		{name: "service-token delete", args: "-config FILE CLIENT_ID", summary: "delete a service token", run: serviceTokenRun("delete")},
		{name: "api-token create", args: "-config FILE --name NAME --scope read,revoke [--expires 90d]",
			summary: "create an admin API token and show its secret once", run: apiTokenRun("create")},
		{name: "api-token list", args: "-config FILE", summary: "list the admin API tokens", run: apiTokenRun("list")},
		{name: "api-token revoke", args: "-config FILE ID", summary: "refuse an API token from its next call (kept, listed as revoked)",
			run: apiTokenRun("revoke")},
		{name: "api-token delete", args: "-config FILE ID", summary: "delete an API token", run: apiTokenRun("delete")},
		{name: "keys rotate", args: "-config FILE", summary: "make a new signing key (the running serve signs with it)",
			run: keysRun("rotate")},
		{name: "keys list", args: "-config FILE", summary: "list the signing keys and their state", run: keysRun("list")},
		{name: "backup", args: "-config FILE OUT", summary: "write a consistent copy of the database to OUT while serve runs",
			run: func(ctx context.Context, args []string, stdout, _ io.Writer) error {
				return cmdBackup(ctx, args, stdout)
			}},
		{name: "store copy", args: "-config FILE [-from PATH] [-to DSN]",
			summary: "copy the SQLite database into an empty PostgreSQL one, keys, sessions and revocations included",
			detail: "Stop serve first: a revoke made after the copy's snapshot would not reach PostgreSQL (the copy\n" +
				"warns and fails when one did). The target is [store] dsn (or -to) and must be empty.",
			run: func(ctx context.Context, args []string, stdout, _ io.Writer) error {
				return cmdStoreCopy(ctx, args, stdout)
			}},
		{name: "version", summary: "print the version, revision, build time and Go version",
			run: func(_ context.Context, args []string, stdout, _ io.Writer) error { return cmdVersion(args, stdout) }},
		{name: "help", args: "[COMMAND]", summary: "show the commands, or the usage and flags of one",
			run: func(_ context.Context, args []string, stdout, _ io.Writer) error { return p.cmdHelp(args, stdout) }},
	}
}

func serviceTokenRun(sub string) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, _ io.Writer) error {
		return cmdServiceToken(ctx, sub, args, stdout)
	}
}

func apiTokenRun(sub string) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, _ io.Writer) error {
		return cmdAPIToken(ctx, sub, args, stdout)
	}
}

func keysRun(sub string) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, _ io.Writer) error {
		return cmdKeys(ctx, sub, args, stdout)
	}
}

// usageError is a mistake in the command line: exit code 2, with the usage.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// helpError is what a command returns for -h, -help or --help: its usage
// goes to standard output and the exit code is 0.
type helpError struct{ fs *flag.FlagSet }

func (helpError) Error() string { return "help requested" }

// newFlagSet returns a silent flag set for cmd: the caller reports errors.
func newFlagSet(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args into fs: a help flag becomes a helpError, any
// other mistake a usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return helpError{fs}
	}
	return usageError{err}
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// runMain dispatches args to the command table and returns the exit code:
// 0, 1 for a failure, 2 for a mistake in the command line (with the usage
// on standard error).
func (p program) runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, p.mainUsage())
		return 2
	}
	switch {
	case isHelpFlag(args[0]):
		fmt.Fprint(stdout, p.mainUsage())
		return 0
	case args[0] == "-version" || args[0] == "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	c, subs, rest := p.lookupCommand(args)
	switch {
	case c == nil && subs == nil:
		fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n%s", args[0], p.mainUsage())
		return 2
	case c == nil && len(rest) > 0 && isHelpFlag(rest[0]):
		fmt.Fprint(stdout, groupUsage(args[0], subs))
		return 0
	case c == nil:
		msg := "want a subcommand"
		if len(rest) > 0 {
			msg = fmt.Sprintf("unknown subcommand %q", rest[0])
		}
		fmt.Fprintf(stderr, "gatehouse %s: %s\n\n%s", args[0], msg, groupUsage(args[0], subs))
		return 2
	}
	err := c.run(context.WithValue(ctx, stderrKey{}, stderr), rest, stdout, stderr)
	var he helpError
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &he):
		fmt.Fprint(stdout, commandUsage(*c))
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "gatehouse %s: %v\n\n%s", c.name, ue.error, commandUsage(*c))
		return 2
	}
	fmt.Fprintf(stderr, "gatehouse %s: %v\n", c.name, err)
	return 1
}

// lookupCommand finds the command args name and returns it with the rest
// of args. When args[0] names a group of subcommands and args[1] none of
// them, it returns the group's commands instead, and args[1:] as rest.
func (p program) lookupCommand(args []string) (c *command, group []command, rest []string) {
	table := p.commandTable()
	for i := range table {
		if table[i].name == args[0] {
			return &table[i], nil, args[1:]
		}
	}
	for _, t := range table {
		if strings.HasPrefix(t.name, args[0]+" ") {
			group = append(group, t)
		}
	}
	if len(group) > 0 && len(args) > 1 {
		for i := range group {
			if group[i].name == args[0]+" "+args[1] {
				return &group[i], nil, args[2:]
			}
		}
	}
	return nil, group, args[1:]
}

// cmdHelp is `gatehouse help [COMMAND [SUBCOMMAND]]`.
func (p program) cmdHelp(args []string, stdout io.Writer) error {
	fs := newFlagSet("help")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stdout, p.mainUsage())
		return nil
	}
	c, group, rest := p.lookupCommand(fs.Args())
	switch {
	case c != nil && len(rest) == 0:
		fmt.Fprint(stdout, commandUsage(*c))
	case c == nil && len(group) > 0 && len(rest) == 0:
		fmt.Fprint(stdout, groupUsage(fs.Arg(0), group))
	default:
		return usageError{fmt.Errorf("unknown command %q", strings.Join(fs.Args(), " "))}
	}
	return nil
}

// mainUsage lists every command.
func (p program) mainUsage() string {
	var b strings.Builder
	b.WriteString("gatehouse: a self-hosted identity-aware proxy\n\nUsage: gatehouse COMMAND [FLAGS] [ARGS]\n\nCommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range p.commandTable() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	b.WriteString("\nCommands that take -config read ./gatehouse.toml without it.\n" +
		"Run \"gatehouse help COMMAND\" or \"gatehouse COMMAND -h\" for its usage and flags.\n")
	return b.String()
}

// groupUsage is the usage of every subcommand of group.
func groupUsage(group string, subs []command) string {
	var b strings.Builder
	names := make([]string, len(subs))
	for i, c := range subs {
		names[i] = strings.TrimPrefix(c.name, group+" ")
	}
	fmt.Fprintf(&b, "Usage: gatehouse %s %s ...\n\nSubcommands:\n", group, strings.Join(names, "|"))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for i, c := range subs {
		fmt.Fprintf(tw, "  %s\t%s\n", names[i], c.summary)
	}
	tw.Flush()
	for _, c := range subs {
		b.WriteString("\n")
		b.WriteString(commandUsage(c))
	}
	return b.String()
}

// commandUsage is the synopsis, summary and flags of c.
func commandUsage(c command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: gatehouse %s\n\n", strings.TrimSpace(c.name+" "+c.args))
	fmt.Fprintf(&b, "  %s%s.\n", strings.ToUpper(c.summary[:1]), c.summary[1:])
	if c.detail != "" {
		for _, line := range strings.Split(c.detail, "\n") {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	if fs := c.flagSet(); fs != nil {
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			b.WriteString("\nFlags:\n")
			fs.SetOutput(&b)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return b.String()
}

// flagSet returns the flags of c, by asking it for help; nil when c does
// not answer -h with a helpError.
func (c command) flagSet() *flag.FlagSet {
	var he helpError
	if err := c.run(context.Background(), []string{"-h"}, io.Discard, io.Discard); errors.As(err, &he) {
		return he.fs
	}
	return nil
}

type stderrKey struct{}

// stderrOf is the standard error of the command running with ctx, for
// what a command reports on the side (an applied migration, a failed
// audit write) below the functions that take only a context.
func stderrOf(ctx context.Context) io.Writer {
	if w, ok := ctx.Value(stderrKey{}).(io.Writer); ok {
		return w
	}
	return os.Stderr
}
