package push

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
)

// A node file that is recognisably a service_tokens file but that
// Elasticsearch cannot load serves no token: a plain push replaces it, says
// so with the line (no byte of the file), and keeps the broken file beside
// it even with backups: 0. A dry run says it would.
func TestUnloadableFileIsRepaired(t *testing.T) {
	broken := []byte("elastic/fleet-server/x:{PBKDF2_STRETCH}10000$SECRETISH\n")
	n := newNode(t, "n", sftptest.Options{}, broken)
	data := tokenFile(t, 2)
	dry := push(t, pusher(10*time.Second), Request{Data: data, DryRun: true}, n)["n"]
	if dry.Status != WouldUpdate || dry.Reason.String() != "would repair it (Elasticsearch cannot load it: line 1: a PBKDF2 hash Elasticsearch cannot read), keeping the broken file beside it" {
		t.Errorf("dry run: %+v", dry)
	}
	r := push(t, pusher(10*time.Second), Request{Data: data}, n)["n"]
	if r.Status != Updated || len(r.Notes) != 1 || string(n.file(t)) != string(data) {
		t.Fatalf("push: %+v", r)
	}
	note := r.Notes[0].String()
	const want = "repaired (was unloadable: line 1: a PBKDF2 hash Elasticsearch cannot read); the broken file is kept as service_tokens."
	if !strings.HasPrefix(note, want) || strings.Contains(note, "SECRETISH") {
		t.Errorf("note %q, want it to start %q", note, want)
	}
	bak := filepath.Join(n.dir, strings.TrimPrefix(note, want[:len(want)-len("service_tokens.")]))
	if got, err := os.ReadFile(bak); err != nil || string(got) != string(broken) {
		t.Errorf("backup %s: %q, %v", bak, got, err)
	}
}

// A file that does not look like service_tokens at all still needs force,
// and the refusal shows none of its words.
func TestOtherFilesNeedForce(t *testing.T) {
	yml := []byte("cluster.name: prod\nnode.name: es-1\n")
	noColon := []byte("just some words\n")
	a := newNode(t, "yml", sftptest.Options{}, yml)
	b := newNode(t, "words", sftptest.Options{}, noColon)
	res := push(t, pusher(10*time.Second), Request{Data: tokenFile(t, 1)}, a, b)
	for _, n := range []*node{a, b} {
		r := res[n.node.Name]
		if r.Status != Conflict || r.Failure != failure.Refused || !strings.Contains(r.Reason.String(), "not overwritten: check path, or use force to replace it") {
			t.Errorf("%s: %+v", n.node.Name, r)
		}
		if s := r.Reason.String(); strings.Contains(s, "prod") || strings.Contains(s, "cluster") || strings.Contains(s, "words") {
			t.Errorf("%s: the reason shows the node's file: %s", n.node.Name, s)
		}
	}
	if string(a.file(t)) != string(yml) || string(b.file(t)) != string(noColon) {
		t.Error("a file that is not a service_tokens file was overwritten")
	}
}

// A create or delete keeps its conflict rule for an unloadable file, and
// says what a push of the local file does; the conflict wording says what
// the tool knows, not who changed what.
func TestChangeConflictWording(t *testing.T) {
	before, after := tokenFile(t, 2), tokenFile(t, 3)
	broken := newNode(t, "broken", sftptest.Options{}, []byte("elastic/fleet-server/t0000:{PBKDF2_STRETCH}10000$x\n"))
	firstLine := before[:strings.IndexByte(string(before), '\n')+1]
	edited := newNode(t, "edited", sftptest.Options{}, firstLine) // t0001 removed by hand
	res := push(t, pusher(10*time.Second), Request{Data: after, Before: before}, broken, edited)
	if r := res["broken"]; r.Status != Conflict || r.Reason.String() != "the node's file is neither the local file before this change nor after it, and Elasticsearch cannot load it (line 1: a PBKDF2 hash Elasticsearch cannot read): it serves no file token; not written: a push of the local file repairs it" {
		t.Errorf("broken: %+v", r)
	}
	if r := res["edited"]; r.Status != Conflict || r.Reason.String() != "the node's file is neither the local file before this change nor after it (missing on node: elastic/fleet-server/t0001); not written: pull it to keep its tokens, or push the local file over it" {
		t.Errorf("edited: %+v", r)
	}
	// The remedy: a plain push of the local file.
	again := push(t, pusher(10*time.Second), Request{Data: after}, broken, edited)
	if again["broken"].Status != Updated || again["edited"].Status != Updated {
		t.Errorf("the push the reasons name: %+v %+v", again["broken"], again["edited"])
	}
}

// The emptying guard is for a plain push of a local file with no token
// onto a node that has some; a delete of the last token (a change, with
// Before) goes ahead where the node holds the file before it, and is a
// conflict elsewhere.
func TestEmptyingGuardOnlyForAPlainPush(t *testing.T) {
	with := tokenFile(t, 1)
	ours := newNode(t, "ours", sftptest.Options{}, with)
	other := newNode(t, "other", sftptest.Options{}, tokenFile(t, 2))
	plain := push(t, pusher(10*time.Second), Request{Data: []byte{}}, ours)["ours"]
	if plain.Status != Conflict || !strings.Contains(plain.Reason.String(), "this would remove every token from the node (1 token); not written: use force if you mean it") {
		t.Fatalf("plain push of an empty file: %+v", plain)
	}
	res := push(t, pusher(10*time.Second), Request{Data: []byte{}, Before: with}, ours, other)
	if r := res["ours"]; r.Status != Updated || len(ours.file(t)) != 0 {
		t.Errorf("delete of the last token: %+v", r)
	}
	if r := res["other"]; r.Status != Conflict || !strings.Contains(r.Reason.String(), "neither the local file before this change nor after it") {
		t.Errorf("other: %+v", r)
	}
	forced := push(t, pusher(10*time.Second), Request{Data: []byte{}, Force: true}, other)["other"]
	if forced.Status != Updated {
		t.Errorf("forced plain push: %+v", forced)
	}
}
