package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// Environment of the lock-holding child process (see TestMain).
const (
	childDBEnv  = "GATEHOUSE_CERTLOCK_CHILD_DB"
	childTTLEnv = "GATEHOUSE_CERTLOCK_CHILD_TTL"
	childPGEnv  = "GATEHOUSE_CERTLOCK_CHILD_PG" // "1": the database is a PostgreSQL DSN
)

// TestMain turns the test binary into a lock-holding child when
// childDBEnv is set: it takes the lock "shared", prints "locked", and
// releases it when its stdin closes.
func TestMain(m *testing.M) {
	if path := os.Getenv(childDBEnv); path != "" {
		os.Exit(lockChild(backend{pg: os.Getenv(childPGEnv) == "1"}, path, os.Getenv(childTTLEnv)))
	}
	os.Exit(testkit.RunWithPostgres(m))
}

func lockChild(be backend, path, ttl string) int {
	ctx := context.Background()
	db, err := be.open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	s := db.CertStorage()
	if d, err := time.ParseDuration(ttl); err == nil {
		s.LockTTL = d
	}
	if err := s.Lock(ctx, "shared"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := s.Unlock(ctx, "shared"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	fmt.Println("unlocked")
	return 0
}

// startLockChild runs the test binary as a child holding "shared" on the
// database at path, and returns once it holds the lock.
func startLockChild(t *testing.T, be backend, path, ttl string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	pg := "0"
	if be.pg {
		pg = "1"
	}
	cmd.Env = append(os.Environ(), childDBEnv+"="+path, childTTLEnv+"="+ttl, childPGEnv+"="+pg)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "locked" {
				line <- sc.Text()
			}
		}
	}()
	select {
	case <-line:
	case <-time.After(20 * time.Second):
		t.Fatal("child never took the lock")
	}
	return cmd, stdin
}

func seedCerts(t *testing.T, s *CertStorage) {
	t.Helper()
	ctx := context.Background()
	for _, k := range []string{
		"certificates/acme/a.test/a.test.crt",
		"certificates/acme/a.test/a.test.key",
		"certificates/acme/b.test/b.test.crt",
		"acme/ca/users/x.json",
		"ocsp/a.test",
		"certificates/acmez", // a file sharing a name prefix with a directory
	} {
		if err := s.Store(ctx, k, []byte("v:"+k)); err != nil {
			t.Fatalf("Store %s: %v", k, err)
		}
	}
}

func TestCertStorageLoadStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		s := db.CertStorage()
		ctx := context.Background()
		seedCerts(t, s)

		got, err := s.Load(ctx, "certificates/acme/a.test/a.test.crt")
		if err != nil || string(got) != "v:certificates/acme/a.test/a.test.crt" {
			t.Fatalf("Load = %q, %v", got, err)
		}
		if err := s.Store(ctx, "ocsp/a.test", []byte("new")); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Load(ctx, "ocsp/a.test"); string(got) != "new" {
			t.Errorf("overwrite: Load = %q", got)
		}
		if err := s.Store(ctx, "empty", nil); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Load(ctx, "empty"); err != nil || len(got) != 0 {
			t.Errorf("empty value: %q, %v", got, err)
		}

		missing := []struct {
			name string
			op   func() error
		}{
			{"load missing", func() error { _, err := s.Load(ctx, "nope/x"); return err }},
			{"load directory", func() error { _, err := s.Load(ctx, "certificates/acme"); return err }},
			{"stat missing", func() error { _, err := s.Stat(ctx, "nope"); return err }},
			{"stat name prefix is not a directory", func() error { _, err := s.Stat(ctx, "certificates/acme/a"); return err }},
			{"list missing", func() error { _, err := s.List(ctx, "nope", false); return err }},
			{"list missing recursive", func() error { _, err := s.List(ctx, "nope", true); return err }},
		}
		for _, tt := range missing {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.op(); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("err = %v, want fs.ErrNotExist", err)
				}
			})
		}
	})
}

