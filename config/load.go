package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Problem is one mistake in a configuration.
type Problem struct {
	Line int    // 1-based line in the file, 0 when not known
	Key  string // key path such as "apps[1].domains[0]", "" for the whole file
	Msg  string
}

// Error lists every problem found in a configuration file.
type Error struct {
	File     string
	Problems []Problem
}

// Error renders one problem per line: "file:line: key: message".
func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		var b strings.Builder
		switch {
		case e.File != "" && p.Line > 0:
			fmt.Fprintf(&b, "%s:%d: ", e.File, p.Line)
		case e.File != "":
			b.WriteString(e.File + ": ")
		case p.Line > 0:
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		if p.Key != "" {
			b.WriteString(p.Key + ": ")
		}
		b.WriteString(p.Msg)
		lines = append(lines, b.String())
	}
	return strings.Join(lines, "\n")
}

// Load reads path, decodes it strictly over Default and validates it.
// Problems are returned together as a *Error.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes data (named name in messages) over Default and
// validates it. Unknown keys, type errors and validation problems are all
// reported at once in a *Error.
func Parse(data []byte, name string) (*Config, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, &Error{File: name, Problems: []Problem{{
				Line: line, Key: strings.Join(de.Key(), "."),
				Msg: "syntax error: " + strings.TrimPrefix(de.Error(), "toml: "),
			}}}
		}
		return nil, &Error{File: name, Problems: []Problem{{Msg: "syntax error: " + err.Error()}}}
	}

	cfg := Default()
	cfg.file = name
	cfg.lines = keyLines(data)
	dec := &decoder{lines: cfg.lines}
	dec.value(reflect.ValueOf(&cfg).Elem(), doc, "")

	problems := dec.problems
	if err := cfg.Validate(); err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			return nil, err
		}
		for _, p := range ce.Problems {
			if !coveredBy(p.Key, dec.problems) {
				problems = append(problems, p)
			}
		}
	}
	if len(problems) == 0 {
		// Validate has checked that the password resolves; the mailer
		// takes it from Password.
		v := &validator{lines: cfg.lines}
		cfg.SMTP.Password = v.secret("smtp.", "password", cfg.SMTP.Password, cfg.SMTP.PasswordFile, cfg.SMTP.PasswordEnv)
		problems = v.problems
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
		return nil, &Error{File: name, Problems: problems}
	}
	return &cfg, nil
}

// coveredBy reports whether key is, or lies under, a key that already has a
// decoding problem, so that a mistyped value is not also reported as missing.
func coveredBy(key string, decoded []Problem) bool {
	for _, d := range decoded {
		if d.Key == "" {
			continue
		}
		if key == d.Key || strings.HasPrefix(key, d.Key+".") || strings.HasPrefix(key, d.Key+"[") {
			return true
		}
	}
	return false
}
