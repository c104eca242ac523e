package output

// The reports of every format, byte for byte: each document or text below
// is rendered from a report that fills every field, and compared with the
// file testdata/golden/NAME. The files were written by the code before
// the output layer moved out of package main (issue 17), and moved here
// unchanged; they prove the move changed no byte of any format. Run with
// -update only when a format changes on purpose, and say so in the change.

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/sync/rotation"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden from the code")

func TestGoldenReports(t *testing.T) {
	for name, render := range goldenRenders() {
		t.Run(name, func(t *testing.T) {
			got := render(t)
			path := filepath.Join("testdata", "golden", name)
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s changed:\n--- got\n%s\n--- want\n%s", name, got, want)
			}
		})
	}
}

// goldenAt is the time every report is stamped with.
var goldenAt = time.Date(2026, 12, 2, 20, 30, 0, 0, time.UTC)

var goldenLocal = []byte("elastic/fleet-server/f1:{PBKDF2_STRETCH}10000$abc\nelastic/kibana/k1:{PBKDF2_STRETCH}10000$def\n")

func goldenPushOptions(t *testing.T, dryRun bool) push.Options {
	local := tokens.NewFile()
	local.Set("elastic/fleet-server/f1", "{PBKDF2_STRETCH}10000$abc")
	local.Set("elastic/kibana/k1", "{PBKDF2_STRETCH}10000$def")
	return push.Options{Request: push.Request{Data: goldenLocal, Local: local, DryRun: dryRun}}
}

func goldenOutcome() *elastic.Outcome {
	return &elastic.Outcome{URL: "https://127.0.0.1:9200", Confirmed: false, Seconds: 1.25, Requests: 7,
		Want: elastic.Want{Present: []string{"elastic/kibana/k1"}, Absent: []string{}, File: []string{"a", "b"}},
		Nodes: []elastic.NodeState{
			{Node: "node-1", InventoryNode: "es-1", Confirmed: true},
			{Node: "node-2", InventoryNode: "es-2", Lacks: []string{"elastic/kibana/k1"}, StillHolds: []string{"elastic/kibana/old"},
				Cause: remedy.Sprintf("outside %v: not written", remedy.Limit)},
		},
		FailedNodes: 1, Error: remedy.Sprintf("waited %v", remedy.ConfirmTimeout), Status: 503}
}

func goldenPushReport() push.Report {
	return push.Report{
		Results: []push.Result{
			{Node: "es-1", Host: "127.0.0.2", Port: 22, Status: push.Updated, SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				Owner: "root", Group: "elasticsearch", Mode: "0660", Seconds: 0.5, Notes: []remedy.Message{remedy.Text("removed a stale temporary file")},
				Warnings: []string{"took over a lock"}, Changes: &tokens.Diff{Added: []string{"elastic/kibana/k1"}, Removed: []string{}, Changed: []string{}}, Attempts: 1},
			{Node: "es-2", Host: "127.0.0.3", Port: 2222, Status: push.Conflict, Seconds: 0.25, Failure: failure.Conflict,
				Reason: remedy.Sprintf("the node's file was changed by someone else; not written: use %v to overwrite", remedy.Force), Attempts: 2,
				Changes: &tokens.Diff{Removed: []string{"elastic/kibana/other"}}},
			{Node: "es-3", Host: "127.0.0.4", Port: 22, Status: push.Skipped, Reason: remedy.Text("not touched: the rollout stopped at a failed gate")},
		},
		Gates:         []rollout.Gate{{Batch: 1, Nodes: []string{"es-1"}, Passed: true}, {Batch: 2, Nodes: []string{"es-2"}, Reason: "es-2 conflicted"}},
		ES:            &rollout.Confirmation{Outcome: goldenOutcome()},
		StillAccepted: []push.Unrevoked{{Node: "es-2", Tokens: []string{"elastic/kibana/other"}, Status: push.Conflict, Failure: "conflict"}},
	}
}

