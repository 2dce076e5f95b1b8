package app

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// TestReleaseReproducible builds the linux/amd64 release binary twice with
// scripts/release.sh and checks that both builds are byte for byte the
// same, that SHA256SUMS is right, that the binary is static, stripped of
// the source path, and that `gatehouse version` names the version, the
// commit and the commit time as build time.
func TestReleaseReproducible(t *testing.T) {
	testkit.NeedPrograms(t, "bash", "git", "go", "sha256sum")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", root}, args...)...).Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	head := git("rev-parse", "HEAD")
	commitTime := git("log", "-1", "--format=%ct")
	const version = "v0.0.0-reproducible"
	const name = "gatehouse-" + version + "-linux-amd64"
	build := func() (dist string, sums []byte) {
		dist = t.TempDir()
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "release.sh"))
		cmd.Env = append(os.Environ(), "PLATFORMS=linux/amd64", "DIST="+dist, "VERSION="+version, "SOURCE_DATE_EPOCH=")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("release.sh: %v\n%s", err, out)
		}
		t.Logf("release.sh built linux/amd64 in %s", time.Since(start).Round(100*time.Millisecond))
		sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		return dist, sums
	}
	dist1, sums1 := build()
	time.Sleep(1100 * time.Millisecond) // a build that read the clock would now differ
	_, sums2 := build()
	if !bytes.Equal(sums1, sums2) {
		t.Errorf("two builds differ:\n%s\n%s", sums1, sums2)
	}
	bin := filepath.Join(dist1, name)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if want := hex.EncodeToString(sum[:]) + "  " + name + "\n"; string(sums1) != want {
		t.Errorf("SHA256SUMS = %q, want %q", sums1, want)
	}
	if bytes.Contains(data, []byte(root)) {
		t.Errorf("the binary holds the source path %s (not -trimpath)", root)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("machine %v", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("dynamically linked: program header %v", p.Type)
		}
	}
	if f.Section(".symtab") != nil {
		t.Error("symbol table not stripped (-s)")
	}

	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("build settings %v", settings)
	}
	if id, err := exec.Command("go", "tool", "buildid", bin).Output(); err != nil || strings.TrimSpace(string(id)) != "" {
		t.Errorf("build ID %q (%v), want none (-buildid=)", id, err)
	}

	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	secs, _ := time.ParseDuration(commitTime + "s")
	built := time.Unix(int64(secs.Seconds()), 0).UTC().Format(time.RFC3339)
	for _, want := range []string{"gatehouse " + version + "\n", "revision  " + head + "\n", "built     " + built + "\n", "go        go1."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}
