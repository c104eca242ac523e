package elastic

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Want is what a confirmation waits for, by qualified token name
// (namespace/service/name).
type Want struct {
	Present []string // every judged node must list these
	Absent  []string // no judged node may list these
}

// Empty reports whether there is nothing to wait for.
func (w Want) Empty() bool { return len(w.Present) == 0 && len(w.Absent) == 0 }

// Target names the Elasticsearch nodes concerned.
type Target struct {
	// Inventory maps Elasticsearch node names to inventory node names.
	Inventory map[string]string
	// Only, when not nil, limits the judgement to these Elasticsearch
	// nodes (a rollout batch). Otherwise every node of the cluster and
	// every node of Inventory is judged.
	Only []string
	// Causes gives, by Elasticsearch node name, a likelier cause than the
	// default for a node that does not confirm (its push failed, ...).
	Causes map[string]remedy.Message
	// Outside are the Elasticsearch names of inventory nodes the run does
	// not reach (outside the run's limit). Coverage only: check does not judge them, while
	// Confirm does (the cluster must accept the token everywhere) and names
	// them through Causes.
	Outside map[string]bool
	// Unnamed are inventory nodes the run does not reach whose
	// Elasticsearch names are unknown: any cluster node missing from
	// Inventory may be one of them.
	Unnamed []string
	// Since is when the last file was put in place; Outcome.Seconds counts
	// from it, because that is when the nodes could start to reload. Zero:
	// from the start of Confirm.
	Since time.Time
}

// NodeState is one Elasticsearch node at the end of a confirmation.
type NodeState struct {
	Node          string
	InventoryNode string
	Confirmed     bool
	Lacks         []string
	StillHolds    []string
	Cause         remedy.Message // may name the caller's options
}

// Outcome is a confirmation's result: the "elasticsearch" object of push,
// create and delete (docs/elasticsearch.md).
type Outcome struct {
	URL       string
	Confirmed bool
	// Seconds runs from Target.Since (the last rename) to the end.
	Seconds       float64
	Requests      int
	Scope         string
	AnsweringNode string
	Want          Want
	Nodes         []NodeState
	FailedNodes   int
	Error         remedy.Message
	// Status is the HTTP status of the error, 0 when none.
	Status int
}

// Poll intervals: quick at first (a node may reload at once), then twice a
// second. internal/bench -confirm measured the cost of a slower cap: with
// 1 s it added a median 0.9 s after the last node's reload (nearly doubling
// a 1 s reload interval) to save 3 requests of 8 at a 5 s interval.
const (
	firstPoll = 250 * time.Millisecond
	maxPoll   = 500 * time.Millisecond
)

