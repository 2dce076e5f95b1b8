package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// signIn signs in as email through Gatehouse's one-time-PIN pages, as a
// browser would: it opens each of apps (URLs of protected hosts), which
// sends it to the team domain; the first posts the email form, reads the
// PIN Gatehouse wrote to its log (logPath, Gatehouse has no SMTP server),
// posts it and follows the hand-off back; the others ride on the global
// session. Every host name is dialled at 127.0.0.1 on its port. It prints,
// for each app, the CF_Authorization cookie the hand-off set.
func signIn(ctx context.Context, email, logPath string, apps []string, w io.Writer) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c := &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		}},
	}
	for i, target := range apps {
		resp, page, err := get(ctx, c, target)
		if err != nil {
			return err
		}
		if i == 0 {
			if resp, page, err = pinSteps(ctx, c, resp, page, email, logPath); err != nil {
				return err
			}
		}
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Host != mustHost(target) {
			return fmt.Errorf("signin: %s ended at %s with %d:\n%.500s", target, resp.Request.URL, resp.StatusCode, page)
		}
		u, _ := url.Parse(target)
		var tok string
		for _, ck := range jar.Cookies(u) {
			if ck.Name == "CF_Authorization" {
				tok = ck.Value
			}
		}
		if tok == "" {
			return fmt.Errorf("signin: no CF_Authorization cookie for %s", target)
		}
		if _, err := fmt.Fprintln(w, tok); err != nil {
			return err
		}
	}
	return nil
}

// pinSteps posts the email form of page, then the PIN from the log.
func pinSteps(ctx context.Context, c *http.Client, resp *http.Response, page, email, logPath string) (*http.Response, string, error) {
	action, vals, err := form(page, "email")
	if err != nil {
		return nil, "", fmt.Errorf("signin: %s: %w", resp.Request.URL, err)
	}
	vals.Set("email", email)
	if resp, page, err = post(ctx, c, resp.Request.URL, action, vals); err != nil {
		return nil, "", err
	}
	if action, vals, err = form(page, "code"); err != nil {
		return nil, "", fmt.Errorf("signin: after the email: %d %w", resp.StatusCode, err)
	}
	pin, err := pinFromLog(logPath, email)
	if err != nil {
		return nil, "", err
	}
	vals.Set("code", pin)
	return post(ctx, c, resp.Request.URL, action, vals)
}

func get(ctx context.Context, c *http.Client, target string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, "", err
	}
	return do(c, req)
}

func post(ctx context.Context, c *http.Client, base *url.URL, action string, vals url.Values) (*http.Response, string, error) {
	u, err := base.Parse(action)
	if err != nil {
		return nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(c, req)
}

func do(c *http.Client, req *http.Request) (*http.Response, string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("signin: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(b), err
}

var (
	formRe  = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<input[^>]*>`)
	attrRe  = regexp.MustCompile(`(?is)(name|value)="([^"]*)"`)
	pinRe   = regexp.MustCompile(`msg="one-time PIN" email=(\S+) pin=(\d+)`)
)

// form returns the action and fields of the form of page with field want.
func form(page, want string) (string, url.Values, error) {
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		vals := url.Values{}
		for _, in := range inputRe.FindAllString(m[2], -1) {
			var name, value string
			for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
				if strings.EqualFold(a[1], "name") {
					name = html.UnescapeString(a[2])
				} else {
					value = html.UnescapeString(a[2])
				}
			}
			if name != "" {
				vals.Set(name, value)
			}
		}
		if _, ok := vals[want]; ok {
			return html.UnescapeString(m[1]), vals, nil
		}
	}
	return "", nil, fmt.Errorf("no form with a field %q in the page:\n%.800s", want, page)
}

// pinFromLog waits (up to 10 s) for a PIN line for email in the log at
// path and returns the last PIN (the log line is written before the email
// form is answered).
func pinFromLog(path, email string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("signin: %w", err)
		}
		var pin string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := pinRe.FindStringSubmatch(sc.Text()); m != nil && strings.Trim(m[1], `"`) == email {
				pin = m[2]
			}
		}
		f.Close()
		if pin != "" {
			return pin, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", errors.New("signin: no PIN for " + email + " in " + path + " (log.level must be info or debug)")
}

func mustHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
