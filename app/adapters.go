package app

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-dev/gatehouse/idp"
	"github.com/gatehouse-dev/gatehouse/store"
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

// pinStore adapts the store to idp.PINStore, translating its errors.
type pinStore struct{ db *store.DB }

func (s pinStore) CreatePIN(ctx context.Context, id, email, pin string, expires time.Time) error {
	return s.db.CreatePIN(ctx, id, email, pin, expires)
}

func (s pinStore) CheckPIN(ctx context.Context, id, pin string, now time.Time) (string, error) {
	email, err := s.db.CheckPIN(ctx, id, pin, now)
	switch {
	case err == nil:
		return email, nil
	case errors.Is(err, store.ErrPINWrong):
		return email, idp.ErrPINWrong
	case errors.Is(err, store.ErrPINExpired):
		return "", idp.ErrPINExpired
	case errors.Is(err, store.ErrPINExhausted):
		return email, idp.ErrPINExhausted
	case errors.Is(err, store.ErrNotFound):
		return "", idp.ErrPINUnknown
	}
	return "", err
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
