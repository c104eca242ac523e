package output

import (
	"io"

	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
)

// Checked is what check found, before it is rendered.
type Checked struct {
	check.Report
	File, SHA256 string // the local file
	// Ages are the local tokens' ages, nil when check compared two files.
	Ages *Ages
}

// Ages is check's view of the local tokens' ages, with what the command
// line adds: the maximum as given, and by token the rotate command that
// renews it (none when no cluster is configured, which rotate needs).
type Ages struct {
	*check.Ages
	MaxText string
	Rotate  map[string]string
}

// drift reports whether the ages make check fail.
func (a *Ages) drift() bool { return a != nil && a.Drift() }

// Check renders what check found: its JSON document, or for people each
// node, the cluster's view and the tokens' ages.
func Check(w io.Writer, asJSON bool, f Checked) error {
	if asJSON {
		return JSON(w, checkJSON(f))
	}
	printCheck(w, f)
	files := map[string]check.State{}
	for _, r := range f.Results {
		files[r.Node] = r.State
	}
	printCoverage(w, f.Coverage, f.CoverageErr, files)
	printAges(w, f.Ages)
	return nil
}

// Nagios is the plugin's line and exit code.
func Nagios(f Checked) (string, int) {
	line, code := esNagios(nagios(f.Summary, f.Results), nagiosState(f.Summary), f.Coverage, f.CoverageErr)
	return agesNagios(line, code, f.Ages)
}

// Prometheus is node_exporter's textfile metrics.
func Prometheus(f Checked) []byte {
	return agesPrometheus(esPrometheus(prometheus(f), f.Coverage, f.CoverageErr), f.Ages)
}

// ExitCode is check's exit code for what it found, as diff's: 0 all in
// sync, 1 drift (a node's file, the cluster's view, a token's age), 2 a
// node or the cluster could not be checked.
func (f Checked) ExitCode() int {
	code := esExitCode(f.Summary.ExitCode(), f.Coverage, f.CoverageErr)
	if code == 0 && f.Ages.drift() {
		code = 1
	}
	return code
}

// esExitCode folds the cluster view into check's exit code.
func esExitCode(code int, cov *elastic.Coverage, covErr error) int {
	switch {
	case covErr != nil:
		return 2
	case cov != nil && cov.Drift && code == 0:
		return 1
	}
	return code
}
