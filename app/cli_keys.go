package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// cmdKeys is `gatehouse keys rotate|list -config FILE`.
func cmdKeys(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("want a subcommand: rotate or list")}
	}
	sub := args[0]
	if sub != "rotate" && sub != "list" {
		return usageError{fmt.Errorf("unknown subcommand %q (rotate or list)", sub)}
	}
	path, err := configFlag("keys "+sub, args[1:])
	if err != nil {
		return err
	}
	cfg, db, err := openConfigStore(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	if sub == "rotate" {
		k, err := addKey(ctx, db, now, access.KeyRotationManual, cliRevoker())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new signing key %s; a running gatehouse signs with it within %s\n", k.ID, token.KeyPollInterval)
		return nil
	}
	infos, err := db.SigningKeyIDs(ctx)
	if err != nil {
		return err
	}
	sched := keySchedule(cfg)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tCREATED\tSTATE")
	for i, k := range infos {
		state := "signing"
		if i > 0 {
			if until := sched.PublishedUntil(infos[i-1].CreatedAt); now.Before(until) {
				state = "published until " + until.Local().Format(time.RFC3339)
			} else {
				state = "expired (removed by the running gatehouse)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.CreatedAt.Local().Format(time.RFC3339), state)
	}
	return tw.Flush()
}
