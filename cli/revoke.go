package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/store"
)

// cliRevoker is who the revocations of the command line are recorded as.
func cliRevoker() string {
	name := "cli"
	if u := os.Getenv("USER"); u != "" {
		name += ":" + u
	}
	return name
}

// cmdRevoke is `gatehouse revoke -config FILE --user EMAIL` and
// `gatehouse revoke -config FILE --app NAME [--soft]`. It writes to the
// database a running serve watches; it returns once every serving node on
// the store has applied it (cli/ack.go), or fails naming those that did not
// acknowledge within the ack timeout.
func cmdRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	fs, path := cliFlags("revoke")
	user := fs.String("user", "", "revoke every session of the user with this `EMAIL`")
	appName := fs.String("app", "", "revoke the tokens of the application called `NAME`")
	soft := fs.Bool("soft", false, "with --app: re-issue tokens silently instead of requiring a new sign-in")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if (*user == "") == (*appName == "") {
		return usageError{errors.New("want exactly one of --user EMAIL or --app NAME")}
	}
	if *soft && *appName == "" {
		return usageError{errors.New("--soft applies to --app only")}
	}
	cfg, db, err := openConfigStore(ctx, *path)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	if *user != "" {
		return revokeUser(ctx, cfg, db, *user, now, stdout)
	}
	return revokeApp(ctx, cfg, db, *appName, *soft, now, stdout)
}

// revokeUser revokes every session of email.
func revokeUser(ctx context.Context, cfg *config.Config, db *store.DB, email string, now time.Time, stdout io.Writer) error {
	r, err := db.RevokeUser(ctx, email, cliRevoker(), now)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q has ever signed in", email)
	}
	if err != nil {
		return err
	}
	email = strings.ToLower(strings.TrimSpace(email))
	n := len(r.Nonces)
	fmt.Fprintf(stdout, "revoked user %s: %d active session(s) ended; their app tokens are refused from the next request\n", email, n)
	awaitErr, exitErr := acknowledge(ctx, db, cfg, r.ID, stdout)
	e, _ := admin.Unacknowledged(admin.RevokeUserEvent(email, n, cliRevoker(), now), awaitErr)
	cliEvent(ctx, db, e)
	return exitErr
}

// revokeApp revokes the tokens of the configured app called name.
func revokeApp(ctx context.Context, cfg *config.Config, db *store.DB, name string, soft bool, now time.Time, stdout io.Writer) error {
	apps, err := cfg.AccessApps()
	if err != nil {
		return err
	}
	var known []string
	for _, p := range apps {
		known = append(known, p.Name)
		if p.Name != name {
			continue
		}
		aud, err := db.AppAUD(ctx, p.Name, p.AUD)
		if err != nil {
			return err
		}
		r, err := db.RevokeApp(ctx, p.Name, aud, soft, cliRevoker(), now)
		if err != nil {
			return err
		}
		if soft {
			fmt.Fprintf(stdout, "soft-revoked app %s (aud %s): tokens are re-issued silently from live sessions\n", p.Name, aud)
		} else {
			fmt.Fprintf(stdout, "revoked app %s (aud %s): every user signs in again for it\n", p.Name, aud)
		}
		awaitErr, exitErr := acknowledge(ctx, db, cfg, r.ID, stdout)
		e, _ := admin.Unacknowledged(admin.RevokeAppEvent(p.Name, soft, cliRevoker(), now), awaitErr)
		cliEvent(ctx, db, e)
		return exitErr
	}
	return fmt.Errorf("no app %q in the configuration (apps: %s)", name, strings.Join(known, ", "))
}

// cmdSessions is `gatehouse sessions list -config FILE [--all]`.
func cmdSessions(ctx context.Context, args []string, stdout io.Writer) error {
	fs, path := cliFlags("sessions list")
	all := fs.Bool("all", false, "include revoked and expired sessions")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	_, db, err := openConfigStore(ctx, *path)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	sessions, err := db.ListSessions(ctx, !*all, now, 0)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tNONCE\tIDP\tCREATED\tEXPIRES\tSTATE")
	const layout = "2006-01-02 15:04:05Z"
	for _, s := range sessions {
		state := "active"
		switch {
		case !s.RevokedAt.IsZero():
			state = "revoked " + s.RevokedAt.UTC().Format(layout)
		case !now.Before(s.ExpiresAt):
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Identity.Email, s.Nonce, s.Identity.IdP.ID,
			s.CreatedAt.UTC().Format(layout), s.ExpiresAt.UTC().Format(layout), state)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("app: sessions list: %w", err)
	}
	fmt.Fprintf(stdout, "%d session(s)\n", len(sessions))
	return nil
}
