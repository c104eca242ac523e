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
	// File, when not nil, is the whole local file: every judged node must
	// list exactly these tokens, and no other of any service account the
	// cluster has. Present and Absent then only say what the run changed.
	// Tokens of accounts the cluster does not have are not judged.
	File []string
}

// Empty reports whether there is nothing to wait for.
func (w Want) Empty() bool { return len(w.Present) == 0 && len(w.Absent) == 0 && w.File == nil }

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
	tl := newTally(want)
	interval := firstPoll
	for {
		err := c.round(ctx, tl)
		if err != nil {
			if ctx.Err() == nil || len(out.Nodes) == 0 {
				out.setError(err)
			} // else the deadline came mid-round: report the last round
			return
		}
		nodes := judged
		if tl.scope == ScopeAnsweringNode {
			nodes = []string{tl.answering}
		}
		failed, failures := tl.failedNodes()
		out.FailedNodes, out.Scope, out.AnsweringNode = failed, tl.scope, tl.answering
		out.Nodes = judge(nodes, tl.wanted(want), tl.lists, inCluster, t)
		out.Confirmed = failed == 0
		for _, n := range out.Nodes {
			out.Confirmed = out.Confirmed && n.Confirmed
		}
		out.Error = remedy.Message{}
		if len(failures) > 0 {
			out.Error = remedy.Text("nodes failed to answer: " + strings.Join(failures, "; "))
		}
		if out.Confirmed || !wait(ctx, interval) {
			return
		}
		tl.settle(out.Nodes)
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

// tally is what the cluster has said, by service account. Every account
// concerned is asked in the first round; after that only those whose last
// answer still left a judged node wrong or had failed nodes: a node that
// lists an account's tokens right keeps them right, since its file is
// already the one being confirmed.
type tally struct {
	// required are the accounts of the tokens the run changed: a cluster
	// without one of them is an error. The others are asked for
	// exactness alone and skipped where the cluster lacks them.
	required  map[string]bool
	pending   map[string]bool     // asked in the next round
	answered  map[string]bool     // accounts the cluster has
	lists     map[string][]string // qualified token -> nodes listing it
	failed    map[string]int      // account -> nodes that failed its last answer
	failures  map[string][]string // account -> why, as the cluster said
	scope     string
	answering string
}

func newTally(want Want) *tally {
	tl := &tally{required: group(want.Present, want.Absent), pending: map[string]bool{}, answered: map[string]bool{},
		lists: map[string][]string{}, failed: map[string]int{}, failures: map[string][]string{}, scope: ScopeCluster}
	for p := range tl.required {
		tl.pending[p] = true
	}
	if want.File != nil {
		for _, a := range tokens.Accounts() {
			tl.pending[a.Principal] = true
		}
		for p := range group(want.File) {
			tl.pending[p] = true
		}
	}
	return tl
}

// round asks the cluster about every pending account.
func (c *Client) round(ctx context.Context, tl *tally) error {
	for _, p := range sortedKeys(tl.pending) {
		cr, err := c.Credentials(ctx, p)
		var ee *Error
		if !tl.required[p] && errors.As(err, &ee) && (ee.Status == 400 || ee.Status == 404) {
			delete(tl.pending, p) // an account this version does not have
			continue
		}
		if err != nil {
			return err
		}
		tl.answered[p], tl.failed[p], tl.failures[p] = true, cr.Failed, cr.Failures
		tl.scope, tl.answering = cr.Scope, cr.AnsweringNode
		for tok := range tl.lists {
			if strings.HasPrefix(tok, p+"/") {
				delete(tl.lists, tok)
			}
		}
		for name, nodes := range cr.FileTokens {
			tl.lists[p+"/"+name] = nodes
		}
	}
	return nil
}

// failedNodes is how many nodes failed to answer (the most of any
// account's last answer: they are the same nodes), and why.
func (tl *tally) failedNodes() (int, []string) {
	n, seen := 0, map[string]bool{}
	var why []string
	for _, p := range sortedKeys(tl.answered) {
		n = max(n, tl.failed[p])
		for _, f := range tl.failures[p] {
			if !seen[f] {
				seen[f] = true
				why = append(why, f)
			}
		}
	}
	return n, why
}

// wanted is want with File resolved against what the cluster said: every
// local token of an account it has must be listed, and every token it
// lists that the local file lacks must not be.
func (tl *tally) wanted(want Want) Want {
	if want.File == nil {
		return want
	}
	file := set(want.File)
	w := Want{File: want.File}
	for _, tok := range want.File {
		if p, _, ok := tokens.SplitQualifiedName(tok); ok && tl.answered[p] {
			w.Present = append(w.Present, tok)
		}
	}
	for tok := range tl.lists {
		if !file[tok] {
			w.Absent = append(w.Absent, tok)
		}
	}
	sort.Strings(w.Absent)
	return w
}

// settle keeps pending only the accounts that some node still has wrong,
// or whose answer had failures.
func (tl *tally) settle(nodes []NodeState) {
	tl.pending = map[string]bool{}
	for p, f := range tl.failed {
		if f > 0 {
			tl.pending[p] = true
		}
	}
	for _, n := range nodes {
		for p := range group(n.Lacks, n.StillHolds) {
			tl.pending[p] = true
		}
	}
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

// group is the principals of qualified token names, which is what the
// credentials API is asked about.
func group(lists ...[]string) map[string]bool {
	g := map[string]bool{}
	for _, l := range lists {
		for _, tok := range l {
			if p, _, ok := tokens.SplitQualifiedName(tok); ok {
				g[p] = true
			}
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
