package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/store"
)

// defaultServiceTokenDuration is the lifetime of a new service token when
// --duration is not given: one year.
const defaultServiceTokenDuration = 8760 * time.Hour

// cmdServiceToken is `gatehouse service-token SUB -config FILE ...`, sub
// being create, list, disable, enable or delete. It writes to the database a
// running serve watches, which applies it within a second.
func cmdServiceToken(ctx context.Context, sub string, args []string, stdout io.Writer) error {
	fs, path := cliFlags("service-token " + sub)
	duration := new(time.Duration)
	want := 1
	switch sub {
	case "create":
		fs.DurationVar(duration, "duration", defaultServiceTokenDuration, "lifetime of the new token, a `DURATION` such as 720h (0: never expires)")
	case "list":
		want = 0
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != want {
		what := map[string]string{"create": "NAME", "list": "none"}[sub]
		if what == "" {
			what = "CLIENT_ID"
		}
		return usageError{fmt.Errorf("want %d argument(s) (%s), got %d", want, what, len(pos))}
	}
	_, db, err := openConfigStore(ctx, *path)
	if err != nil {
		return err
	}
	defer db.Close()
	return serviceTokenCommand(ctx, db, sub, pos, *duration, time.Now(), stdout)
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// serviceTokenCommand runs one service-token subcommand against db; pos are
// its positional arguments (NAME or CLIENT_ID).
func serviceTokenCommand(ctx context.Context, db *store.DB, sub string, pos []string, duration time.Duration, now time.Time, stdout io.Writer) error {
	switch sub {
	case "create":
		if duration < 0 {
			return usageError{errors.New("--duration must not be negative")}
		}
		id, secret, err := db.CreateServiceToken(ctx, pos[0], duration, now)
		if err != nil {
			return err
		}
		cliEvent(ctx, db, admin.ServiceTokenEvent("created", strings.TrimSpace(pos[0]), id, cliRevoker(), now))
		fmt.Fprintf(stdout, "created service token %q\nCF-Access-Client-Id: %s\nCF-Access-Client-Secret: %s\n", strings.TrimSpace(pos[0]), id, secret)
		if duration > 0 {
			fmt.Fprintf(stdout, "expires: %s\n", now.Add(duration).UTC().Format(time.RFC3339))
		} else {
			fmt.Fprintln(stdout, "expires: never")
		}
		fmt.Fprintln(stdout, "The secret is shown only now; store it safely.")
		return nil
	case "list":
		list, err := db.ServiceTokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT ID\tNAME\tSTATUS\tCREATED\tEXPIRES\tLAST USED")
		for _, t := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ClientID, t.Name, t.State(now),
				fmtTime(t.CreatedAt, ""), fmtTime(t.ExpiresAt, "never"), fmtTime(t.LastUsedAt, "never"))
		}
		return tw.Flush()
	case "disable", "enable", "delete":
		name := serviceTokenName(ctx, db, pos[0])
		var err error
		switch sub {
		case "disable":
			err = db.DisableServiceToken(ctx, pos[0], now)
		case "enable":
			err = db.EnableServiceToken(ctx, pos[0], now)
		default:
			err = db.DeleteServiceToken(ctx, pos[0])
		}
		if err == nil {
			cliEvent(ctx, db, admin.ServiceTokenEvent(sub+"d", name, pos[0], cliRevoker(), now))
		}
		what := sub + "d: refused from the next request"
		if sub == "enable" {
			what = "enabled"
		}
		return serviceTokenDone(err, pos[0], what, stdout)
	}
	return usageError{fmt.Errorf("unknown subcommand %q", sub)}
}

// serviceTokenName is the name of the service token with clientID, for
// the audit log; "" when there is none.
func serviceTokenName(ctx context.Context, db *store.DB, clientID string) string {
	list, err := db.ServiceTokens(ctx)
	if err != nil {
		return ""
	}
	for _, t := range list {
		if t.ClientID == clientID {
			return t.Name
		}
	}
	return ""
}

func serviceTokenDone(err error, id, what string, stdout io.Writer) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no service token with client ID %q", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "service token %s %s\n", id, what)
	return nil
}

// fmtTime renders t in UTC, or zero when t is the zero time.
func fmtTime(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format("2006-01-02 15:04")
}
