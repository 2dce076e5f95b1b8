package idp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Mailer delivers one-time PINs.
type Mailer interface {
	SendPIN(ctx context.Context, to, pin string) error
}

// LogMailer writes PINs to the log instead of sending them: the local-run
// mode when no SMTP server is configured.
type LogMailer struct {
	Log *slog.Logger
}

// SendPIN logs the PIN for to at INFO.
func (m *LogMailer) SendPIN(ctx context.Context, to, pin string) error {
	log := m.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "one-time PIN", "email", to, "pin", pin)
	return nil
}

// smtpTimeout bounds one delivery when the context has no deadline.
const smtpTimeout = 30 * time.Second

// implicitTLSPort is the SMTP submission port that speaks TLS from the start.
const implicitTLSPort = 465

// SMTPMailer sends PINs through an SMTP server with net/smtp. With StartTLS
// the server must offer STARTTLS (delivery fails otherwise); port 465 uses
// TLS from the first byte. PLAIN authentication is used when Username is set
// (net/smtp refuses it over an unencrypted connection except to localhost).
type SMTPMailer struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	StartTLS bool
	// Team names the team domain in the subject and the Message-ID.
	Team      string
	TLSConfig *tls.Config // nil: verify the server as Host; empty ServerName: Host

	// implicitTLS speaks TLS from the first byte on any port, not just 465
	// (tests listen on a random port).
	implicitTLS bool
}

// SendPIN mails pin to to.
func (m *SMTPMailer) SendPIN(ctx context.Context, to, pin string) error {
	if m.Host == "" || m.From == "" {
		return errors.New("idp: smtp: host and from are required")
	}
	if strings.ContainsAny(to+m.From, "\r\n") {
		return errors.New("idp: smtp: address contains a line break")
	}
	port := m.Port
	if port == 0 {
		port = 25
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, smtpTimeout)
		defer cancel()
	}
	addr := net.JoinHostPort(m.Host, strconv.Itoa(port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("idp: smtp: dial %s: %w", addr, err)
	}
	if m.useImplicitTLS(port) {
		conn = tls.Client(conn, m.tlsConfig())
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, m.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("idp: smtp: greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := m.deliver(c, to, pin); err != nil {
		return fmt.Errorf("idp: smtp: %w", err)
	}
	return nil
}

// deliver runs the SMTP conversation on c.
func (m *SMTPMailer) deliver(c *smtp.Client, to, pin string) error {
	if m.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("server does not offer STARTTLS")
		}
		if err := c.StartTLS(m.tlsConfig()); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, m.Host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(pinMessage(m.From, to, pin, m.Team, time.Now())); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end data: %w", err)
	}
	return c.Quit()
}

// useImplicitTLS reports whether the connection to port starts with TLS.
func (m *SMTPMailer) useImplicitTLS(port int) bool {
	return port == implicitTLSPort || m.implicitTLS
}

// tlsConfig is TLSConfig, or a default one, with ServerName set to Host when
// empty: unlike tls.Dial, net/smtp and tls.Client do not fill it in, and the
// handshake fails without it.
func (m *SMTPMailer) tlsConfig() *tls.Config {
	if m.TLSConfig == nil {
		return &tls.Config{ServerName: m.Host, MinVersion: tls.VersionTLS12}
	}
	if m.TLSConfig.ServerName != "" {
		return m.TLSConfig
	}
	cfg := m.TLSConfig.Clone()
	cfg.ServerName = m.Host
	return cfg
}

// pinMessage is the RFC 5322 message carrying pin, for the team domain team.
func pinMessage(from, to, pin, team string, now time.Time) []byte {
	var b bytes.Buffer
	host := team
	if h, _, err := net.SplitHostPort(team); err == nil {
		host = h
	}
	if host == "" {
		host = "gatehouse.invalid"
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", to)
	if team != "" {
		fmt.Fprintf(&b, "Subject: Your sign-in code for %s: %s\r\n", team, pin)
	} else {
		fmt.Fprintf(&b, "Subject: Your sign-in code: %s\r\n", pin)
	}
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), host)
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "Your sign-in code is %s\r\n\r\n", pin)
	b.WriteString("It works once and expires in a few minutes. If you did not ask for it, ignore this email.\r\n")
	return b.Bytes()
}
