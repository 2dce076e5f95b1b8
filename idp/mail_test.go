package idp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLogMailerLogsPIN(t *testing.T) {
	var buf bytes.Buffer
	m := &LogMailer{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := m.SendPIN(context.Background(), "ann@example.com", "042817"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"one-time PIN", "email=ann@example.com", "pin=042817", "level=INFO"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}

// fakeSMTP is a minimal SMTP server that serves one session and records the
// message and any AUTH PLAIN credentials it receives. Without a certificate
// it offers no extensions (so no STARTTLS and no AUTH).
type fakeSMTP struct {
	addr  string
	got   chan smtpMessage
	creds chan smtpCreds
	done  chan struct{} // closed when the session has ended
}

// fakeSMTPConfig selects the fake server's variant.
type fakeSMTPConfig struct {
	// cert, when set, makes the server offer STARTTLS with it and advertise
	// AUTH PLAIN only once the connection is encrypted.
	cert *tls.Certificate
	// implicitTLS makes the server speak TLS with cert from the first byte
	// (the port 465 style); it then advertises AUTH PLAIN at once.
	implicitTLS bool
}

type smtpMessage struct {
	from, to, data string
	tls            bool // MAIL, RCPT and DATA all arrived over TLS
}

// smtpCreds are decoded AUTH PLAIN credentials.
type smtpCreds struct {
	identity, username, password string
	tls                          bool // the AUTH command arrived over TLS
}

func startFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	return startFakeSMTPWith(t, fakeSMTPConfig{})
}

func startFakeSMTPWith(t *testing.T, cfg fakeSMTPConfig) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &fakeSMTP{
		addr:  ln.Addr().String(),
		got:   make(chan smtpMessage, 1),
		creds: make(chan smtpCreds, 1),
		done:  make(chan struct{}),
	}
	var tlsCfg *tls.Config
	if cfg.cert != nil {
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{*cfg.cert}, MinVersion: tls.VersionTLS12}
	}
	go func() {
		defer close(f.done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { conn.Close() }()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		secure := false
		if cfg.implicitTLS {
			tc := tls.Server(conn, tlsCfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, secure = tc, true
		}
		tp := textproto.NewConn(conn)
		var msg smtpMessage
		_ = tp.PrintfLine("220 fake ESMTP")
		for {
			line, err := tp.ReadLine()
			if err != nil {
				return
			}
			verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
			switch {
			case verb == "EHLO":
				var ext []string
				switch {
				case tlsCfg != nil && !secure:
					ext = append(ext, "STARTTLS")
				case tlsCfg != nil && secure:
					ext = append(ext, "AUTH PLAIN")
				}
				lines := append([]string{"fake"}, ext...)
				for i, l := range lines {
					sep := "-"
					if i == len(lines)-1 {
						sep = " "
					}
					_ = tp.PrintfLine("250%s%s", sep, l)
				}
			case verb == "HELO":
				_ = tp.PrintfLine("250 fake")
			case verb == "STARTTLS":
				if tlsCfg == nil || secure {
					_ = tp.PrintfLine("502 not implemented")
					continue
				}
				_ = tp.PrintfLine("220 ready to start TLS")
				tc := tls.Server(conn, tlsCfg)
				if err := tc.Handshake(); err != nil {
					return
				}
				conn, secure = tc, true
				tp = textproto.NewConn(conn)
			case verb == "AUTH":
				// Record whatever arrives, even when AUTH was not offered:
				// the point is to see whether credentials left the client.
				c, ok := decodeAuthPlain(line)
				if !ok {
					_ = tp.PrintfLine("501 malformed AUTH")
					continue
				}
				c.tls = secure
				select {
				case f.creds <- c:
				default:
				}
				if !secure {
					_ = tp.PrintfLine("530 5.7.0 must issue a STARTTLS command first")
					continue
				}
				_ = tp.PrintfLine("235 2.7.0 authentication successful")
			case strings.HasPrefix(strings.ToUpper(line), "MAIL FROM:"):
				msg.from = line[len("MAIL FROM:"):]
				msg.tls = secure
				_ = tp.PrintfLine("250 ok")
			case strings.HasPrefix(strings.ToUpper(line), "RCPT TO:"):
				msg.to = line[len("RCPT TO:"):]
				msg.tls = msg.tls && secure
				_ = tp.PrintfLine("250 ok")
			case verb == "DATA":
				msg.tls = msg.tls && secure
				_ = tp.PrintfLine("354 go ahead")
				data, err := tp.ReadDotBytes()
				if err != nil {
					return
				}
				msg.data = string(data)
				_ = tp.PrintfLine("250 queued")
				f.got <- msg
			case verb == "QUIT":
				_ = tp.PrintfLine("221 bye")
				return
			default:
				_ = tp.PrintfLine("502 not implemented")
			}
		}
	}()
	return f
}

// decodeAuthPlain parses "AUTH PLAIN <base64 of identity NUL user NUL pass>".
func decodeAuthPlain(line string) (smtpCreds, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || !strings.EqualFold(f[1], "PLAIN") {
		return smtpCreds{}, false
	}
	raw, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil {
		return smtpCreds{}, false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 {
		return smtpCreds{}, false
	}
	return smtpCreds{identity: parts[0], username: parts[1], password: parts[2]}, true
}

// wait blocks until the fake's session has ended, so that what it recorded
// is final.
func (f *fakeSMTP) wait(t *testing.T) {
	t.Helper()
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
		t.Fatal("SMTP session did not end")
	}
}

// testCert returns a self-signed certificate for 127.0.0.1 and localhost
// and a pool that trusts it.
func testCert(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gatehouse test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func (f *fakeSMTP) hostPort(t *testing.T) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(f.addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return host, p
}

func TestSMTPMailerDelivers(t *testing.T) {
	srv := startFakeSMTP(t)
	host, port := srv.hostPort(t)
	m := &SMTPMailer{Host: host, Port: port, From: "gatehouse@example.com"}
	if err := m.SendPIN(context.Background(), "ann@example.com", "123456"); err != nil {
		t.Fatalf("SendPIN: %v", err)
	}
	select {
	case msg := <-srv.got:
		if msg.from != "<gatehouse@example.com>" {
			t.Errorf("MAIL FROM = %q", msg.from)
		}
		if msg.to != "<ann@example.com>" {
			t.Errorf("RCPT TO = %q", msg.to)
		}
		if !strings.Contains(msg.data, "Your sign-in code is 123456") {
			t.Errorf("message lacks the PIN:\n%s", msg.data)
		}
		if !strings.Contains(msg.data, "To: ann@example.com") {
			t.Errorf("message lacks the To header:\n%s", msg.data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message received")
	}
}

func TestSMTPMailerRefuses(t *testing.T) {
	tests := []struct {
		name string
		m    func(host string, port int) *SMTPMailer
		to   string
		want string
	}{
		{
			name: "starttls required but not offered",
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "g@example.com", StartTLS: true}
			},
			to:   "ann@example.com",
			want: "STARTTLS",
		},
		{
			name: "header injection",
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "g@example.com"}
			},
			to:   "ann@example.com\r\nBcc: eve@example.com",
			want: "line break",
		},
		{
			name: "no from",
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port}
			},
			to:   "ann@example.com",
			want: "required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFakeSMTP(t)
			host, port := srv.hostPort(t)
			err := tt.m(host, port).SendPIN(context.Background(), tt.to, "123456")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			select {
			case msg := <-srv.got:
				t.Fatalf("message was delivered: %+v", msg)
			default:
			}
		})
	}
}

