package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
)

// confirmBench measures how long create -i waits for Elasticsearch to
// confirm, with every simulated node reloading every interval (Elasticsearch's
// resource.reload.interval.high) at a random phase, as nodes started at
// different times do. Per run it reports:
//   - seconds: what the tool reports, from its last rename to confirmation;
//   - reload wait: from that rename to the last node's reload (the floor:
//     no client can confirm earlier);
//   - detection: from the last reload to the tool's exit (what polling
//     adds);
//   - requests: API requests the confirmation made.
func (r *runner) confirmBench(n, runs int, intervals []time.Duration) {
	for _, iv := range intervals {
		fmt.Printf("\n== confirmation: %d nodes reloading every %s at random phases, %d creates ==\n", n, iv, runs)
		mark := len(r.cleanup)
		work, es, names := r.confirmCluster(n, iv)
		var secs, waits, detect, reqs []float64
		for k := 0; k < runs; k++ {
			seconds, requests, end := r.confirmedCreate(work, fmt.Sprintf("t%d", k))
			var last time.Time
			for _, name := range names {
				if t := es.LastChange(name); t.After(last) {
					last = t
				}
			}
			rename := end.Add(-time.Duration(seconds * float64(time.Second)))
			secs = append(secs, seconds)
			waits = append(waits, last.Sub(rename).Seconds())
			detect = append(detect, end.Sub(last).Seconds())
			reqs = append(reqs, float64(requests))
			// Not synchronisation: the next create lands at a new point
			// of every node's cycle.
			time.Sleep(time.Duration(rand.Int64N(int64(iv))))
		}
		fmt.Printf("  %-34s %s\n", "seconds (last rename -> confirmed)", spread(secs))
		fmt.Printf("  %-34s %s\n", "reload wait (rename -> last load)", spread(waits))
		fmt.Printf("  %-34s %s\n", "detection (last load -> confirmed)", spread(detect))
		fmt.Printf("  %-34s %s\n", "API requests per confirmation", spread(reqs))
		r.finishFrom(mark)
	}
}

// confirmCluster starts n sshd nodes and a fake cluster over them whose
// nodes reload every iv at random phases, and writes cluster.yml with an
// elasticsearch section into the returned directory.
func (r *runner) confirmCluster(n int, iv time.Duration) (string, *estest.Cluster, []string) {
	c := sshdtest.Start(r, sshdtest.Options{Nodes: n, Node: func(_ int, o *sshdtest.NodeOptions) { o.InternalSFTP = true }})
	r.cluster = c
	key := estest.EncodeAPIKey("bench", "bench-secret")
	opts := estest.Options{APIKey: key}
	var names []string
	for i, node := range c.Nodes {
		names = append(names, fmt.Sprintf("es-node-%d", i+1))
		opts.Nodes = append(opts.Nodes, estest.NodeSpec{Name: names[i], File: node.HostPath(), Reload: iv,
			Phase: time.Duration(rand.Int64N(int64(iv)))})
	}
	es, err := estest.Start(opts)
	if err != nil {
		r.Fatalf("fake cluster: %v", err)
	}
	r.Cleanup(es.Close)
	work := r.TempDir()
	writeFile(r, filepath.Join(work, "ca.pem"), string(es.CAPEM))
	if err := os.WriteFile(filepath.Join(work, "api_key"), []byte(key+"\n"), 0o600); err != nil {
		r.Fatalf("%v", err)
	}
	inv := r.inventory()
	for i := range c.Nodes {
		inv = strings.Replace(inv, fmt.Sprintf("{name: es-%d,", i+1), fmt.Sprintf("{name: es-%d, es_node_name: es-node-%d,", i+1, i+1), 1)
	}
	inv += fmt.Sprintf("elasticsearch:\n  url: %s\n  ca: ca.pem\n  api_key_file: api_key\n  confirm_timeout: %s\n", es.URL, 3*iv+5*time.Second)
	writeFile(r, filepath.Join(work, "cluster.yml"), inv)
	return work, es, names
}

// confirmedCreate runs one create -i and returns the confirmation's
// seconds and requests as the tool reports them, and when it ended.
func (r *runner) confirmedCreate(work, name string) (float64, int, time.Time) {
	out, end := r.create(work, name)
	var rep struct {
		Command       string `json:"command"`
		Elasticsearch struct {
			Confirmed bool    `json:"confirmed"`
			Seconds   float64 `json:"seconds"`
			Requests  int     `json:"requests"`
		} `json:"elasticsearch"`
	}
	// create -i prints the token's object, then the push's.
	dec := json.NewDecoder(bytes.NewReader(out))
	var err error
	for rep.Command != "push" && err == nil {
		err = dec.Decode(&rep)
	}
	if err != nil || !rep.Elasticsearch.Confirmed {
		r.Fatalf("create %s not confirmed (%v): %s", name, err, out)
	}
	return rep.Elasticsearch.Seconds, rep.Elasticsearch.Requests, end
}

// create runs one create -i and returns its JSON and when it ended.
func (r *runner) create(work, name string) ([]byte, time.Time) {
	cmd := exec.Command(r.bin, "-i", "cluster.yml", "--file", "service_tokens", "--format", "json", "create", "elastic/fleet-server", name)
	cmd.Dir = work
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	end := time.Now()
	if err != nil {
		r.Fatalf("create %s: %v\n%s%s", name, err, out.String(), errb.String())
	}
	return out.Bytes(), end
}

// spread is min / median / max of one run's samples.
func spread(v []float64) string {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return fmt.Sprintf("min %.2f  median %.2f  max %.2f  (n=%d)", s[0], median(s), s[len(s)-1], len(s))
}
