package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Version, Revision and BuildTime are stamped by the release build
// (scripts/release.sh):
//
//	-ldflags "-X github.com/gatehouse-dev/gatehouse/app.Version=v0.1.0
//	          -X github.com/gatehouse-dev/gatehouse/app.Revision=bbb6a4f1cfaf6e3e177d6e7bf2530aa4402f6513
//	          -X github.com/gatehouse-dev/gatehouse/app.BuildTime=2026-12-02T13:22:52Z"
//
// Without them, the version comes from the build info the Go toolchain
// records (-buildvcs): the module version, or the VCS revision of the
// checkout.
var (
	Version   = ""
	Revision  = ""
	BuildTime = ""
)

// versionInfo is what `gatehouse version` prints.
type versionInfo struct {
	Version   string // "v0.1.0", "v0.0.0-2026…-bbb6a4f1cfaf+dirty", "bbb6a4f1cfaf-dirty" or "dev"
	Revision  string // full VCS revision, "" when not recorded
	Modified  bool   // the checkout had uncommitted changes
	BuildTime string // RFC 3339; the commit time when no build time was stamped
	TimeKind  string // "built" or "committed"
	GoVersion string // "go1.26.8"
	Platform  string // "linux/amd64"
}

// stamp is what the release build sets with -ldflags -X.
type stamp struct{ version, revision, buildTime string }

// describeVersion derives the version from the stamped values, which win,
// and the build info bi, which may be nil.
func describeVersion(bi *debug.BuildInfo, ld stamp) versionInfo {
	v := versionInfo{GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	var commitTime string
	if bi != nil {
		if bi.GoVersion != "" {
			v.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			case "vcs.time":
				commitTime = s.Value
			}
		}
	}
	if ld.revision != "" {
		v.Revision = ld.revision
	}
	switch {
	case ld.version != "":
		v.Version = ld.version
	case bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)":
		v.Version = bi.Main.Version
	case v.Revision != "":
		v.Version = shortRevision(v.Revision)
		if v.Modified {
			v.Version += "-dirty"
		}
	default:
		v.Version = "dev"
	}
	switch {
	case ld.buildTime != "":
		v.BuildTime, v.TimeKind = ld.buildTime, "built"
	case commitTime != "":
		v.BuildTime, v.TimeKind = commitTime, "committed"
	}
	return v
}

// shortRevision is the first 12 characters of a VCS revision.
func shortRevision(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

// currentVersion describes this binary.
func currentVersion() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return describeVersion(bi, stamp{Version, Revision, BuildTime})
}

// write prints v: the version on the first line, then what it was built from.
func (v versionInfo) write(w io.Writer) {
	fmt.Fprintf(w, "gatehouse %s\n", v.Version)
	if v.Revision != "" {
		mod := ""
		if v.Modified {
			mod = " (with uncommitted changes)"
		}
		fmt.Fprintf(w, "  revision  %s%s\n", v.Revision, mod)
	}
	if v.BuildTime != "" {
		fmt.Fprintf(w, "  %-9s %s\n", v.TimeKind, v.BuildTime)
	}
	fmt.Fprintf(w, "  go        %s %s\n", v.GoVersion, v.Platform)
}

// cmdVersion is `gatehouse version`.
func cmdVersion(args []string, stdout io.Writer) error {
	fs := newFlagSet("version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	currentVersion().write(stdout)
	return nil
}

// VersionString is the version alone, for the start-up log line.
func VersionString() string { return currentVersion().Version }
