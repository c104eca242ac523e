package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
)

func TestCreateRecordsTheFileBeforeAndAfter(t *testing.T) {
	args := []string{"elastic/kibana", "k1"}
	r := Begin("create", args, "hot", true)
	args[0] = "changed later"
	r.LocalChange("/etc/es/service_tokens", "elastic/kibana/k1", nil, []byte("a:b\n"))
	r.Pushed("/etc/es/service_tokens", []byte("a:b\n"), []Node{{Name: "es-1", Result: "updated"}}, "1 updated")
	r.End(time.Date(2026, 11, 30, 1, 2, 3, 0, time.FixedZone("x", 3600)), 0, "")
	if r.Args[0] != "elastic/kibana" {
		t.Errorf("args %v: the record must keep its own copy", r.Args)
	}
	if r.SHA256Before != "" || r.SHA256After != digest.SHA256([]byte("a:b\n")) {
		t.Errorf("sha256 before %q after %q: no file before, the new file after", r.SHA256Before, r.SHA256After)
	}
	if r.Token != "elastic/kibana/k1" || r.Limit != "hot" || !r.Force || len(r.Nodes) != 1 {
		t.Errorf("record %+v", r)
	}
	if r.Outcome != "1 updated" || r.Time != "2026-11-30T00:02:03Z" {
		t.Errorf("outcome %q time %q", r.Outcome, r.Time)
	}
}

func TestPushRecordsTheFileAsItIs(t *testing.T) {
	r := Begin("push", nil, "", false)
	r.Pushed("st", []byte("x"), nil, "")
	if r.File != "st" || r.SHA256Before == "" || r.SHA256Before != r.SHA256After {
		t.Errorf("record %+v: the pushed file, unchanged", r)
	}
	if r.Nodes == nil {
		t.Error("nodes is null in JSON; want []")
	}
}

func TestEndSaysHowTheRunEnded(t *testing.T) {
	for _, c := range []struct {
		outcome, failure string
		code             int
		want             string
	}{
		{"", "", 0, "exit 0"},
		{"2 updated", "", 1, "2 updated"},
		{"st written", "cannot push:\n  node down", 74, "error: cannot push: node down"},
	} {
		r := Record{Outcome: c.outcome}
		r.End(time.Now(), c.code, c.failure)
		if r.Outcome != c.want || r.ExitCode != c.code || strings.Contains(r.Outcome, "\n") {
			t.Errorf("End(%d, %q) after %q: outcome %q, exit %d; want %q", c.code, c.failure, c.outcome, r.Outcome, r.ExitCode, c.want)
		}
	}
}

func TestPulledRecordsTheNewFile(t *testing.T) {
	r := Begin("pull", []string{"es-1"}, "", false)
	r.Pulled("es-1", "out", "abc")
	if r.File != "out" || r.SHA256After != "abc" || r.Outcome != "copied to out" || len(r.Nodes) != 1 || r.Nodes[0].Result != "pulled" {
		t.Errorf("record %+v", r)
	}
}
