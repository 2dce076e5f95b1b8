package admin

import (
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
)

// The audit events of the mutations, one builder each, used by the admin
// page, the API and the command line alike: one ledger whatever the path.
// by is who made the change: an admin's email, "api:NAME" for an API
// token, "cli:USER" for the command line. The caller adds the client IP.

// RevokeUserEvent records that by ended n sessions of email.
func RevokeUserEvent(email string, n int, by string, now time.Time) access.Event {
	return access.Event{Time: now, Kind: access.EventRevoked, Email: by,
		Detail: fmt.Sprintf("Revoked %s of %s", pages.Plural(n, "session"), email)}
}

// RevokeSessionEvent records that by ended one session of email.
func RevokeSessionEvent(email, by string, now time.Time) access.Event {
	return access.Event{Time: now, Kind: access.EventRevoked, Email: by, Detail: "Revoked one session of " + email}
}

// RevokeAppEvent records that by revoked the tokens of app, hard or soft.
func RevokeAppEvent(app string, soft bool, by string, now time.Time) access.Event {
	detail := "Revoked every token of " + app + " (hard)"
	if soft {
		detail = "Tokens of " + app + " will be re-issued silently (soft)"
	}
	return access.Event{Time: now, Kind: access.EventRevoked, Email: by, App: app, Detail: detail}
}

// ServiceTokenEvent records a change (verb: created, enabled, disabled,
// deleted) to the service token name with clientID. Disabling and
// deleting are EventRevoked (they take access away), creating and
// enabling EventServiceToken.
func ServiceTokenEvent(verb, name, clientID, by string, now time.Time) access.Event {
	kind := access.EventServiceToken
	if verb == "disabled" || verb == "deleted" {
		kind = access.EventRevoked
	}
	return access.Event{Time: now, Kind: kind, Email: by, Detail: fmt.Sprintf("%s service token %s (%s)", strings.ToUpper(verb[:1])+verb[1:], name, clientID)}
}

// Unacknowledged adds to e, the event of a revoke, the nodes that did not
// acknowledge it when err (the revoke's error) is an
// *access.UnacknowledgedError, and reports whether it is; any other non-nil
// err is the revoke's failure, for the caller to return.
func Unacknowledged(e access.Event, err error) (access.Event, bool) {
	nodes := access.Unacknowledged(err)
	if nodes == nil {
		return e, false
	}
	e.Detail += fmt.Sprintf(". Not acknowledged by %s: %s (refusing every request until back in sync with the store)",
		pages.Plural(len(nodes), "node"), strings.Join(nodes, ", "))
	return e, true
}