func TestPINMessageBindsPIN(t *testing.T) {
	msg := pinMessage("g@example.com", "ann@example.com", "000123", "auth.example.com:8443", time.Unix(0, 0))
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
	h, err := r.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Subject"); !strings.Contains(got, "000123") || !strings.Contains(got, "auth.example.com:8443") {
		t.Errorf("Subject = %q", got)
	}
	if got := h.Get("Message-Id"); !strings.HasPrefix(got, "<") || !strings.HasSuffix(got, "@auth.example.com>") {
		t.Errorf("Message-ID = %q", got)
	}
	if _, err := mail.ParseDate(h.Get("Date")); err != nil {
		t.Errorf("Date = %q: %v", h.Get("Date"), err)
	}
	if got := h.Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
		t.Errorf("Content-Type = %q", got)
	}
}

func TestSMTPMailerTLS(t *testing.T) {
	cert, pool := testCert(t)
	const user, pass = "gatehouse", "s3cret"
	tests := []struct {
		name string
		srv  fakeSMTPConfig
		// m builds the mailer for the fake at host:port.
		m         func(host string, port int) *SMTPMailer
		wantErr   []string // all must appear in the error; nil: delivery succeeds
		wantCreds bool     // the server received the credentials
		credsTLS  bool     // ... over TLS
	}{
		{
			name: "starttls trusted with auth",
			srv:  fakeSMTPConfig{cert: cert},
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "gatehouse@example.com", StartTLS: true,
					Username: user, Password: pass,
					TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
			},
			wantCreds: true,
			credsTLS:  true,
		},
		{
			// A TLSConfig without ServerName verifies the server as Host.
			name: "starttls trusted without server name",
			srv:  fakeSMTPConfig{cert: cert},
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "gatehouse@example.com", StartTLS: true,
					Username: user, Password: pass, TLSConfig: &tls.Config{RootCAs: pool}}
			},
			wantCreds: true,
			credsTLS:  true,
		},
		{
			name: "starttls trusted without auth",
			srv:  fakeSMTPConfig{cert: cert},
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "gatehouse@example.com", StartTLS: true,
					TLSConfig: &tls.Config{RootCAs: pool}}
			},
		},
		{
			name: "starttls untrusted certificate",
			srv:  fakeSMTPConfig{cert: cert},
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "gatehouse@example.com", StartTLS: true,
					Username: user, Password: pass,
					TLSConfig: &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "127.0.0.1"}}
			},
			wantErr: []string{"starttls", "certificate"},
		},
		{
			// The default config verifies against the system roots, which do
			// not hold the self-signed test certificate.
			name: "starttls default config",
			srv:  fakeSMTPConfig{cert: cert},
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "gatehouse@example.com", StartTLS: true,
					Username: user, Password: pass}
			},
			wantErr: []string{"starttls", "certificate"},
		},
		{
			// Without StartTLS the mailer never upgrades, so the server never
			// advertises AUTH. net/smtp's PlainAuth does not look at the
			// advertised extensions: it refuses only when the connection is
			// unencrypted AND the host is not localhost/127.0.0.1/::1. The
			// fake listens on 127.0.0.1, so the credentials ARE sent in clear
			// (harmless on loopback); the server answers 530 and delivery
			// fails at auth with no message sent. Against any other host
			// PlainAuth fails before sending anything.
			name: "auth without starttls on loopback",
			srv:  fakeSMTPConfig{cert: cert},
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "gatehouse@example.com",
					Username: user, Password: pass}
			},
			wantErr:   []string{"auth", "STARTTLS"},
			wantCreds: true,
			credsTLS:  false,
		},
		{
			name: "implicit tls trusted with auth",
			srv:  fakeSMTPConfig{cert: cert, implicitTLS: true},
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "gatehouse@example.com",
					Username: user, Password: pass, TLSConfig: &tls.Config{RootCAs: pool},
					implicitTLS: true}
			},
			wantCreds: true,
			credsTLS:  true,
		},
		{
			name: "implicit tls untrusted certificate",
			srv:  fakeSMTPConfig{cert: cert, implicitTLS: true},
			m: func(host string, port int) *SMTPMailer {
				return &SMTPMailer{Host: host, Port: port, From: "gatehouse@example.com",
					Username: user, Password: pass, implicitTLS: true}
			},
			wantErr: []string{"certificate"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFakeSMTPWith(t, tt.srv)
			host, port := srv.hostPort(t)
			err := tt.m(host, port).SendPIN(context.Background(), "ann@example.com", "654321")
			srv.wait(t)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("SendPIN: %v", err)
				}
				select {
				case msg := <-srv.got:
					if !msg.tls {
						t.Error("MAIL/RCPT/DATA did not all arrive over TLS")
					}
					if msg.to != "<ann@example.com>" {
						t.Errorf("RCPT TO = %q", msg.to)
					}
					if !strings.Contains(msg.data, "Your sign-in code is 654321") {
						t.Errorf("message lacks the PIN:\n%s", msg.data)
					}
				default:
					t.Fatal("no message received")
				}
			} else {
				if err == nil {
					t.Fatal("SendPIN succeeded, want an error")
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("err = %v, want one mentioning %q", err, want)
					}
				}
				select {
				case msg := <-srv.got:
					t.Fatalf("message was delivered: %+v", msg)
				default:
				}
			}
			select {
			case c := <-srv.creds:
				if !tt.wantCreds {
					t.Fatalf("credentials reached the server: %+v", c)
				}
				if c.username != user || c.password != pass || c.identity != "" {
					t.Errorf("credentials = %+v, want %q/%q", c, user, pass)
				}
				if c.tls != tt.credsTLS {
					t.Errorf("credentials over TLS = %v, want %v", c.tls, tt.credsTLS)
				}
			default:
				if tt.wantCreds {
					t.Fatal("no credentials received")
				}
			}
		})
	}
}

func TestSMTPMailerImplicitTLSPort(t *testing.T) {
	tests := []struct {
		name string
		m    SMTPMailer
		port int
		want bool
	}{
		{name: "465", port: 465, want: true},
		{name: "587", port: 587, want: false},
		{name: "25", port: 25, want: false},
		{name: "465 with starttls", m: SMTPMailer{StartTLS: true}, port: 465, want: true},
		{name: "forced", m: SMTPMailer{implicitTLS: true}, port: 2525, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.useImplicitTLS(tt.port); got != tt.want {
				t.Errorf("useImplicitTLS(%d) = %v, want %v", tt.port, got, tt.want)
			}
		})
	}
}