func goldenProof() *prove.Report {
	return &prove.Report{
		Proof: elastic.Proof{Token: "elastic/kibana/k1", Seconds: 2.5, Requests: 9, Nodes: []elastic.NodeProof{
			{Node: "es-1", URL: "https://127.0.0.2:9200", Verdict: elastic.Accepted, Seconds: 0.5, Requests: 1},
			{Node: "es-2", URL: "https://127.0.0.3:9200", Verdict: elastic.Rejected, Reason: "401 Unauthorized", Seconds: 2.5, Requests: 5},
			{Node: "es-3", URL: "https://127.0.0.4:9200", Verdict: elastic.Rejected, Reason: "401 Unauthorized", Seconds: 2.5, Requests: 2},
			{Node: "es-4", URL: "https://127.0.0.5:9200", Verdict: elastic.Unreachable, Reason: "connection refused", Seconds: 2.5, Requests: 1},
			{Node: "es-5", URL: "https://127.0.0.6:9200", Verdict: elastic.Rejected, Reason: "401 Unauthorized", Seconds: 2.5, Requests: 1},
		}},
		Listed:     map[string]bool{"es-2": true, "es-3": false},
		Without:    []string{"es-6"},
		AfterWrite: true,
	}
}

func goldenChecked() Checked {
	results := []check.Result{
		{Node: "es-1", Host: "127.0.0.2", Port: 22, State: check.InSync, Seen: check.Attributes{SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Owner: "root", Group: "elasticsearch", Mode: "0660"},
			Expected: check.Attributes{SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Owner: "root", Group: "elasticsearch", Mode: "0660"}, Seconds: 0.1, Attempts: 1},
		{Node: "es-2", Host: "127.0.0.3", Port: 22, State: check.Drift, Differences: []check.Difference{
			{What: "content", MissingOnNode: []string{"elastic/kibana/k1"}, ExtraOnNode: []string{"elastic/kibana/x"}, HashDiffers: []string{"elastic/fleet-server/f1"}},
			{What: "mode", Seen: "0644", Expected: "0660"},
			{What: "stale temporary file", Seen: ".service_tokens.tmp1", Detail: "3h old"},
			{What: "content", Detail: "line 2: no colon", Unloadable: true},
		}, Seen: check.Attributes{SHA256: "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", Owner: "root", Group: "root", Mode: "0644"}, Seconds: 0.2, Attempts: 1},
		{Node: "es-3", Host: "127.0.0.4", Port: 22, State: check.Error, Failure: failure.Unreachable, Reason: remedy.Sprintf("unreachable: no answer within %v", remedy.ConnectTimeout), Seconds: 10, Attempts: 3},
	}
	cov := &elastic.Coverage{URL: "https://127.0.0.1:9200", Scope: elastic.ScopeAnsweringNode, AnsweringNode: "node-1",
		Nodes: []elastic.CoverageNode{
			{Node: "node-1", InventoryNode: "es-1", InInventory: true, InCluster: true, Missing: []string{}, Extra: []string{}},
			{Node: "node-2", InventoryNode: "es-2", InInventory: true, InCluster: true, Missing: []string{"elastic/kibana/k1"}, Extra: []string{"elastic/kibana/x"}},
			{Node: "node-9", InInventory: false, InCluster: true, Missing: []string{}, Extra: []string{}},
			{Node: "es-7", InventoryNode: "es-7", InInventory: true, InCluster: false},
		},
		FailedNodes: 1, Drift: true, Requests: 4, Seconds: 0.75, Unjudged: []string{"node-5"}, Unnamed: []string{"es-8"}}
	ages := &Ages{Ages: &check.Ages{File: "/etc/es/service_tokens.meta", Ages: meta.Ages{Max: 90 * 24 * time.Hour,
		Known:   []meta.TokenAge{{Token: "elastic/fleet-server/f1", Age: 100 * 24 * time.Hour}, {Token: "elastic/kibana/k1", Age: time.Hour}},
		Over:    []meta.TokenAge{{Token: "elastic/fleet-server/f1", Age: 100 * 24 * time.Hour}},
		Unknown: []string{"elastic/kibana/x"}}},
		MaxText: "90d",
		Rotate:  map[string]string{"elastic/fleet-server/f1": "es-service-tokens -i cluster.yml --file /etc/es/service_tokens rotate elastic/fleet-server f1"}}
	return Checked{Report: check.Report{Results: results, Summary: check.Summarize(results), Coverage: cov, CheckedAt: goldenAt, Seconds: 10.5},
		File: "/etc/es/service_tokens", SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Ages: ages}
}

