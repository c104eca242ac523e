// check --nagios: one Nagios/Icinga plugin line with perfdata, and the
// plugin's exit codes.
package output

import (
	"fmt"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// Nagios plugin exit codes.
const (
	nagiosOK       = 0
	nagiosWarning  = 1
	nagiosCritical = 2
	NagiosUnknown  = 3 // the check could not run
)

// nagiosState is the plugin's severity. A node whose file Elasticsearch
// cannot load serves no file tokens, an outage for every client of them:
// CRITICAL like a node that could not be checked, not WARNING like drift.
func nagiosState(s check.Summary) int {
	switch {
	case s.Failed > 0 || s.Unloadable > 0:
		return nagiosCritical
	case s.Drifted > 0:
		return nagiosWarning
	}
	return nagiosOK
}

// nagios is the one-line plugin output with perfdata.
func nagios(s check.Summary, results []check.Result) string {
	perf := fmt.Sprintf("nodes_total=%d;;;0 nodes_drifted=%d;;;0 nodes_failed=%d;;;0 nodes_unloadable=%d;;;0", s.Total, s.Drifted, s.Failed, s.Unloadable)
	var bad []string
	for _, r := range results {
		switch r.State {
		case check.Error:
			bad = append(bad, r.Node+" ("+string(r.Failure)+")")
		case check.Drift:
			var what []string
			for _, d := range r.Differences {
				if d.Unloadable {
					what = append(what, "unloadable: serves no file tokens")
				} else {
					what = append(what, d.What)
				}
			}
			bad = append(bad, r.Node+" ("+strings.Join(what, ", ")+")")
		}
	}
	switch nagiosState(s) {
	case nagiosOK:
		return fmt.Sprintf("ES-SERVICE-TOKENS OK - %s in sync | %s", Plural(s.Total, "node"), perf)
	case nagiosWarning:
		return fmt.Sprintf("ES-SERVICE-TOKENS WARNING - %d of %s drifted: %s | %s", s.Drifted, Plural(s.Total, "node"), strings.Join(bad, ", "), perf)
	}
	counts := fmt.Sprintf("%d of %s failed", s.Failed, Plural(s.Total, "node"))
	if s.Unloadable > 0 {
		counts += fmt.Sprintf(", %d unloadable", s.Unloadable)
	}
	return fmt.Sprintf("ES-SERVICE-TOKENS CRITICAL - %s, %d drifted: %s | %s", counts, s.Drifted, strings.Join(bad, ", "), perf)
}

// esNagios adds the cluster view to a Nagios line.
func esNagios(line string, code int, cov *elastic.Coverage, covErr error) (string, int) {
	head, perf, _ := strings.Cut(line, " | ")
	newCode := esExitCode(code, cov, covErr)
	var extra string
	switch {
	case covErr != nil:
		extra = "; " + OneLine(Phrase(covErr))
	case cov != nil && cov.Drift:
		var bad []string
		for _, n := range cov.Nodes {
			if n.Drift() {
				bad = append(bad, n.Node)
			}
		}
		extra = "; elasticsearch nodes differ: " + strings.Join(bad, ", ")
	}
	if newCode != code {
		for _, s := range []string{"OK", "WARNING", "CRITICAL"} {
			head = strings.Replace(head, "ES-SERVICE-TOKENS "+s, "ES-SERVICE-TOKENS "+map[int]string{1: "WARNING", 2: "CRITICAL"}[newCode], 1)
		}
	}
	if cov != nil {
		missing := 0
		for _, n := range cov.Nodes {
			missing += len(n.Missing)
		}
		perf += fmt.Sprintf(" es_nodes=%d;;;0 es_tokens_missing=%d;;;0", len(cov.Nodes), missing)
	}
	return head + extra + " | " + perf, newCode
}

// agesNagios adds the ages to the plugin line: WARNING when a token is
// past the maximum (unless the line is CRITICAL already), and perfdata.
func agesNagios(line string, code int, a *Ages) (string, int) {
	if a == nil || a.Max == 0 {
		return line, code
	}
	head, perf, _ := strings.Cut(line, " | ")
	perf += fmt.Sprintf(" tokens_over_max_age=%d;;;0 tokens_unknown_age=%d;;;0", len(a.Over), len(a.Unknown))
	if !a.drift() {
		return head + " | " + perf, code
	}
	var what string
	if a.MetaErr != nil {
		what = "; token ages unknown: " + OneLine(a.MetaErr.Error())
	} else {
		var names []string
		for _, o := range a.Over {
			names = append(names, o.Token+" ("+meta.FormatAge(o.Age)+")")
		}
		what = fmt.Sprintf("; %s over max_token_age %s: %s", Plural(len(a.Over), "token"), a.MaxText, strings.Join(names, ", "))
	}
	if code == nagiosOK {
		code = nagiosWarning
		head = strings.Replace(head, "ES-SERVICE-TOKENS OK", "ES-SERVICE-TOKENS WARNING", 1)
	}
	return head + what + " | " + perf, code
}
