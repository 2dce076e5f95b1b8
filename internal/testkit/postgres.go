package testkit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// A test binary that needs PostgreSQL gets one throwaway cluster, started
// on first use by PostgresDSN and stopped by RunWithPostgres when the tests
// end. Each PostgresDSN call creates a new empty database in it.

// pgCluster is the running throwaway PostgreSQL cluster.
type pgCluster struct {
	dir   string  // temporary directory: data, socket, log
	bin   string  // directory of initdb, postgres, pg_ctl
	port  int     // loopback TCP port
	admin *sql.DB // connection to the "postgres" database
	proc  *exec.Cmd
	gone  chan error // receives the server's exit
	asPG  bool       // running as the postgres OS user (the tests run as root)
	// durable keeps synchronous_commit on, so that a commit survives the
	// server's crash (fsync stays off: the machine does not crash).
	durable bool
}

var (
	pgOnce     sync.Once
	pg         *pgCluster
	pgErr      error
	pgMain     atomic.Bool  // RunWithPostgres is running the tests
	pgDatabase atomic.Int64 // names databases uniquely
)

// pgUser is the cluster's superuser (initdb -U).
const pgUser = "gatehouse"

// RunWithPostgres runs the tests of m, then stops the PostgreSQL cluster
// if one was started, and returns m.Run's exit code. A package whose tests
// call PostgresDSN calls it from TestMain: os.Exit(testkit.RunWithPostgres(m)).
func RunWithPostgres(m *testing.M) int {
	pgMain.Store(true)
	code := m.Run()
	if pg != nil {
		if err := pg.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testkit:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// PostgresDSN returns the DSN of a new, empty PostgreSQL database in the
// test binary's cluster (started on first use), dropped when t ends. In
// the fast lane (go test -short) it skips t.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	skipShort(t, "PostgreSQL")
	if !pgMain.Load() {
		t.Fatal("testkit: PostgresDSN needs TestMain to run the tests with testkit.RunWithPostgres(m)")
	}
	pgOnce.Do(func() { pg, pgErr = startPostgres(false) })
	if pgErr != nil {
		t.Fatalf("testkit: PostgreSQL: %v", pgErr)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), pgDatabase.Add(1))
	ctx := context.Background()
	if _, err := pg.admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("testkit: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := pg.admin.ExecContext(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("testkit: drop database %s: %v", name, err)
		}
	})
	return pg.dsn(name)
}

// dsn is the DSN of database name in the cluster.
func (c *pgCluster) dsn(name string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", c.port, pgUser, name)
}

// postgresBin finds the directory of PostgreSQL's server programs: the
// newest /usr/lib/postgresql/<version>/bin (Debian's layout), else the one
// of initdb in PATH.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	// Not in scripts/check-test-programs.sh's table, which checks PATH:
	// Debian keeps initdb out of it. That script checks these programs
	// where this function looks for them.
	initdb := "initdb"
	p, err := exec.LookPath(initdb)
	if err != nil {
		return "", fmt.Errorf("initdb is not installed: install the Debian package %s "+
			"(scripts/install-test-deps.sh installs every test dependency): %w", debianPackages["initdb"], err)
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return filepath.Dir(p), nil
}

// command runs the server program prog of the cluster, as the postgres OS
// user when the tests run as root (PostgreSQL refuses to run as root).
func (c *pgCluster) command(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, prog)
	if c.asPG {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// startPostgres creates and starts a cluster in a temporary directory.
func startPostgres(durable bool) (_ *pgCluster, err error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gatehouse-pg-")
	if err != nil {
		return nil, err
	}
	c := &pgCluster{dir: dir, bin: bin, asPG: os.Geteuid() == 0, durable: durable}
	defer func() {
		if err != nil {
			c.stop() //nolint:errcheck // the start's error says more
		}
	}()
	if c.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres OS user (Debian package postgresql): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.command("initdb", "-D", data, "-A", "trust", "-U", pgUser,
		"-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	if c.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := c.start(); err != nil {
		return nil, err
	}
	return c, nil
}

// start runs the server of the cluster's data directory on its port and
// waits until it answers.
func (c *pgCluster) start() (err error) {
	// The server runs as a child of the test binary, which kills it
	// should the binary die before RunWithPostgres stops it.
	log, err := os.OpenFile(filepath.Join(c.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	commit := "off"
	if c.durable {
		commit = "on"
	}
	c.proc = c.command("postgres", "-D", filepath.Join(c.dir, "data"), "-k", c.dir, "-c", "listen_addresses=127.0.0.1",
		"-p", strconv.Itoa(c.port), "-c", "fsync=off", "-c", "synchronous_commit="+commit,
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	c.proc.Stdout, c.proc.Stderr = log, log
	c.proc.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := c.proc.Start(); err != nil {
		c.proc = nil
		return fmt.Errorf("start postgres: %w", err)
	}
	gone := make(chan error, 1)
	c.gone = gone
	go func() { gone <- c.proc.Wait() }()
	if c.admin == nil {
		if c.admin, err = sql.Open("pgx", c.dsn("postgres")); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = c.admin.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-gone:
			c.proc = nil
			logText, _ := os.ReadFile(log.Name())
			return fmt.Errorf("postgres exited: %v: %s", werr, logText)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after 30s: %w", err)
		}
	}
}

// halt stops the server with pg_ctl in mode (fast: clients are
// disconnected and the server shuts down cleanly; immediate: it quits at
// once, as on a crash) and waits for it to exit.
func (c *pgCluster) halt(mode string) error {
	if c.proc == nil {
		return nil
	}
	var errs []error
	out, err := c.command("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", mode, "-w", "stop").CombinedOutput()
	if err != nil {
		errs = append(errs, fmt.Errorf("pg_ctl stop: %w: %s", err, out))
		c.proc.Process.Kill() //nolint:errcheck // the error above says more
	}
	select {
	case <-c.gone:
	case <-time.After(10 * time.Second):
		c.proc.Process.Kill() //nolint:errcheck // best effort
		errs = append(errs, errors.New("postgres did not exit"))
	}
	c.proc = nil
	return errors.Join(errs...)
}

// stop shuts the cluster down and removes its directory.
func (c *pgCluster) stop() error {
	var errs []error
	if c.admin != nil {
		c.admin.Close()
	}
	errs = append(errs, c.halt("fast"))
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop PostgreSQL: %w", err)
	}
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
