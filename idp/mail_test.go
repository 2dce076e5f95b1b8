package idp

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
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

// fakeSMTP is a minimal SMTP server that records one message. It offers no
// extensions (so no STARTTLS and no AUTH).
type fakeSMTP struct {
	addr string
	got  chan smtpMessage
}

type smtpMessage struct {
	from, to, data string
}

func startFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &fakeSMTP{addr: ln.Addr().String(), got: make(chan smtpMessage, 1)}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
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
			case verb == "EHLO" || verb == "HELO":
				_ = tp.PrintfLine("250 fake")
			case strings.HasPrefix(strings.ToUpper(line), "MAIL FROM:"):
				msg.from = line[len("MAIL FROM:"):]
				_ = tp.PrintfLine("250 ok")
			case strings.HasPrefix(strings.ToUpper(line), "RCPT TO:"):
				msg.to = line[len("RCPT TO:"):]
				_ = tp.PrintfLine("250 ok")
			case verb == "DATA":
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
	msg := pinMessage("g@example.com", "ann@example.com", "000123", time.Unix(0, 0))
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
	h, err := r.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Subject"); !strings.Contains(got, "000123") {
		t.Errorf("Subject = %q", got)
	}
	if got := h.Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
		t.Errorf("Content-Type = %q", got)
	}
}