func goldenDelivery() deliver.Report {
	return deliver.Report{Activated: true, Results: []deliver.Result{
		{Consumer: "kb-1", Host: "127.0.1.2", Method: inventory.MethodKibanaKeystore, Token: "elastic/kibana/k1", Store: deliver.StoreNew, Restarted: true, Healthy: true, HealthAttempts: 2,
			Phases: []deliver.Phase{{Step: deliver.StepConnect, Seconds: 0.1}, {Step: deliver.StepStore, Seconds: 0.41}, {Step: deliver.StepRestart, Seconds: 0.1}, {Step: deliver.StepHealth, Seconds: 1.2}}, Seconds: 1.81},
		{Consumer: "kb-2", Host: "127.0.1.3", Method: inventory.MethodEnvFile, Token: "elastic/kibana/k1", Store: deliver.StoreNew, Restarted: true, HealthAttempts: 5,
			Step: deliver.StepHealth, Failure: failure.Refused, Reason: "health: no success in 60s\n(last: exited 1)", Phases: []deliver.Phase{{Step: deliver.StepStore, Seconds: 0.3}}, Seconds: 60.3},
		{Consumer: "kb-3", Host: "127.0.1.4", Method: inventory.MethodCommand, Store: deliver.StoreNew, Step: deliver.StepRestart, Reason: "not restarted: another consumer's store failed"},
		{Consumer: "kb-4", Host: "127.0.1.5", Method: inventory.MethodFile, Store: deliver.StoreUnknown, Step: deliver.StepStore, Failure: failure.ConnectionLost, Reason: "the connection closed"},
	}}
}

func goldenRotation() (rotate.StepResult, rotation.Detail) {
	rep := goldenPushReport()
	listed := goldenOutcome()
	d := goldenDelivery()
	return rotate.StepResult{Step: rotate.StepPublish, Start: goldenAt, Seconds: 3.5, Err: remedy.Errorf(remedy.Force, "push: 1 conflict: use %v", remedy.Force)},
		rotation.Detail{Push: &rep, Proof: goldenProof(), Listed: listed, Delivery: &d, TokenFile: "/root/k.token"}
}

