package config

import (
	"fmt"
	"os"
	"strings"
)

// OIDCSecret returns the client secret of an OIDC provider from the
// config, its file or its environment variable.
func (p IdPConfig) OIDCSecret() (string, error) {
	switch {
	case p.ClientSecretFile != "":
		b, err := os.ReadFile(p.ClientSecretFile)
		if err != nil {
			return "", fmt.Errorf("config: idp %s: client_secret_file: %w", p.ID, err)
		}
		return strings.TrimSpace(string(b)), nil
	case p.ClientSecretEnv != "":
		v, ok := os.LookupEnv(p.ClientSecretEnv)
		if !ok || v == "" {
			return "", fmt.Errorf("config: idp %s: client_secret_env: $%s is not set", p.ID, p.ClientSecretEnv)
		}
		return v, nil
	}
	return p.ClientSecret, nil
}

// ResolvePassword returns the SMTP password from password, the file named by
// password_file (trailing newline removed) or the variable named by password_env.
// Parse resolves it into Password already.
func (s SMTPConfig) ResolvePassword() (string, error) {
	switch {
	case s.PasswordFile != "":
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("cannot read the password: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case s.PasswordEnv != "":
		pw, ok := os.LookupEnv(s.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", s.PasswordEnv)
		}
		return pw, nil
	}
	return s.Password, nil
}
