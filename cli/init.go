package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/config"
)

// initAnswers are what `gatehouse init` asks, by flag name.
type initAnswers map[string]string

// initQuestion is one answer of `gatehouse init`: its flag, which is also
// its prompt, its default and when it applies.
type initQuestion struct {
	flag     string
	usage    string                      // flag usage, with the `ARG` name; the prompt without the backquotes
	def      string                      // default, also the flag's
	derive   func(a initAnswers) string  // default from earlier answers, when def is ""
	optional bool                        // may stay empty
	when     func(a initAnswers) bool    // nil: always asked
	check    func(v string) (msg string) // nil: any value; config.Parse checks the whole
}

// required reports whether q has no default and may not stay empty.
func (q initQuestion) required() bool { return q.def == "" && q.derive == nil && !q.optional }

// initQuestions are asked in this order; later ones depend on earlier
// answers (the IdP kind, the TLS mode).
func initQuestions() []initQuestion {
	is := func(flag string, vals ...string) func(initAnswers) bool {
		return func(a initAnswers) bool { return slices.Contains(vals, a[flag]) }
	}
	return []initQuestion{
		{flag: "team-domain", usage: "team domain: the `HOST` of the sign-in pages, such as auth.example.com"},
		{flag: "app-host", usage: "first app: its `HOST`, such as app.example.com"},
		{flag: "app-name", usage: "first app: its `NAME` (default: the first label of -app-host)",
			derive: func(a initAnswers) string { name, _, _ := strings.Cut(a["app-host"], "."); return name }},
		{flag: "origin", usage: "first app: its origin `URL`, where allowed requests go, such as http://127.0.0.1:3000"},
		{flag: "admin", usage: "first admin: the `EMAIL` that may open the admin pages and use the first app"},
		{flag: "idp", usage: "identity provider `KIND`: oidc, saml or pin (a one-time PIN by email)",
			check: oneOfCheck("oidc", "saml", "pin")},
		{flag: "oidc-issuer", usage: "OIDC issuer `URL`, such as https://example.okta.com (-idp oidc)", when: is("idp", "oidc")},
		{flag: "oidc-client-id", usage: "OIDC client `ID` (-idp oidc)", when: is("idp", "oidc")},
		{flag: "oidc-secret-file", usage: "OIDC client secret `FILE`: the secret on one line, readable by the serve's user only (-idp oidc)",
			def: "/etc/gatehouse/oidc-client-secret", when: is("idp", "oidc")},
		{flag: "saml-metadata", usage: "SAML IdP metadata: its https `URL`, or the path of the downloaded file (-idp saml)",
			when: is("idp", "saml")},
		{flag: "smtp-host", usage: "SMTP `HOST` that sends the PINs (-idp pin)", when: is("idp", "pin")},
		{flag: "smtp-port", usage: "SMTP `PORT` (-idp pin)", def: "587", when: is("idp", "pin"), check: portCheck},
		{flag: "smtp-from", usage: "sender `EMAIL` of the PIN emails (-idp pin)", when: is("idp", "pin")},
		{flag: "smtp-user", usage: "SMTP user `NAME`; empty: no authentication (-idp pin)", optional: true, when: is("idp", "pin")},
		{flag: "smtp-password-file", usage: "SMTP password `FILE`: the password on one line, readable by the serve's user only (-idp pin with -smtp-user)",
			def: "/etc/gatehouse/smtp-password", when: func(a initAnswers) bool { return a["idp"] == "pin" && a["smtp-user"] != "" }},
		{flag: "tls", usage: "TLS `MODE`: acme (certificates obtained automatically), files (your own) or off (behind a TLS-terminating proxy)",
			check: oneOfCheck("acme", "files", "off")},
		{flag: "acme-email", usage: "contact `EMAIL` of the ACME account (-tls acme; default: -admin)",
			derive: func(a initAnswers) string { return a["admin"] }, when: is("tls", "acme")},
		{flag: "cert-file", usage: "certificate `FILE` (PEM) covering the team domain and the app host (-tls files)",
			def: "/etc/gatehouse/tls.crt", when: is("tls", "files")},
		{flag: "key-file", usage: "key `FILE` (PEM) of the certificate (-tls files)", def: "/etc/gatehouse/tls.key", when: is("tls", "files")},
		{flag: "data-dir", usage: "data `DIR`: where the database lives", def: "/var/lib/gatehouse"},
	}
}

