package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/token"
)

// cmdKeys is `gatehouse keys rotate|list -config FILE`; sub is "rotate"
// or "list".
func cmdKeys(ctx context.Context, sub string, args []string, stdout io.Writer) error {
	path, err := configFlag("keys "+sub, args)
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
		k, err := token.AddKey(ctx, db, now)
		if err == nil {
			if err = db.Audit(ctx, access.KeyRotationEvent(now, access.KeyRotationManual, k.ID, cliRevoker())); err != nil {
				err = fmt.Errorf("key %s made, not audited: %w", k.ID, err)
			}
		}
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
	sched := token.Schedule{Every: cfg.Keys.RotateEvery.Duration, Lifetime: cfg.LongestSession()}
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
