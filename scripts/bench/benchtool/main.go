// Command benchtool holds the helpers of scripts/bench.sh: a small origin that
// counts its hits, a bare reverse proxy to compare Gatehouse against, a
// browser-like PIN sign-in that yields a real app cookie, and a bulk
// seeder for a large session database.
//
//	go build -C scripts/bench/benchtool -o "$PWD/benchtool" .
//	./benchtool origin -addr 127.0.0.1:20001
//	./benchtool bareproxy -addr 127.0.0.1:20002 -to http://127.0.0.1:20001 [-contract]
//	./benchtool signin -email bench@bench.test -log gatehouse.log http://app.test:20003/
//	./benchtool seed -config bench.toml -sessions 1000000 -revoked 1000000
//	./benchtool ports -n 3
//	./benchtool serve -config bench.toml -cpuprofile cpu.out -memprofile mem.out
//
// It is a benchmarking aid, not part of the Gatehouse binary: a module of
// its own (go.mod here, with a replace directive to the repository root), so
// that it is not in the product's package graph.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// BENCHTOOL_CPUPROFILE=FILE profiles any subcommand (the bare proxy, to
	// set its profile beside Gatehouse's).
	if prof := os.Getenv("BENCHTOOL_CPUPROFILE"); prof != "" {
		if f, err := os.Create(prof); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

// run dispatches a subcommand.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: benchtool origin|bareproxy|signin|seed|ports|serve [flags]")
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	switch cmd {
	case "origin":
		addr := fs.String("addr", "127.0.0.1:20001", "listen address")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return serveOrigin(ctx, *addr)
	case "bareproxy":
		addr := fs.String("addr", "127.0.0.1:20002", "listen address")
		to := fs.String("to", "http://127.0.0.1:20001", "origin URL")
		contract := fs.Bool("contract", false, "pass the origin the identity headers of Gatehouse's contract, unverified")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return serveBareProxy(ctx, *addr, *to, *contract)
	case "signin":
		email := fs.String("email", "bench@bench.test", "user email")
		logPath := fs.String("log", "", "Gatehouse's log file, where it writes the PIN")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 || *logPath == "" {
			return errors.New("usage: benchtool signin -email E -log FILE APP_URL...")
		}
		return signIn(ctx, *email, *logPath, fs.Args(), stdout)
	case "seed":
		cfg := fs.String("config", "", "Gatehouse config file")
		sessions := fs.Int("sessions", 1000000, "active sessions to insert")
		revoked := fs.Int("revoked", 1000000, "revoked sessions to insert")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return seed(ctx, *cfg, *sessions, *revoked, stdout)
	case "ports":
		n := fs.Int("n", 3, "how many free loopback ports below 32768")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return freePorts(*n, stdout)
	case "serve":
		cfg := fs.String("config", "", "Gatehouse config file")
		prof := fs.String("cpuprofile", "", "write a CPU profile of the whole run here")
		mem := fs.String("memprofile", "", "write an allocation profile of the whole run here at exit")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return serveProfiled(ctx, *cfg, *prof, *mem)
	}
	return fmt.Errorf("unknown subcommand %q", cmd)
}