// Confirm polls the credentials API until every judged node lists each
// token of want.Present and none lists a token of want.Absent, with no
// node failing to answer, or until timeout after t.Since.
func (c *Client) Confirm(ctx context.Context, want Want, t Target, timeout time.Duration) Outcome {
	start := t.Since
	if start.IsZero() {
		start = time.Now()
	}
	before := c.Requests()
	out := Outcome{URL: c.URL(), Want: want, Nodes: []NodeState{}}
	// The timeout runs from the last rename too, as Seconds does; at least
	// one round is asked even when the push itself took longer.
	deadline := start.Add(timeout)
	if floor := time.Now().Add(maxPoll); deadline.Before(floor) {
		deadline = floor
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c.confirm(ctx, want, t, &out)
	out.Seconds = time.Since(start).Seconds()
	out.Requests = c.Requests() - before
	return out
}

// confirm fills out: round after round until confirmed, or the error that
// stopped it.
func (c *Client) confirm(ctx context.Context, want Want, t Target, out *Outcome) {
	members, err := c.Nodes(ctx)
	if err != nil {
		out.setError(err)
		return
	}
	inCluster := set(members)
	judged := judgedNodes(members, inCluster, t)
	byPrincipal := group(want)
	interval := firstPoll
	for {
		r, err := c.round(ctx, byPrincipal)
		if err != nil {
			if ctx.Err() == nil || len(out.Nodes) == 0 {
				out.setError(err)
			} // else the deadline came mid-round: report the last round
			return
		}
		nodes := judged
		if r.scope == ScopeAnsweringNode {
			nodes = []string{r.answering}
		}
		out.FailedNodes, out.Scope, out.AnsweringNode = r.failed, r.scope, r.answering
		out.Nodes = judge(nodes, want, r.lists, inCluster, t)
		out.Confirmed = r.failed == 0
		for _, n := range out.Nodes {
			out.Confirmed = out.Confirmed && n.Confirmed
		}
		out.Error = remedy.Message{}
		if r.failed > 0 && len(r.failures) > 0 {
			out.Error = remedy.Text("nodes failed to answer: " + strings.Join(r.failures, "; "))
		}
		if out.Confirmed || !wait(ctx, interval) {
			return
		}
		interval = min(2*interval, maxPoll)
	}
}

// judgedNodes are the nodes a confirmation judges: t.Only when set (a
// rollout batch), else every cluster node and every inventory node.
func judgedNodes(members []string, inCluster map[string]bool, t Target) []string {
	judged := t.Only
	if judged == nil {
		judged = members
		for es := range t.Inventory {
			if !inCluster[es] {
				judged = append(judged, es)
			}
		}
	}
	return sortedUnique(judged)
}

// round is one pass over the principals concerned.
type round struct {
	lists     map[string][]string // qualified token -> nodes listing it
	failed    int
	failures  []string
	scope     string
	answering string
}

func (c *Client) round(ctx context.Context, principals map[string]bool) (round, error) {
	r := round{lists: map[string][]string{}, scope: ScopeCluster}
	for _, p := range sortedKeys(principals) {
		cr, err := c.Credentials(ctx, p)
		if err != nil {
			return r, err
		}
		r.failed += cr.Failed
		r.failures = append(r.failures, cr.Failures...)
		r.scope, r.answering = cr.Scope, cr.AnsweringNode
		for name, nodes := range cr.FileTokens {
			r.lists[p+"/"+name] = nodes
		}
	}
	return r, nil
}

// setError records the error that ended a confirmation.
func (o *Outcome) setError(err error) {
	o.Error = remedy.Sprintf("%v", err)
	var ee *Error
	if errors.As(err, &ee) {
		o.Status = ee.Status
	}
}

// wait sleeps d; false when ctx ended first.
func wait(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// judge decides each node from one round of answers.
func judge(nodes []string, want Want, lists map[string][]string, inCluster map[string]bool, t Target) []NodeState {
	var out []NodeState
	for _, es := range nodes {
		st := NodeState{Node: es, InventoryNode: t.Inventory[es]}
		if !inCluster[es] {
			st.Cause = remedy.Text("no node of this name in the cluster: set es_node_name to its node.name")
			if u := unmapped(inCluster, t.Inventory); len(u) > 0 {
				st.Cause = remedy.Text("no node of this name in the cluster (which has " + strings.Join(u, ", ") + ", named by no inventory node): set es_node_name to its node.name")
			}
			out = append(out, st)
			continue
		}
		for _, tok := range want.Present {
			if !contains(lists[tok], es) {
				st.Lacks = append(st.Lacks, tok)
			}
		}
		for _, tok := range want.Absent {
			if contains(lists[tok], es) {
				st.StillHolds = append(st.StillHolds, tok)
			}
		}
		st.Confirmed = len(st.Lacks) == 0 && len(st.StillHolds) == 0
		if !st.Confirmed {
			switch {
			case !t.Causes[es].IsZero():
				st.Cause = t.Causes[es]
			case st.InventoryNode == "":
				st.Cause = t.notInInventory()
			case len(st.Lacks) > 0:
				st.Cause = remedy.Text("its file did not reload or failed to parse: look for service_tokens in its log")
			default:
				st.Cause = remedy.Text("its file did not reload: look for service_tokens in its log")
			}
		}
		out = append(out, st)
	}
	return out
}

// unmapped are the cluster's nodes no inventory node names.
func unmapped(inCluster map[string]bool, inventory map[string]string) []string {
	var out []string
	for es := range inCluster {
		if _, ok := inventory[es]; !ok {
			out = append(out, es)
		}
	}
	sort.Strings(out)
	return out
}

// notInInventory is the cause for a cluster node no inventory node maps to.
func (t Target) notInInventory() remedy.Message {
	if len(t.Unnamed) > 0 {
		return remedy.Sprintf("not in the inventory, or one of the nodes outside %v (%s) whose Elasticsearch name is unknown: set es_node_name for them", remedy.Limit, strings.Join(t.Unnamed, ", "))
	}
	return remedy.Text("not in the inventory: it never gets the file; add it (es_node_name) and push")
}

// group splits qualified token names by principal, which is what the
// credentials API is asked about.
func group(w Want) map[string]bool {
	g := map[string]bool{}
	for _, tok := range append(append([]string(nil), w.Present...), w.Absent...) {
		if p, _, ok := tokens.SplitQualifiedName(tok); ok {
			g[p] = true
		}
	}
	return g
}

func set(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedUnique(s []string) []string {
	return sortedKeys(set(s))
}
