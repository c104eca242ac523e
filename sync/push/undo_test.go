package push

import (
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
)

// Taking back the run's own only token (Undo) empties a node that holds
// exactly the file with it; a node holding anything else is still guarded,
// and without Undo the guard stands.
func TestUndoMayEmptyOnlyWhatTheRunWrote(t *testing.T) {
	with := tokenFile(t, 1)
	ours := newNode(t, "ours", sftptest.Options{}, with)
	other := newNode(t, "other", sftptest.Options{}, tokenFile(t, 2))
	guarded := push(t, pusher(10*time.Second), Request{Data: []byte{}, Before: with}, ours)["ours"]
	if guarded.Status != Conflict {
		t.Fatalf("without Undo: %+v", guarded)
	}
	res := push(t, pusher(10*time.Second), Request{Data: []byte{}, Before: with, Undo: true}, ours, other)
	if r := res["ours"]; r.Status != Updated || len(ours.file(t)) != 0 {
		t.Errorf("ours: %+v", r)
	}
	if r := res["other"]; r.Status != Conflict {
		t.Errorf("other: %+v", r)
	}
}
