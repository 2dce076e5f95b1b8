package testkit

import (
	"fmt"
	"sync"
	"testing"
)

func TestSyncBufferConcurrentWrites(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fmt.Fprintf(&b, "%d\n", i)
		}()
	}
	wg.Wait()
	if got := len(b.String()); got != 16 {
		t.Errorf("buffer holds %d bytes, want 16", got)
	}
}

func TestEveryProgramHasAPackage(t *testing.T) {
	for _, p := range []string{"chromium", "pebble", "pebble-challtestsrv", "php", "node", "npm", "certutil", "nginx", "caddy", "haproxy", "bash", "git", "sha256sum"} {
		if DebianPackage(p) == "" {
			t.Errorf("no Debian package for %s", p)
		}
	}
}
