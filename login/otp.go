package login

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/pages"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// csrfMaxAge is the lifetime of the sign-in forms' CSRF cookie.
const csrfMaxAge = 4 * 60 * 60

// maxFormBytes bounds a sign-in form body.
const maxFormBytes = 16 << 10

// emailData is the data of the login_email page.
type emailData struct {
	App    string
	Action string
	Flow   flow
	CSRF   string
	Email  string
	Error  string
}

// codeData is the data of the login_code page.
type codeData struct {
	App     string
	Action  string
	Flow    flow
	CSRF    string
	Email   string
	PINID   string
	Error   string
	Restart string
}

// otpProvider returns the one-time-PIN provider allowed for t.
func (h *Handler) otpProvider(t target) (Provider, error) {
	if h.otp == nil {
		return Provider{}, web.Errorf(http.StatusNotFound, "One-time PIN sign-in is not enabled.", nil)
	}
	if !t.App.AllowsIdP(h.otp.ID) {
		return Provider{}, web.Errorf(http.StatusForbidden, "This application does not accept one-time PIN sign-in.", nil)
	}
	return *h.otp, nil
}

// otpEmailPage serves GET /cdn-cgi/access/otp: the email form.
func (h *Handler) otpEmailPage(w http.ResponseWriter, r *http.Request) error {
	t, err := h.resolveBound(flowFrom(r.URL.Query()))
	if err != nil {
		return err
	}
	if _, err := h.otpProvider(t); err != nil {
		return err
	}
	return h.renderEmail(w, r, t, http.StatusOK, "", "")
}

// renderEmail renders the email form of the one-time-PIN flow.
func (h *Handler) renderEmail(w http.ResponseWriter, r *http.Request, t target, status int, email, msg string) error {
	w.Header().Set(access.HeaderAccessDomain, t.Host)
	h.o.Pages.Render(w, status, pages.PageLoginEmail, "Sign in", emailData{
		App:    t.appName(),
		Action: access.PathOTP,
		Flow:   t.flow,
		CSRF:   h.csrfToken(w, r),
		Email:  email,
		Error:  msg,
	})
	return nil
}

// renderCode renders the code form of the one-time-PIN flow.
func (h *Handler) renderCode(w http.ResponseWriter, r *http.Request, t target, status int, email, pinID, msg string) {
	w.Header().Set(access.HeaderAccessDomain, t.Host)
	h.o.Pages.Render(w, status, pages.PageLoginCode, "Enter your code", codeData{
		App:     t.appName(),
		Action:  access.PathOTPVerify,
		Flow:    t.flow,
		CSRF:    h.csrfToken(w, r),
		Email:   email,
		PINID:   pinID,
		Error:   msg,
		Restart: t.loginURL(),
	})
}

// otpForm parses a posted sign-in form, checks its CSRF token and resolves
// its flow.
func (h *Handler) otpForm(w http.ResponseWriter, r *http.Request) (target, Provider, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return target{}, Provider{}, web.Errorf(http.StatusBadRequest, "The form could not be read.", err)
	}
	t, err := h.resolveBound(flowFrom(r.PostForm))
	if err != nil {
		return t, Provider{}, err
	}
	if !h.csrfValid(r) {
		h.o.Pages.Render(w, http.StatusForbidden, pages.PageError, "Sign-in expired", pages.ErrorData{
			Message: "This sign-in form has expired. Please start again.",
			Retry:   t.loginURL(),
		})
		return t, Provider{}, errHandled
	}
	p, err := h.otpProvider(t)
	return t, p, err
}

// errHandled tells a handler that the response was already written.
var errHandled = errors.New("login: response written")

// otpStart serves POST /cdn-cgi/access/otp: send a PIN, show the code form.
func (h *Handler) otpStart(w http.ResponseWriter, r *http.Request) error {
	t, _, err := h.otpForm(w, r)
	if errors.Is(err, errHandled) {
		return nil
	} else if err != nil {
		return err
	}
	email := r.PostForm.Get(paramEmail)
	if _, err := access.NormalizeEmail(email); err == nil {
		if wait, hit := h.limitedBy(h.o.Limits.PINSends, r); hit {
			h.tooMany(w, r, "pin-send-ip", wait, t.appName())
			return nil
		}
	}
	pinID, err := h.o.OTP.Start(r.Context(), email)
	if h.limitError(w, r, err, t.appName()) {
		return nil
	}
	if errors.Is(err, access.ErrInvalidEmail) {
		return h.renderEmail(w, r, t, http.StatusBadRequest, email, "Enter a valid email address.")
	}
	if err != nil {
		return fmt.Errorf("login: start one-time PIN: %w", err)
	}
	normalized, _ := access.NormalizeEmail(email)
	h.renderCode(w, r, t, http.StatusOK, normalized, pinID, "")
	return nil
}

