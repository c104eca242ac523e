package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-11-29T21:30:00Z"},
		{Key: "vcs.modified", Value: "false"},
	}
	for _, tc := range []struct {
		name          string
		v, c, d       string
		bi            *debug.BuildInfo
		want          Info
		wantGoVersion string
	}{
		{
			name: "release build: ldflags win over build info",
			v:    "v1.2.3", c: "abcdef", d: "2026-11-29T00:00:00Z",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			want: Info{Version: "1.2.3", Commit: "abcdef", Date: "2026-11-29T00:00:00Z", Source: "release"},
		},
		{
			name: "go install module@v1.2.3: version only",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			want: Info{Version: "1.2.3", Commit: Unknown, Date: Unknown, Source: "module"},
		},
		{
			name: "go install module@commit: the pseudo-version names commit and time",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261129213000-0123456789ab"}},
			want: Info{Version: "0.0.0-20261129213000-0123456789ab", Commit: "0123456789ab", Date: "2026-11-29T21:30:00Z", Source: "module"},
		},
		{
			name: "pseudo-version after a tag",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20261129213000-0123456789ab"}},
			want: Info{Version: "1.2.4-0.20261129213000-0123456789ab", Commit: "0123456789ab", Date: "2026-11-29T21:30:00Z", Source: "module"},
		},
		{
			name: "go build in a checkout without a version: never (devel)",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			want: Info{Version: "0.0.0-0123456789ab", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-29T21:30:00Z", Source: "module"},
		},
		{
			name: "uncommitted changes are marked",
			bi: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}},
			want: Info{Version: "1.2.3+dirty", Commit: "0123456789abcdef", Date: Unknown, Source: "module"},
		},
		{
			name: "nothing recorded",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: Info{Version: Unknown, Commit: Unknown, Date: Unknown, Source: "module"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.v, tc.c, tc.d, tc.bi)
			got.Go, got.Platform = "", ""
			if got != tc.want {
				t.Errorf("resolve = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
}

// The test binary itself has build info; whatever it says, the version is
// never the toolchain's "(devel)" placeholder.
func TestGetNeverDevel(t *testing.T) {
	if v := Get().Version; v == "(devel)" || v == "" {
		t.Errorf("Get().Version = %q", v)
	}
}
