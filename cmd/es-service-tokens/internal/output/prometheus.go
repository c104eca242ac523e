// check --prometheus-textfile: node_exporter textfile metrics.
package output

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
)

// prometheus renders node_exporter textfile metrics.
func prometheus(rep Checked) []byte {
	var b bytes.Buffer
	gauge := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	bit := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	results := append([]check.Result(nil), rep.Results...)
	sort.Slice(results, func(i, j int) bool { return results[i].Node < results[j].Node })
	gauge("es_service_tokens_node_in_sync", "1 if the node's service_tokens file matches the local file in content, owner, group and mode.")
	for _, r := range results {
		fmt.Fprintf(&b, "es_service_tokens_node_in_sync{node=%s} %d\n", promLabel(r.Node), bit(r.State == check.InSync))
	}
	gauge("es_service_tokens_node_reachable", "1 if the node could be checked.")
	for _, r := range results {
		fmt.Fprintf(&b, "es_service_tokens_node_reachable{node=%s} %d\n", promLabel(r.Node), bit(r.State != check.Error))
	}
	gauge("es_service_tokens_node_loadable", "1 if Elasticsearch can load the node's file (0: it serves no file tokens); absent for nodes that could not be checked.")
	for _, r := range results {
		if ok, known := r.Loadable(); known {
			fmt.Fprintf(&b, "es_service_tokens_node_loadable{node=%s} %d\n", promLabel(r.Node), bit(ok))
		}
	}
	gauge("es_service_tokens_nodes_total", "Nodes checked.")
	fmt.Fprintf(&b, "es_service_tokens_nodes_total %d\n", rep.Summary.Total)
	gauge("es_service_tokens_nodes_drifted", "Nodes whose file differs.")
	fmt.Fprintf(&b, "es_service_tokens_nodes_drifted %d\n", rep.Summary.Drifted)
	gauge("es_service_tokens_nodes_failed", "Nodes that could not be checked.")
	fmt.Fprintf(&b, "es_service_tokens_nodes_failed %d\n", rep.Summary.Failed)
	gauge("es_service_tokens_check_timestamp_seconds", "When the check ran, in Unix time.")
	fmt.Fprintf(&b, "es_service_tokens_check_timestamp_seconds %d\n", rep.CheckedAt.Unix())
	return b.Bytes()
}

func promLabel(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

// esPrometheus adds the cluster view to the textfile metrics.
func esPrometheus(b []byte, cov *elastic.Coverage, covErr error) []byte {
	var s strings.Builder
	s.Write(b)
	gauge := func(name, help string) {
		fmt.Fprintf(&s, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	gauge("es_service_tokens_es_reachable", "1 if the Elasticsearch API answered.")
	if covErr != nil || cov == nil {
		fmt.Fprintln(&s, "es_service_tokens_es_reachable 0")
		return []byte(s.String())
	}
	fmt.Fprintln(&s, "es_service_tokens_es_reachable 1")
	gauge("es_service_tokens_es_node_tokens_missing", "Tokens of the local file the Elasticsearch node has not loaded.")
	for _, n := range cov.Nodes {
		fmt.Fprintf(&s, "es_service_tokens_es_node_tokens_missing{node=%s} %d\n", promLabel(n.Node), len(n.Missing))
	}
	gauge("es_service_tokens_es_node_tokens_extra", "Tokens the Elasticsearch node has loaded that the local file lacks.")
	for _, n := range cov.Nodes {
		fmt.Fprintf(&s, "es_service_tokens_es_node_tokens_extra{node=%s} %d\n", promLabel(n.Node), len(n.Extra))
	}
	gauge("es_service_tokens_es_node_in_inventory", "1 if the Elasticsearch node is in the inventory.")
	for _, n := range cov.Nodes {
		v := 0
		if n.InInventory {
			v = 1
		}
		fmt.Fprintf(&s, "es_service_tokens_es_node_in_inventory{node=%s} %d\n", promLabel(n.Node), v)
	}
	return []byte(s.String())
}

// agesPrometheus adds the token age metrics: an age for every token whose
// age is known, whether or not a maximum is set.
func agesPrometheus(b []byte, a *Ages) []byte {
	if a == nil {
		return b
	}
	var s strings.Builder
	s.Write(b)
	gauge := func(name, help string) {
		fmt.Fprintf(&s, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	if len(a.Known) > 0 {
		gauge("es_service_tokens_token_age_seconds", "Age of each token whose creation es-service-tokens recorded.")
		for _, k := range a.Known {
			fmt.Fprintf(&s, "es_service_tokens_token_age_seconds{token=%s} %d\n", promLabel(k.Token), int64(k.Age/time.Second))
		}
	}
	gauge("es_service_tokens_tokens_unknown_age", "Tokens whose age is not known (not created by es-service-tokens, or the metadata file cannot be read).")
	fmt.Fprintf(&s, "es_service_tokens_tokens_unknown_age %d\n", len(a.Unknown))
	if a.Max > 0 {
		gauge("es_service_tokens_max_token_age_seconds", "max_token_age: older tokens count as drift.")
		fmt.Fprintf(&s, "es_service_tokens_max_token_age_seconds %d\n", int64(a.Max/time.Second))
		gauge("es_service_tokens_tokens_over_max_age", "Tokens older than max_token_age.")
		fmt.Fprintf(&s, "es_service_tokens_tokens_over_max_age %d\n", len(a.Over))
	}
	return []byte(s.String())
}