func TestCertStorageStatExists(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		s := db.CertStorage()
		ctx := context.Background()
		seedCerts(t, s)
		tests := []struct {
			name     string
			key      string
			exists   bool
			terminal bool
			size     int64
		}{
			{"file", "certificates/acme/b.test/b.test.crt", true, true, int64(len("v:certificates/acme/b.test/b.test.crt"))},
			{"directory", "certificates/acme", true, false, 0},
			{"top directory", "certificates", true, false, 0},
			{"file next to a directory of similar name", "certificates/acmez", true, true, int64(len("v:certificates/acmez"))},
			{"partial component", "certificates/acm", false, false, 0},
			{"missing", "acme/other", false, false, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := s.Exists(ctx, tt.key); got != tt.exists {
					t.Errorf("Exists = %v, want %v", got, tt.exists)
				}
				info, err := s.Stat(ctx, tt.key)
				if !tt.exists {
					if !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("Stat err = %v, want fs.ErrNotExist", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Stat: %v", err)
				}
				if info.Key != tt.key || info.IsTerminal != tt.terminal || info.Size != tt.size {
					t.Errorf("Stat = %+v", info)
				}
				if time.Since(info.Modified) > time.Minute || info.Modified.IsZero() {
					t.Errorf("Modified = %v", info.Modified)
				}
			})
		}
	})
}

func TestCertStorageList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		s := db.CertStorage()
		ctx := context.Background()
		seedCerts(t, s)
		tests := []struct {
			name      string
			prefix    string
			recursive bool
			want      []string
		}{
			{"top level", "", false, []string{"acme", "certificates", "ocsp"}},
			{"children", "certificates", false, []string{"certificates/acme", "certificates/acmez"}},
			{"children with slash", "certificates/", false, []string{"certificates/acme", "certificates/acmez"}},
			{"recursive", "certificates/acme", true, []string{
				"certificates/acme/a.test",
				"certificates/acme/a.test/a.test.crt",
				"certificates/acme/a.test/a.test.key",
				"certificates/acme/b.test",
				"certificates/acme/b.test/b.test.crt",
			}},
			{"non-recursive below", "certificates/acme", false, []string{"certificates/acme/a.test", "certificates/acme/b.test"}},
			{"leaf directory", "certificates/acme/b.test", true, []string{"certificates/acme/b.test/b.test.crt"}},
			{"file", "ocsp/a.test", false, []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.List(ctx, tt.prefix, tt.recursive)
				if err != nil {
					t.Fatalf("List: %v", err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("List(%q, %v) = %q, want %q", tt.prefix, tt.recursive, got, tt.want)
				}
			})
		}
	})
}

func TestCertStorageDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		s := db.CertStorage()
		ctx := context.Background()
		seedCerts(t, s)

		if err := s.Delete(ctx, "certificates/acme/a.test/a.test.key"); err != nil {
			t.Fatal(err)
		}
		if s.Exists(ctx, "certificates/acme/a.test/a.test.key") {
			t.Error("file still exists after Delete")
		}
		if !s.Exists(ctx, "certificates/acme/a.test/a.test.crt") {
			t.Error("sibling deleted")
		}
		if err := s.Delete(ctx, "certificates/acme"); err != nil {
			t.Fatal(err)
		}
		if s.Exists(ctx, "certificates/acme") || s.Exists(ctx, "certificates/acme/b.test/b.test.crt") {
			t.Error("directory still exists after Delete")
		}
		if !s.Exists(ctx, "certificates/acmez") {
			t.Error("Delete of a directory removed a file that only shares a name prefix")
		}
		if err := s.Delete(ctx, "certificates/acme"); err != nil {
			t.Errorf("Delete of a missing key: %v", err)
		}
		if err := s.Delete(ctx, "never/was"); err != nil {
			t.Errorf("Delete of a missing key: %v", err)
		}
	})
}

func TestCertStorageLockInProcess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		a, b := db.CertStorage(), db.CertStorage()
		a.LockPoll, b.LockPoll = 20*time.Millisecond, 20*time.Millisecond
		ctx := context.Background()

		if err := a.Lock(ctx, "issue_cert_a.test"); err != nil {
			t.Fatal(err)
		}
		if ok, err := b.TryLock(ctx, "issue_cert_a.test"); ok || err != nil {
			t.Fatalf("TryLock of a held lock = %v, %v", ok, err)
		}
		if ok, err := b.TryLock(ctx, "issue_cert_b.test"); !ok || err != nil {
			t.Fatalf("TryLock of another name = %v, %v", ok, err)
		}
		short, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
		if err := b.Lock(short, "issue_cert_a.test"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lock of a held lock = %v, want deadline exceeded", err)
		}
		got := make(chan error, 1)
		go func() { got <- b.Lock(ctx, "issue_cert_a.test") }()
		time.Sleep(100 * time.Millisecond)
		select {
		case err := <-got:
			t.Fatalf("Lock returned while held: %v", err)
		default:
		}
		if err := a.Unlock(ctx, "issue_cert_a.test"); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Lock did not return after Unlock")
		}
		if err := a.Unlock(ctx, "issue_cert_a.test"); err == nil {
			t.Error("Unlock of a lock not held succeeded")
		}
	})
}