func goldenRenders() map[string]func(t *testing.T) []byte {
	text := func(f func(b *bytes.Buffer)) []byte {
		var b bytes.Buffer
		f(&b)
		return b.Bytes()
	}
	doc := func(t *testing.T, v any) []byte {
		var b bytes.Buffer
		if err := JSON(&b, v); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	end := PushEnd{Undone: &Undone{Note: "NOT CREATED: every node refused", Remedies: []string{"pull it", "or push"}},
		Finish: "es-service-tokens -i cluster.yml push --limit es-2", Complete: "complete the change on es-2", Proof: goldenProof()}
	return map[string]func(t *testing.T) []byte{
		"push.json": func(t *testing.T) []byte {
			var b bytes.Buffer
			if err := Push(&b, true, "/etc/es/service_tokens", goldenPushOptions(t, false).Request, goldenPushReport(), end); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		},
		"push.txt": func(t *testing.T) []byte {
			var b bytes.Buffer
			if err := Push(&b, false, "/etc/es/service_tokens", goldenPushOptions(t, false).Request, goldenPushReport(), end); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		},
		"push-dry-run.txt": func(t *testing.T) []byte {
			var b bytes.Buffer
			rep := goldenPushReport()
			rep.ES = &rollout.Confirmation{Outcome: &elastic.Outcome{URL: "https://x:9200", Confirmed: true, Scope: elastic.ScopeAnsweringNode, AnsweringNode: "n1", Want: elastic.Want{Absent: []string{"a"}}, Requests: 2}}
			if err := Push(&b, false, "/etc/es/service_tokens", goldenPushOptions(t, true).Request, rep, PushEnd{}); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		},
		"check.json": func(t *testing.T) []byte {
			f := goldenChecked()
			f.CoverageErr = remedy.Errorf(remedy.ESURL, "no answer from %v", remedy.ESURL)
			return doc(t, checkJSON(f))
		},
		"check.txt": func(t *testing.T) []byte {
			return text(func(b *bytes.Buffer) {
				f := goldenChecked()
				printCheck(b, f)
				printCoverage(b, f.Coverage, nil, map[string]check.State{"es-1": check.InSync, "es-2": check.Drift})
				printAges(b, f.Ages)
			})
		},
		"check.nagios": func(t *testing.T) []byte {
			f := goldenChecked()
			line, code := esNagios(nagios(f.Summary, f.Results), nagiosState(f.Summary), f.Coverage, nil)
			line, code = agesNagios(line, code, f.Ages)
			return []byte(line + "\n" + string(rune('0'+code)) + "\n")
		},
		"check.prom": func(t *testing.T) []byte {
			f := goldenChecked()
			return agesPrometheus(esPrometheus(prometheus(f), f.Coverage, nil), f.Ages)
		},
		"proof.json": func(t *testing.T) []byte { return doc(t, proofOf(goldenProof())) },
		"proof.txt": func(t *testing.T) []byte {
			return text(func(b *bytes.Buffer) { printProof(b, goldenProof()) })
		},
		"delivery.json": func(t *testing.T) []byte { return doc(t, deliveryOf("elastic/kibana/k1", goldenDelivery())) },
		"delivery.txt": func(t *testing.T) []byte {
			return text(func(b *bytes.Buffer) { printDelivery(b, "elastic/kibana/k1", goldenDelivery()) })
		},
		"rotate-step.json": func(t *testing.T) []byte {
			st, d := goldenRotation()
			return doc(t, rotateReport{Command: "rotate", File: "/etc/es/service_tokens", Rotations: []rotationJSON{{
				Token: "elastic/kibana/k1", New: "elastic/kibana/k1-20261202T203000Z", Outcome: "failed", Resumed: true, Found: "created",
				Seconds: 4, Steps: []rotationStepJSON{stepJSONOf(st, d), stepJSONOf(rotate.StepResult{Step: rotate.StepCreate, Seconds: 0.01}, rotation.Detail{})},
				Error: "push: 1 conflict", Next: "run the same command again"}}})
		},
		"verify.json": func(t *testing.T) []byte {
			auth := authenticationJSON(elastic.Authentication{URL: "https://x:9200", Node: "node-1", Username: "elastic/kibana", Realm: "_service_account", TokenName: "k1", TokenType: "_service_account_file"})
			return doc(t, verifyResult{Valid: false, QualifiedName: "elastic/kibana/k1", Reason: "DISAGREE", File: "/etc/es/service_tokens",
				Elasticsearch: &liveResult{Valid: false, authenticationJSON: &auth, Error: "401", Status: 401}, AllNodes: proofOf(goldenProof())})
		},
		"steps.json": func(t *testing.T) []byte {
			var rec steps.Recorder
			rec.Record("es-1", "connect", 4*time.Millisecond)
			rec.Record("es-1", "auth", 31*time.Millisecond)
			done, _ := rec.Of("es-1")
			return doc(t, stepsJSON{"es-1", each(done, func(s steps.Step) stepJSON { return stepJSON(s) })})
		},
		"nodes.json": func(t *testing.T) []byte { return goldenNodes(t, true) },
		"nodes.txt":  func(t *testing.T) []byte { return goldenNodes(t, false) },
		"ages.json": func(t *testing.T) []byte {
			a := goldenChecked().Ages
			a.MetaErr = &store.MetaError{Path: "/etc/es/service_tokens.meta", Line: 3, Err: os.ErrInvalid}
			return doc(t, agesJSONOf(a))
		},
	}
}

// goldenNodes renders the nodes command's report of an inventory that sets
// every key nodes shows.
func goldenNodes(t *testing.T, asJSON bool) []byte {
	dir := t.TempDir()
	for _, f := range []string{"id_ed25519", "known_hosts", "ca.pem", "api.key", "kb-key"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	inv := `local_file: /etc/es/service_tokens
defaults:
  user: admin
  identity_file: ` + dir + `/id_ed25519
  known_hosts: ` + dir + `/known_hosts
  connect_timeout: 5
elasticsearch:
  url: https://127.0.0.1:9200
  ca: ` + dir + `/ca.pem
  api_key_file: ` + dir + `/api.key
  confirm_timeout: 20s
  node_url: https://{host}:9200
nodes:
  - name: es-1
    host: 127.0.0.2
    port: 2222
    es_node_name: node-1
    jump: root@127.0.0.9:22
  - name: es-2
    host: 127.0.0.3
    sudo: true
    backups: 3
    owner: root
    group: elasticsearch
    mode: "0640"
    es_http_url: https://es-2.example:9200
groups:
  hot: [es-1]
consumers:
  - name: kb-1
    token: elastic/kibana/kibana-1
    host: 127.0.1.2
    kibana_keystore: true
    restart: systemctl restart kibana
    health: curl -fsk https://localhost:5601/api/status
    health_timeout: 90s
  - name: fleet-1
    token: elastic/fleet-server/f1
    host: 127.0.1.3
    env_file: /etc/default/fleet
    key: FLEET_SERVER_SERVICE_TOKEN
    mode: "0600"
`
	path := filepath.Join(dir, "cluster.yml")
	if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": dir}
	loaded, err := inventory.Load(path, inventory.Options{SSHConfig: filepath.Join(dir, "none"), Home: dir, User: "nobody", Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Nodes(&out, asJSON, loaded, loaded.Nodes); err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(out.Bytes(), []byte(dir), []byte("$DIR"))
}