func oneOfCheck(vals ...string) func(string) string {
	return func(v string) string {
		if slices.Contains(vals, v) {
			return ""
		}
		return fmt.Sprintf("%q: one of %s", v, strings.Join(vals, ", "))
	}
}

func portCheck(v string) string {
	if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("%q: a port number", v)
	}
	return ""
}

// stdinIsTerminal reports whether standard input is a character device
// other than /dev/null: a terminal, where init may ask its questions.
func stdinIsTerminal() bool {
	st, err := os.Stdin.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// cmdInit is `gatehouse init`: it writes a commented starter configuration
// from its flags. When they leave out a required answer and terminal is
// true, it asks on stdout and reads the answers from stdin, one a line, for
// every question the flags did not answer. It never overwrites a file and
// writes it with mode 0600.
func cmdInit(args []string, stdin io.Reader, terminal bool, stdout io.Writer) error {
	fs := newFlagSet("init")
	out := fs.String("o", "gatehouse.toml", "write the configuration to `FILE` (never overwritten)")
	questions := initQuestions()
	vals := map[string]*string{}
	for _, q := range questions {
		vals[q.flag] = fs.String(q.flag, q.def, q.usage)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("%s exists; init never overwrites a file (use -o FILE)", *out)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *vals["idp"] == "otp" {
		*vals["idp"] = "pin"
	}
	a, missing, err := answerInit(questions, vals, given, nil, nil)
	if err != nil {
		return err
	}
	if len(missing) > 0 && terminal {
		a, _, err = answerInit(questions, vals, given, bufio.NewReader(stdin), stdout)
		if err != nil {
			return err
		}
	} else if len(missing) > 0 {
		return usageError{fmt.Errorf("missing %s (give them as flags, or run gatehouse init on a terminal to be asked)",
			strings.Join(missing, ", "))}
	}
	return writeInitConfig(*out, a, stdout)
}

// answerInit answers the questions that apply from the flags (vals, given
// naming those set) and the defaults. With in, it asks on stdout every
// question that no flag answered; without, it returns the flags of the
// required questions left unanswered.
func answerInit(questions []initQuestion, vals map[string]*string, given map[string]bool,
	in *bufio.Reader, stdout io.Writer) (initAnswers, []string, error) {
	a := initAnswers{}
	var missing []string
	for _, q := range questions {
		if q.when != nil && !q.when(a) {
			continue
		}
		v := strings.TrimSpace(*vals[q.flag])
		switch {
		case given[q.flag]:
		case in != nil:
			var err error
			if v, err = askInit(in, stdout, q, a); err != nil {
				return nil, nil, err
			}
		case v == "" && q.derive != nil:
			v = q.derive(a)
		}
		switch {
		case v != "" || q.optional:
		case given[q.flag]:
			return nil, nil, usageError{fmt.Errorf("-%s: must not be empty", q.flag)}
		case q.required():
			missing = append(missing, "-"+q.flag)
			continue
		default:
			continue // derived from a missing answer, which is reported
		}
		if q.check != nil && v != "" {
			if msg := q.check(v); msg != "" {
				return nil, nil, usageError{fmt.Errorf("-%s: %s", q.flag, msg)}
			}
		}
		a[q.flag] = v
	}
	return a, missing, nil
}

// askInit asks q on stdout and reads the answer, a line of in; the default
// is taken for an empty line. A required question is asked again until
// answered, and an answer that fails its check too.
func askInit(in *bufio.Reader, stdout io.Writer, q initQuestion, a initAnswers) (string, error) {
	def := q.def
	if q.derive != nil {
		def = q.derive(a)
	}
	prompt := strings.ReplaceAll(q.usage, "`", "")
	prompt = strings.ToUpper(prompt[:1]) + prompt[1:]
	for {
		if def != "" {
			fmt.Fprintf(stdout, "%s [%s]: ", prompt, def)
		} else {
			fmt.Fprintf(stdout, "%s: ", prompt)
		}
		line, err := in.ReadString('\n')
		if err != nil && (!errors.Is(err, io.EOF) || line == "") {
			if errors.Is(err, io.EOF) {
				return "", usageError{fmt.Errorf("standard input ended before -%s was answered", q.flag)}
			}
			return "", fmt.Errorf("app: init: %w", err)
		}
		v := strings.TrimSpace(line)
		if v == "" {
			v = def
		}
		msg := ""
		switch {
		case v == "" && !q.optional:
			msg = "required"
		case v != "" && q.check != nil:
			msg = q.check(v)
		}
		if msg == "" {
			return v, nil
		}
		fmt.Fprintf(stdout, "  %s\n", msg)
	}
}

// initKeyFlags names the flag behind a configuration key, so that a
// problem of the written file is reported as the answer that caused it.
var initKeyFlags = []struct{ key, flag string }{
	{"team_domain", "team-domain"}, {"apps[0].domains", "app-host"}, {"apps[0].name", "app-name"},
	{"apps[0].origin", "origin"}, {"admins", "admin"}, {"apps[0].policies", "admin"},
	{"idps[0].issuer", "oidc-issuer"}, {"idps[0].client_id", "oidc-client-id"},
	{"idps[0].client_secret", "oidc-secret-file"}, {"idps[0].metadata", "saml-metadata"},
	{"smtp.host", "smtp-host"}, {"smtp.port", "smtp-port"}, {"smtp.from", "smtp-from"},
	{"smtp.username", "smtp-user"}, {"smtp.password", "smtp-password-file"}, {"tls.email", "acme-email"},
	{"tls.certs", "cert-file"}, {"data_dir", "data-dir"},
}

// writeInitConfig renders the configuration of a, checks it as
// check-config would and writes it to path (created, mode 0600). Files the
// configuration names that do not exist yet (secrets, SAML metadata) are
// listed as next steps instead of failing.
func writeInitConfig(path string, a initAnswers, stdout io.Writer) error {
	port, _ := strconv.Atoi(a["smtp-port"]) // checked by portCheck
	data, err := config.Starter{
		Path: path, TeamDomain: a["team-domain"], AppHost: a["app-host"], AppName: a["app-name"], Origin: a["origin"],
		Admin: a["admin"], IdP: a["idp"], TLS: a["tls"], DataDir: a["data-dir"],
		OIDCIssuer: a["oidc-issuer"], OIDCClientID: a["oidc-client-id"], OIDCSecretFile: a["oidc-secret-file"],
		SAMLMetadata: a["saml-metadata"], SMTPHost: a["smtp-host"], SMTPPort: port, SMTPFrom: a["smtp-from"],
		SMTPUser: a["smtp-user"], SMTPPasswordFile: a["smtp-password-file"],
		ACMEEmail: a["acme-email"], CertFile: a["cert-file"], KeyFile: a["key-file"],
	}.Render()
	if err != nil {
		return err
	}
	later := map[string]string{} // config key -> file still to be written
	note := func(key, file string) {
		if _, err := os.Stat(file); err != nil {
			later[key] = file
		}
	}
	switch a["idp"] {
	case "oidc":
		note("idps[0].client_secret_file", a["oidc-secret-file"])
	case "saml":
		if !(config.Starter{SAMLMetadata: a["saml-metadata"]}).SAMLMetadataIsURL() {
			note("idps[0].metadata_file", a["saml-metadata"])
		}
	case "pin":
		if a["smtp-user"] != "" {
			note("smtp.password_file", a["smtp-password-file"])
		}
	}
	if _, err := config.Parse(data, path); err != nil {
		var ce *config.Error
		if !errors.As(err, &ce) {
			return err
		}
		var msgs []string
		for _, p := range ce.Problems {
			if _, ok := later[p.Key]; ok {
				continue
			}
			where := p.Key
			for _, kf := range initKeyFlags {
				if p.Key == kf.key || strings.HasPrefix(p.Key, kf.key+".") || strings.HasPrefix(p.Key, kf.key+"[") {
					where = "-" + kf.flag
					break
				}
			}
			msgs = append(msgs, where+": "+p.Msg)
		}
		if len(msgs) > 0 {
			return usageError{errors.New("the answers make an invalid configuration, nothing written:\n  " + strings.Join(msgs, "\n  "))}
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; init never overwrites a file (use -o FILE)", path)
		}
		return fmt.Errorf("app: init: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // ours: created above; a partial file would block the next init
		return fmt.Errorf("app: init: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (mode 0600)\n", path)
	step := 1
	for _, key := range slices.Sorted(maps.Keys(later)) {
		fmt.Fprintf(stdout, "%d. write %s (%s), readable only by the user that runs gatehouse serve\n", step, later[key], key)
		step++
	}
	fmt.Fprintf(stdout, "%d. point the DNS of %s and %s at this machine\n", step, a["team-domain"], a["app-host"])
	fmt.Fprintf(stdout, "%d. gatehouse check-config -config %s, then gatehouse serve -config %s (see scripts/gatehouse.service)\n", step+1, path, path)
	return nil
}