func TestCertStorageLockLeaseRenewed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		a, b := db.CertStorage(), db.CertStorage()
		a.LockTTL = 300 * time.Millisecond
		ctx := context.Background()
		if err := a.Lock(ctx, "l"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // three TTLs: only renewal keeps it
		if ok, err := b.TryLock(ctx, "l"); ok || err != nil {
			t.Fatalf("lock of a live holder was taken: %v, %v", ok, err)
		}
		if err := a.Unlock(ctx, "l"); err != nil {
			t.Fatal(err)
		}
		if ok, err := b.TryLock(ctx, "l"); !ok || err != nil {
			t.Fatalf("TryLock after Unlock = %v, %v", ok, err)
		}
	})
}

func TestCertStorageLockTwoHandles(t *testing.T) {
	forEachBackend(t, certStorageLockTwoHandles)
}

func certStorageLockTwoHandles(t *testing.T, be backend) {
	ctx := context.Background()
	var dbs [2]*DB
	var path string
	dbs[0], path = be.openTest(t)
	dbs[1] = be.other(t, path)
	a, b := dbs[0].CertStorage(), dbs[1].CertStorage()
	if err := a.Store(ctx, "k", []byte("from a")); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Load(ctx, "k"); err != nil || string(v) != "from a" {
		t.Fatalf("second handle Load = %q, %v", v, err)
	}
	if err := a.Lock(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(ctx, "shared"); ok || err != nil {
		t.Fatalf("second handle took a held lock: %v, %v", ok, err)
	}
	if err := a.Unlock(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(ctx, "shared"); !ok || err != nil {
		t.Fatalf("second handle TryLock after Unlock = %v, %v", ok, err)
	}
}

func TestCertStorageLockAcrossProcesses(t *testing.T) {
	forEachBackend(t, certStorageLockAcrossProcesses)
}

func certStorageLockAcrossProcesses(t *testing.T, be backend) {
	db, path := be.openTest(t)
	ctx := context.Background()
	s := db.CertStorage()
	s.LockPoll = 20 * time.Millisecond

	cmd, stdin := startLockChild(t, be, path, "")
	if ok, err := s.TryLock(ctx, "shared"); ok || err != nil {
		t.Fatalf("took the lock a child process holds: %v, %v", ok, err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := s.Lock(short, "shared"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock = %v, want deadline exceeded", err)
	}
	stdin.Close() // the child unlocks and exits
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := s.Lock(wctx, "shared"); err != nil {
		t.Fatalf("Lock after the child unlocked: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if err := s.Unlock(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
}

func TestCertStorageLockStaleAfterCrash(t *testing.T) {
	forEachBackend(t, certStorageLockStaleAfterCrash)
}

func certStorageLockStaleAfterCrash(t *testing.T, be backend) {
	db, path := be.openTest(t)
	ctx := context.Background()
	s := db.CertStorage()
	s.LockPoll = 20 * time.Millisecond

	cmd, _ := startLockChild(t, be, path, "1500ms")
	if err := cmd.Process.Kill(); err != nil { // a crash: no Unlock
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := time.Now()
	if ok, err := s.TryLock(ctx, "shared"); ok || err != nil {
		t.Fatalf("took a crashed holder's lock before it went stale: %v, %v", ok, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Lock(wctx, "shared"); err != nil {
		t.Fatalf("stale lock never freed: %v", err)
	}
	if waited := time.Since(killed); waited > 3*time.Second {
		t.Errorf("waited %v for a 1.5s lease", waited)
	}
	var owners int
	if err := db.sql.QueryRow(`SELECT COUNT(*) FROM certmagic_locks WHERE name = 'shared'`).Scan(&owners); err != nil || owners != 1 {
		t.Errorf("lock rows = %d, %v", owners, err)
	}
	if !strings.HasPrefix(cmd.ProcessState.String(), "signal") {
		t.Errorf("child state %s, want killed", cmd.ProcessState)
	}
}
