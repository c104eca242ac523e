package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// What the cluster must show is judged by the local file and by the nodes
// that really took the change: a failed node's diff asks for nothing, and a
// token the local file no longer has is never required to be present.
func TestWantOf(t *testing.T) {
	local := tokens.NewFile()
	local.Set("elastic/fleet-server/new", "{PBKDF2_STRETCH}x")
	local.Set("elastic/fleet-server/rehashed", "{PBKDF2_STRETCH}y")
	results := []Written{
		{Verified: true, Changes: &tokens.Diff{Added: []string{"elastic/fleet-server/new"}, Removed: []string{"elastic/fleet-server/gone"}}},
		{Verified: true, Changes: &tokens.Diff{Changed: []string{"elastic/fleet-server/rehashed"}, Removed: []string{"elastic/fleet-server/new"}}},
		{Status: "failed", Changes: &tokens.Diff{Added: []string{"elastic/fleet-server/failed-only"}}},
		{Verified: true},
	}
	w := WantOf(results, local)
	if got := strings.Join(w.Present, " "); got != "elastic/fleet-server/new elastic/fleet-server/rehashed" {
		t.Errorf("present %q", got)
	}
	if got := strings.Join(w.Absent, " "); got != "elastic/fleet-server/gone" {
		t.Errorf("absent %q", got)
	}
	if got := strings.Join(w.File, " "); got != "elastic/fleet-server/new elastic/fleet-server/rehashed" {
		t.Errorf("file %q", got)
	}
	// A failed push and an unchanged node changed nothing, but the cluster
	// must still serve exactly the local file.
	w = WantOf(results[2:], local)
	if len(w.Present) != 0 || len(w.Absent) != 0 || len(w.File) != 2 {
		t.Errorf("want %+v", w)
	}
}

func TestConfirmedWithoutOutcome(t *testing.T) {
	var none *Confirmation
	if !none.Confirmed() || !(&Confirmation{}).Confirmed() {
		t.Error("no cluster to ask must not fail the run")
	}
}

// The cluster is asked about the change from the latest rename on, and a
// node that was not pushed, or whose push failed, is named as the cause;
// one whose file is right, as one that has not reloaded it.
func TestTargetCountsFromTheLastRename(t *testing.T) {
	t0 := time.Now()
	nodes := []*inventory.Node{{Name: "es-1"}, {Name: "es-2"}, {Name: "es-3"}, {Name: "es-4"}}
	name := func(i int) esnode.Name { return esnode.Name{Node: nodes[i].Name, ESName: "n" + string(rune('1'+i))} }
	r := &run{nodes: nodes, written: []Written{
		{Verified: true, Status: "updated", Replaced: t0.Add(time.Second), ESName: name(0)},
		{Verified: true, Status: "updated", Replaced: t0, ESName: name(1)},
		{Status: "failed", ESName: name(2)},
		{}, // not written: named by its es_node_name
	}}
	nodes[3].ESNodeName = "n4"
	tg := r.target(r.names(4), 3)
	if !tg.Since.Equal(t0.Add(time.Second)) {
		t.Errorf("since %v, want the latest rename", tg.Since)
	}
	// A node read back right serves the wrong tokens only if its
	// Elasticsearch did not reload it.
	right := "its file is right; Elasticsearch there has not reloaded it: look at that node's log, or restart it"
	if !strings.Contains(tg.Causes["n3"].String(), "did not succeed (failed)") || !strings.Contains(tg.Causes["n4"].String(), "rollout stopped") ||
		tg.Causes["n1"].String() != right || tg.Causes["n2"].String() != right {
		t.Errorf("causes %v", tg.Causes)
	}
}
