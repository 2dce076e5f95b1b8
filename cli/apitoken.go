package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/admin"
	"github.com/gatehouse-dev/gatehouse/store"
)

// defaultAPITokenLifetime is the lifetime of a new API token when
// --expires is not given.
const defaultAPITokenLifetime = "90d"

// cmdAPIToken is `gatehouse api-token SUB -config FILE ...`, sub being
// create, list, revoke or delete: the admin API tokens. A token is checked
// against the database on every call, so a change here holds at the running
// serve's next API call.
func cmdAPIToken(ctx context.Context, sub string, args []string, stdout io.Writer) error {
	fs, path := cliFlags("api-token " + sub)
	var name, scope, expires string
	want := 1
	switch sub {
	case "create":
		fs.StringVar(&name, "name", "", "`NAME` of the new token (required)")
		fs.StringVar(&scope, "scope", "", "comma-separated `SCOPES` of the new token: "+strings.Join(access.APIScopes, ", "))
		fs.StringVar(&expires, "expires", defaultAPITokenLifetime, "`LIFETIME` of the new token: 90d, 52w, 1y, 720h or never")
		want = 0
	case "list":
		want = 0
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != want {
		return usageError{fmt.Errorf("want %d argument(s), got %d", want, len(pos))}
	}
	var (
		scopes   []string
		lifetime time.Duration
	)
	if sub == "create" {
		if strings.TrimSpace(name) == "" {
			return usageError{errors.New("--name is required")}
		}
		if scopes, err = access.ParseScopes(scope); err != nil {
			return usageError{fmt.Errorf("--scope: %w", err)}
		}
		if lifetime, err = access.ParseLifetime(expires); err != nil {
			return usageError{fmt.Errorf("--expires: %w", err)}
		}
	}
	_, db, err := openConfigStore(ctx, *path)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	switch sub {
	case "create":
		return createAPIToken(ctx, db, name, scopes, lifetime, now, stdout)
	case "list":
		return listAPITokens(ctx, db, now, stdout)
	}
	return changeAPIToken(ctx, db, sub, pos[0], now, stdout)
}

// createAPIToken creates a token and prints its secret, once.
func createAPIToken(ctx context.Context, db *store.DB, name string, scopes []string, lifetime time.Duration, now time.Time, stdout io.Writer) error {
	tok, secret, err := db.CreateAPIToken(ctx, name, scopes, lifetime, cliRevoker(), now)
	if err != nil {
		return err
	}
	cliEvent(ctx, db, admin.APITokenEvent("created", tok, cliRevoker(), now))
	fmt.Fprintf(stdout, "created API token %q (id %s, scopes %s)\n", tok.Name, tok.ID, strings.Join(tok.Scopes, ","))
	fmt.Fprintf(stdout, "Authorization: Bearer %s\n", secret)
	fmt.Fprintf(stdout, "expires: %s\n", fmtTime(tok.ExpiresAt, "never"))
	fmt.Fprintln(stdout, "The token is shown only now; store it safely.")
	return nil
}

// listAPITokens prints every token, without secrets.
func listAPITokens(ctx context.Context, db *store.DB, now time.Time, stdout io.Writer) error {
	list, err := db.APITokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tSTATE\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), t.State(now),
			fmtTime(t.CreatedAt, ""), fmtTime(t.ExpiresAt, "never"), fmtTime(t.LastUsedAt, "never"))
	}
	return tw.Flush()
}

// changeAPIToken revokes or deletes the token with id.
func changeAPIToken(ctx context.Context, db *store.DB, sub, id string, now time.Time, stdout io.Writer) error {
	tok, err := db.APIToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no API token with id %q", id)
	}
	if err != nil {
		return err
	}
	verb := "revoked"
	if sub == "delete" {
		verb = "deleted"
		err = db.DeleteAPIToken(ctx, id)
	} else {
		err = db.RevokeAPIToken(ctx, id, now)
	}
	if err != nil {
		return err
	}
	cliEvent(ctx, db, admin.APITokenEvent(verb, tok, cliRevoker(), now))
	fmt.Fprintf(stdout, "%s API token %q (%s): refused from its next call\n", verb, tok.Name, tok.ID)
	return nil
}

// cliEvent records e, a mutation of the command line, in the audit log.
func cliEvent(ctx context.Context, db *store.DB, e access.Event) {
	if err := db.Audit(ctx, e); err != nil {
		fmt.Fprintf(stderrOf(ctx), "gatehouse: audit: %v\n", err)
	}
}