// otpVerify serves POST /cdn-cgi/access/otp/verify: check the PIN, start
// the global session, continue the flow.
func (h *Handler) otpVerify(w http.ResponseWriter, r *http.Request) error {
	t, p, err := h.otpForm(w, r)
	if errors.Is(err, errHandled) {
		return nil
	} else if err != nil {
		return err
	}
	pinID := r.PostForm.Get(paramPINID)
	email, err := h.o.OTP.Verify(r.Context(), pinID, r.PostForm.Get(paramCode))
	if h.limitError(w, r, err, t.appName()) {
		return nil
	}
	if err != nil {
		shown := r.PostForm.Get(paramEmail)
		h.audit(r, access.Event{Kind: access.EventSignInFailed, Email: shown, App: t.appName(), IdP: p.ID, Detail: pinFailure(err)})
		if errors.Is(err, access.ErrPINWrong) {
			h.renderCode(w, r, t, http.StatusUnauthorized, shown, pinID, wrongPINMessage(err))
			return nil
		}
		if !isPINError(err) {
			return fmt.Errorf("login: verify one-time PIN: %w", err)
		}
		h.o.Pages.Render(w, http.StatusUnauthorized, pages.PageError, "Code not accepted", pages.ErrorData{
			Message: pinFailureMessage(err),
			Retry:   t.loginURL(),
		})
		return nil
	}
	s, err := h.startSession(w, r, email, p, idpTypeOTP)
	if err != nil {
		return err
	}
	return h.finish(w, r, t, s)
}

// isPINError reports whether err is one of the PIN store's verdicts.
func isPINError(err error) bool {
	return errors.Is(err, access.ErrPINWrong) || errors.Is(err, access.ErrPINExpired) ||
		errors.Is(err, access.ErrPINExhausted) || errors.Is(err, access.ErrPINUnknown)
}

// pinFailure is the audit reason of a failed PIN check.
func pinFailure(err error) string {
	switch {
	case errors.Is(err, access.ErrPINWrong):
		return "one-time PIN: wrong code"
	case errors.Is(err, access.ErrPINExpired):
		return "one-time PIN: expired"
	case errors.Is(err, access.ErrPINExhausted):
		return "one-time PIN: too many attempts"
	case errors.Is(err, access.ErrPINUnknown):
		return "one-time PIN: unknown or already used"
	}
	return "one-time PIN: check failed"
}

// wrongPINMessage tells the user a code was wrong and, when the PIN store
// says, how many tries the code has left.
func wrongPINMessage(err error) string {
	if left, ok := access.PINTriesLeft(err); ok {
		return fmt.Sprintf("That code is not valid. %s left.", pages.Plural(left, "try", "tries"))
	}
	return "That code is not valid."
}

// pinFailureMessage tells the user why a code was refused.
func pinFailureMessage(err error) string {
	switch {
	case errors.Is(err, access.ErrPINExpired):
		return "That code has expired. Ask for a new one."
	case errors.Is(err, access.ErrPINExhausted):
		return "Too many wrong codes were entered. Ask for a new one."
	}
	return "That code can no longer be used. Ask for a new one."
}

// csrfToken returns the sign-in forms' CSRF token, setting its cookie when
// the request has none.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(access.CookieCSRF); err == nil && isHex64(c.Value) {
		return c.Value
	}
	v := token.RandomHex(32)
	http.SetCookie(w, &http.Cookie{
		Name:     access.CookieCSRF,
		Value:    v,
		Path:     access.PathPrefix,
		MaxAge:   csrfMaxAge,
		HttpOnly: true,
		Secure:   h.o.Secure,
		SameSite: http.SameSiteLaxMode,
	})
	// Later renders of the same request reuse the value just issued.
	r.AddCookie(&http.Cookie{Name: access.CookieCSRF, Value: v})
	return v
}

// csrfValid reports whether the posted CSRF token matches the cookie. A
// sibling subdomain can plant a copy for the parent domain, with a longer
// path so that browsers send it first; matching any copy keeps such a copy
// from breaking the team domain's forms, and is no weaker than matching
// the first (which the planter would choose): what stops a cross-site post
// is the Origin check and the Lax session cookie.
func (h *Handler) csrfValid(r *http.Request) bool {
	posted := []byte(r.PostForm.Get(paramCSRF))
	ok := false
	for _, v := range web.CookieList(r.Header, access.CookieCSRF) {
		if isHex64(v) && subtle.ConstantTimeCompare([]byte(v), posted) == 1 {
			ok = true
		}
	}
	return ok
}
