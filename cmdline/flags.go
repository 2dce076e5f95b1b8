// Package cmdline is the plumbing of a command line made of commands and
// subcommands: the command table, dispatch with exit codes, help built from
// each command's own flags, and the questions a command may ask on a
// terminal. It knows nothing of Gatehouse.
package cmdline

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// UsageError is a mistake in the command line: exit code 2, with the usage
// on standard error.
type UsageError struct{ Err error }

func (u UsageError) Error() string { return u.Err.Error() }
func (u UsageError) Unwrap() error { return u.Err }

// Usage marks err as a mistake in the command line.
func Usage(err error) error { return UsageError{Err: err} }

// Usagef is Usage of a formatted error.
func Usagef(format string, args ...any) error { return UsageError{Err: fmt.Errorf(format, args...)} }

// HelpError is what a command returns for -h, -help or --help: its usage,
// with the flags of FlagSet, goes to standard output and the exit code is 0.
type HelpError struct{ FlagSet *flag.FlagSet }

func (HelpError) Error() string { return "help requested" }

// NewFlagSet returns a silent flag set for cmd: Parse reports its errors.
func NewFlagSet(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// Parse parses args into fs: a help flag becomes a HelpError, any other
// mistake a UsageError.
func Parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return HelpError{FlagSet: fs}
	}
	return Usage(err)
}

// ParseNoArgs is Parse for a command that takes flags only.
func ParseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// ParseInterspersed parses flags that may come before or after the
// positional arguments, which it returns.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := Parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// IsHelpFlag reports whether s asks for help.
func IsHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }
