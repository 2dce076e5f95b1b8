package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// resolveSecret returns a secret written inline under the key name, read
// from the file named by name_file, or read from the environment variable
// named by name_env; Validate checks that at most one is set. One rule holds
// for every secret: a value from a file or a variable has its surrounding
// whitespace (newlines included) trimmed and must not be empty; an inline
// value is used as written. key is the key of the source used, for messages;
// the error names the file or variable but not the key.
func resolveSecret(name, inline, file, env string) (value, key string, err error) {
	switch {
	case file != "":
		key = name + "_file"
		b, err := os.ReadFile(file)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", key, fmt.Errorf("cannot read %q: %w", file, err)
		}
		value = strings.TrimSpace(string(b))
		if value == "" {
			return "", key, fmt.Errorf("file %q is empty", file)
		}
		return value, key, nil
	case env != "":
		key = name + "_env"
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", key, fmt.Errorf("environment variable %s is not set", env)
		}
		value = strings.TrimSpace(v)
		if value == "" {
			return "", key, fmt.Errorf("environment variable %s is empty", env)
		}
		return value, key, nil
	}
	return inline, name, nil
}

// secret resolves a secret as resolveSecret does and reports a failure at
// prefix plus the key of its source ("smtp.password_env").
func (v *validator) secret(prefix, name, inline, file, env string) string {
	value, key, err := resolveSecret(name, inline, file, env)
	if err != nil {
		v.add(prefix+key, "%v", err)
	}
	return value
}

// OIDCSecret returns the client secret of an OIDC provider from
// client_secret, client_secret_file or client_secret_env.
func (p IdPConfig) OIDCSecret() (string, error) {
	s, key, err := resolveSecret("client_secret", p.ClientSecret, p.ClientSecretFile, p.ClientSecretEnv)
	if err != nil {
		return "", fmt.Errorf("config: idp %s: %s: %w", p.ID, key, err)
	}
	return s, nil
}

// ResolvePassword returns the SMTP password from password, password_file or
// password_env. Parse resolves it into Password already.
func (s SMTPConfig) ResolvePassword() (string, error) {
	pw, key, err := resolveSecret("password", s.Password, s.PasswordFile, s.PasswordEnv)
	if err != nil {
		return "", fmt.Errorf("config: smtp.%s: %w", key, err)
	}
	return pw, nil
}
