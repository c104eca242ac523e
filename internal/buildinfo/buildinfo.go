// Package buildinfo says which build of the program is running: the
// version, commit and build date that a release build stamps in with
// -ldflags -X, or, for `go install` and `go build`, what the Go toolchain
// records in the binary (the module version and the VCS stamp).
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Set by .ci/release with
//
//	-ldflags "-X github.com/es-service-tokens/es-service-tokens/internal/buildinfo.version=1.2.3 ..."
//
// They are plain strings because -X can only set strings.
var (
	version string
	commit  string
	date    string
)

// Info describes one build.
type Info struct {
	Version string
	Commit  string
	// Date is when the commit was made (RFC 3339, UTC): a release build is
	// reproducible, so the build date is the commit's, not the clock's.
	Date     string
	Go       string
	Platform string
	// Source says where the values came from: "release" (stamped by
	// .ci/release), "module" (go install or go build) or "unknown".
	Source string
}

// Unknown fills a field nothing recorded.
const Unknown = "unknown"

// Get returns the running binary's build.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, date, bi)
}

// resolve prefers the release stamp, then the toolchain's build info.
func resolve(v, c, d string, bi *debug.BuildInfo) Info {
	info := Info{Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Version: Unknown, Commit: Unknown, Date: Unknown, Source: Unknown}
	if bi != nil {
		info.Go = bi.GoVersion
	}
	if v != "" {
		info.Version, info.Source = strings.TrimPrefix(v, "v"), "release"
		if c != "" {
			info.Commit = c
		}
		if d != "" {
			info.Date = d
		}
		return info
	}
	if bi == nil {
		return info
	}
	info.Source = "module"
	modVersion := bi.Main.Version
	if modVersion != "" && modVersion != "(devel)" {
		info.Version = strings.TrimPrefix(modVersion, "v")
	}
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.Date = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	// `go install module@version` builds from the module proxy's zip, which
	// has no VCS stamp; a pseudo-version still names its commit and time
	// (v0.0.0-20261129213000-0123456789ab).
	if info.Commit == Unknown || info.Date == Unknown {
		if when, rev, ok := pseudo(modVersion); ok {
			if info.Commit == Unknown {
				info.Commit = rev
			}
			if info.Date == Unknown {
				info.Date = when
			}
		}
	}
	if info.Version == Unknown && info.Commit != Unknown {
		// A build from a checkout without VCS version stamping: name the
		// commit rather than print "(devel)".
		info.Version = "0.0.0-" + shortCommit(info.Commit)
	}
	if dirty && !strings.Contains(info.Version, "dirty") {
		info.Version += "+dirty"
	}
	return info
}

// pseudo splits a Go pseudo-version into its UTC time and commit prefix.
func pseudo(v string) (string, string, bool) {
	v = strings.TrimSuffix(v, "+dirty")
	i := strings.LastIndexByte(v, '-')
	if i < 0 || len(v)-i-1 != 12 {
		return "", "", false
	}
	rev := v[i+1:]
	rest := v[:i]
	j := strings.LastIndexAny(rest, "-.")
	if j < 0 {
		return "", "", false
	}
	t, err := time.Parse("20060102150405", rest[j+1:])
	if err != nil {
		return "", "", false
	}
	return t.UTC().Format(time.RFC3339), rev, true
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
