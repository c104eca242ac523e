package output

import (
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/sync/check"
)

// A node whose file Elasticsearch cannot load is CRITICAL (it serves no
// file tokens), other drift is WARNING, and the metric says which.
func TestNagiosAndPrometheusUnloadable(t *testing.T) {
	local := []byte("")
	unloadable := check.Result{Node: "es-2", State: check.Drift, Differences: check.Compare([]byte("no colon\n"), local, nil)}
	mode := check.Result{Node: "es-3", State: check.Drift, Differences: []check.Difference{{What: "mode", Seen: "0644", Expected: "0660"}}}
	down := check.Result{Node: "es-4", State: check.Error, Failure: "unreachable"}
	ok := check.Result{Node: "es-1", State: check.InSync}

	for _, c := range []struct {
		results []check.Result
		state   int
		line    string
	}{
		{[]check.Result{ok, mode}, nagiosWarning, "ES-SERVICE-TOKENS WARNING - 1 of 2 nodes drifted: es-3 (mode)"},
		{[]check.Result{ok, unloadable}, nagiosCritical, "ES-SERVICE-TOKENS CRITICAL - 0 of 2 nodes failed, 1 unloadable, 1 drifted: es-2 (unloadable: serves no file tokens)"},
		{[]check.Result{ok}, nagiosOK, "ES-SERVICE-TOKENS OK - 1 node in sync"},
	} {
		sum := check.Summarize(c.results)
		if got := nagiosState(sum); got != c.state {
			t.Errorf("%v: state %d, want %d", c.line, got, c.state)
		}
		if got := nagios(sum, c.results); !strings.HasPrefix(got, c.line+" | ") {
			t.Errorf("nagios line %q, want prefix %q", got, c.line)
		}
	}

	results := []check.Result{ok, unloadable, mode, down}
	prom := string(prometheus(Checked{Report: check.Report{Results: results, Summary: check.Summarize(results)}}))
	for _, want := range []string{
		`es_service_tokens_node_loadable{node="es-1"} 1`,
		`es_service_tokens_node_loadable{node="es-2"} 0`,
		`es_service_tokens_node_loadable{node="es-3"} 1`,
	} {
		if !strings.Contains(prom, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, prom)
		}
	}
	if strings.Contains(prom, `es_service_tokens_node_loadable{node="es-4"}`) {
		t.Errorf("a node that could not be checked has no loadable sample:\n%s", prom)
	}
}
