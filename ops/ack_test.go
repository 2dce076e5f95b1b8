package ops

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestAck(t *testing.T) {
	tests := []struct {
		name    string
		listen  bool
		apply   error
		wantPID bool
		wantErr string
	}{
		{name: "no serve", listen: false, wantErr: ErrNoServe.Error()},
		{name: "applied", listen: true, wantPID: true},
		{name: "apply fails", listen: true, apply: errors.New("database is locked"), wantErr: "could not apply it: error database is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			calls := 0
			if tt.listen {
				stop, err := ListenAck(context.Background(), dir, func(context.Context) error { calls++; return tt.apply }, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				defer stop()
				fi, err := os.Stat(dir + "/" + AckSocket)
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("socket mode: %v %v", fi, err)
				}
			}
			pid, err := AwaitServe(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pid != strconv.Itoa(os.Getpid()) || calls != 1 {
				t.Fatalf("pid %q calls %d", pid, calls)
			}
		})
	}
}
