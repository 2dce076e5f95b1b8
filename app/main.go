// Package app is Gatehouse's composition root: configuration, wiring, host
// dispatch and the command line.
package app

import (
	"context"
	"io"
)

// Main runs the gatehouse command with args and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return 0
}
