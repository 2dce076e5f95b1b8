package app

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse/idp"
)

// loginStore adapts the store to login.Store.
type loginStore struct{ revokingStore }

func (s loginStore) SignInUser(ctx context.Context, email, idpID string, now time.Time) (string, error) {
	if err := signInAllowed(ctx, s.DB, email); err != nil { // app/scim.go
		return "", err
	}
	u, err := s.UpsertUser(ctx, email, idpID, now)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// mailer picks the PIN delivery: SMTP when configured, else the log.
func (a *App) mailer() idp.Mailer {
	if a.cfg.SMTP.Host == "" {
		a.log.Warn("no SMTP server configured: one-time PINs are written to this log")
		return &idp.LogMailer{Log: a.log}
	}
	return &idp.SMTPMailer{
		Host:     a.cfg.SMTP.Host,
		Port:     a.cfg.SMTP.Port,
		Username: a.cfg.SMTP.Username,
		Password: a.cfg.SMTP.Password,
		From:     a.cfg.SMTP.From,
		StartTLS: a.cfg.SMTP.StartTLS,
		Team:     a.cfg.TeamDomain,
	}
}
