package login

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
)

// Limiter is a keyed limit on events (limit.Keyed, or a shared store's).
type Limiter interface {
	// Take counts one event for key; false, with the wait, past the limit.
	Take(key string, now time.Time) (bool, time.Duration)
}

// Limits bound, per client IP, what a stranger can trigger on the team
// domain. The per-address PIN limits live with the PIN provider
// (idp.OTP.Sends and Failures). A nil limit does not limit.
type Limits struct {
	// PINSends limits the PIN emails one client IP may ask for.
	PINSends Limiter
	// SignIns limits the sign-in requests (PIN form posts, code checks,
	// IdP starts and callbacks) of one client IP.
	SignIns Limiter
	// Backchannel limits the back-channel logout requests of one client IP.
	Backchannel Limiter
}

// msgLimited is the page of a limit hit. It is the same whatever the
// address, so that it reveals nothing about which addresses exist.
const msgLimited = "Too many sign-in attempts or codes were requested, for this address or from your network. Try again in %s."

// limitedBy takes one event of l for r's client IP, reporting the wait when
// the limit is reached.
func (h *Handler) limitedBy(l Limiter, r *http.Request) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	ip := h.ipString(r)
	if ip == "" {
		ip = "unknown"
	}
	ok, wait := l.Take(ip, h.now())
	return wait, !ok
}

// limitSignIns wraps a sign-in endpoint in the per-IP sign-in limit.
func (h *Handler) limitSignIns(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, hit := h.limitedBy(h.o.Limits.SignIns, r); hit {
			h.tooMany(w, r, "sign-in", wait, "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tooMany answers 429 with Retry-After and a page that names no address,
// and records the hit in the audit log.
func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, what string, wait time.Duration, app string) {
	wait = max(wait, time.Second)
	h.o.Log.Info("login: limit reached", "limit", what, "ip", h.ipString(r), "retry_after", wait)
	h.audit(r, access.Event{Kind: access.EventRateLimited, App: app, Detail: what + " limit reached"})
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)))
	h.o.Pages.Render(w, http.StatusTooManyRequests, pages.PageError, "Too many attempts", pages.ErrorData{
		Message: fmt.Sprintf(msgLimited, waitText(wait)),
	})
}

// limitError reports whether err is a PIN provider's limit, answering 429.
func (h *Handler) limitError(w http.ResponseWriter, r *http.Request, err error, app string) bool {
	var le *access.LimitError
	if !errors.As(err, &le) {
		return false
	}
	h.tooMany(w, r, le.What, le.RetryAfter, app)
	return true
}

// waitText renders a wait for people: "a minute", "12 minutes", "30 seconds".
func waitText(d time.Duration) string {
	switch {
	case d <= time.Minute && d > 50*time.Second:
		return "a minute"
	case d < time.Minute:
		return pages.Plural(int(d.Seconds()), "second")
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m == 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
