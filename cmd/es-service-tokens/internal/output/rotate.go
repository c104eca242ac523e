package output

// rotate's report: each step as it ends, with its time (text), or one JSON
// document at the end.

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/sync/rotation"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// Rotations renders the rotations of a run: each step as it ends, with its
// time, or one JSON document at the end.
type Rotations struct {
	W    io.Writer
	JSON bool
	File string // the local file
	// Cmds are the commands that take a rotation on; Mode is the run's.
	Cmds Commands
	Mode rotate.Mode
	// Batch is a run of several rotations (every token older than an
	// age): one failing does not end the run.
	Batch bool

	current *rotationJSON   // the rotation under way
	docs    []rotationJSON  // JSON: every rotation of the run
	written bool            // JSON: the document went out with a hand-over
	head    map[string]bool // text: rotations whose first line is out
	start   time.Time       // when the rotation under way began
}

// step reports a step that just ended: a line with its time, and after a
// failure what each node or consumer said.
func (o *Rotations) Step(rep rotate.Report, d rotation.Detail) {
	st := rep.Steps[len(rep.Steps)-1]
	if o.JSON {
		o.doc(rep).Steps = append(o.doc(rep).Steps, stepJSONOf(st, d))
		return
	}
	w := o.W
	o.printHead(rep)
	state := "ok"
	if st.Err != nil {
		state = "FAILED"
	}
	line := fmt.Sprintf("  %-9s  %-6s  %6.2fs  %s", st.Step, state, st.Seconds, stepSummary(st, d, rep))
	fmt.Fprintln(w, strings.TrimRight(line, " "))
	if st.Err != nil {
		o.printDetail(w, d, rep)
	}
}

// printHead is a rotation's first line: the token and its successor.
func (o *Rotations) printHead(rep rotate.Report) {
	if o.head == nil {
		o.head = map[string]bool{}
	}
	if o.head[rep.Old] {
		return
	}
	o.head[rep.Old] = true
	line := "rotate " + rep.Old
	if rep.New != "" {
		line += " to " + rep.New
	}
	if rep.Resumed {
		line += fmt.Sprintf(" (continued: found at phase %s)", phaseName(rep))
	}
	fmt.Fprintln(o.W, line)
}

func phaseName(rep rotate.Report) string {
	if rep.Found == "" {
		return "done"
	}
	return string(rep.Found)
}

// stepSummary is what a step did, in a few words.
func stepSummary(st rotate.StepResult, d rotation.Detail, rep rotate.Report) string {
	if st.Err != nil {
		return OneLine(Phrase(st.Err))
	}
	switch {
	case d.Push != nil:
		return d.Push.Outcome()
	case d.Delivery != nil:
		return d.Delivery.Summary()
	case d.TokenFile != "":
		return "written to " + d.TokenFile
	case st.Step == rotate.StepProve:
		return proofSummary(d)
	case st.Step == rotate.StepConfirm && d.Listed != nil:
		return fmt.Sprintf("no Elasticsearch node lists %s (%d nodes, %d requests)", strings.Join(d.Listed.Want.Absent, ", "), len(d.Listed.Nodes), d.Listed.Requests)
	case st.Step == rotate.StepRetire:
		return rep.Old + " removed from the local file"
	case st.Step == rotate.StepCreate:
		return rep.New + " added to the local file"
	case st.Step == rotate.StepRemake:
		return "the earlier successor, whose secret this run does not hold, replaced by " + rep.New
	case st.Step == rotate.StepHandOver:
		return "its bearer is above"
	}
	return ""
}

func proofSummary(d rotation.Detail) string {
	var parts []string
	if d.Proof != nil {
		parts = append(parts, fmt.Sprintf("%d nodes accept its secret", len(d.Proof.Nodes)))
		if len(d.Proof.Without) > 0 {
			parts = append(parts, "no address for "+strings.Join(d.Proof.Without, ", ")+" (judged by name)")
		}
	}
	if d.Listed != nil {
		parts = append(parts, fmt.Sprintf("%d Elasticsearch nodes list it", len(d.Listed.Nodes)))
	}
	return strings.Join(parts, "; ")
}

// printDetail says, after a failed step, what each node or consumer said.
func (o *Rotations) printDetail(w io.Writer, d rotation.Detail, rep rotate.Report) {
	switch {
	case d.Push != nil:
		printPush(w, o.File, d.Request, *d.Push)
	case d.Delivery != nil:
		printDelivery(w, rep.New, *d.Delivery)
	}
	printProof(w, d.Proof)
	if d.Listed != nil {
		printES(w, nil, &rollout.Confirmation{Outcome: d.Listed}, true)
	}
}

// handOver prints the new token's bearer, the one output of a rotation
// without consumers: with --format json the whole document goes out now,
// since the secret is not kept once it is handed over.
func (o *Rotations) HandOver(token, bearer string) error {
	if !o.JSON {
		_, err := fmt.Fprintf(o.W, "SERVICE_TOKEN %s = %s\n", token, bearer)
		return err
	}
	doc := o.current
	doc.Value, doc.Seconds = bearer, time.Since(o.start).Seconds()
	doc.Steps = append(doc.Steps, rotationStepJSON{Step: string(rotate.StepHandOver), OK: true})
	doc.Outcome, doc.Next = string(rotate.Pending), o.Cmds.Rotate(rotate.Finish, doc.Token)
	err := JSON(o.W, rotateReport{Command: "rotate", File: o.File, Rotations: append(o.docs, *doc)})
	doc.Steps = doc.Steps[:len(doc.Steps)-1]
	doc.Value = ""
	o.written = err == nil
	return err
}

// End ends a rotation's report: err is what stopped it, explained the
// error the run ends with for it (with the command that takes it on).
func (o *Rotations) End(rep rotate.Report, err, explained error) {
	if !o.JSON {
		o.printEnd(rep, err, explained)
		return
	}
	doc := o.doc(rep)
	doc.New, doc.Outcome, doc.Seconds = rep.New, string(rep.Outcome), rep.Seconds
	if err != nil {
		doc.Error = Phrase(explained)
	}
	doc.Next = o.next(rep, err)
	o.docs = append(o.docs, *doc)
	o.current = nil
}

// FailedStep reports whether a rotation ended at a failed step, whose
// report says what each node or consumer said, rather than with an error
// that says why it could not go on.
func FailedStep(rep rotate.Report, err error) bool {
	return err != nil && len(rep.Steps) > 0 && rep.Steps[len(rep.Steps)-1].Err != nil
}

func (o *Rotations) doc(rep rotate.Report) *rotationJSON {
	if o.current == nil {
		o.current = &rotationJSON{Token: rep.Old, Steps: []rotationStepJSON{}}
		o.start = time.Now()
		if len(rep.Steps) > 0 {
			o.start = rep.Steps[0].Start
		}
	}
	o.current.New, o.current.Resumed = rep.New, rep.Resumed
	if rep.Resumed {
		o.current.Found = phaseName(rep)
	}
	return o.current
}

// finish writes the JSON document, unless a hand-over wrote it.
func (o *Rotations) Finish() error {
	if !o.JSON || o.written {
		return nil
	}
	docs := o.docs
	if docs == nil {
		docs = []rotationJSON{} // nothing to rotate: an empty list, not null
	}
	return JSON(o.W, rotateReport{Command: "rotate", File: o.File, Rotations: docs})
}

// printEnd is a rotation's last line: how it ended, and what to run next.
func (o *Rotations) printEnd(rep rotate.Report, err, explained error) {
	w := o.W
	if err != nil && !FailedStep(rep, err) {
		if o.Batch { // the run goes on: the error is this rotation's last line
			fmt.Fprintf(w, "rotate %s: FAILED: %s\n", rep.Old, OneLine(Phrase(explained)))
		}
		return // else the run ends with it, printed with its remedy
	}
	o.printHead(rep)
	next := o.next(rep, err)
	switch rep.Outcome {
	case rotate.Rotated:
		fmt.Fprintf(w, "rotated %s to %s in %.2fs\n", rep.Old, rep.New, rep.Seconds)
	case rotate.AlreadyDone:
		fmt.Fprintf(w, "%s was rotated to %s already: nothing to do\n", rep.Old, rep.New)
	case rotate.Aborted:
		fmt.Fprintf(w, "aborted: %s is removed from every node; %s is unchanged\n", rep.New, rep.Old)
	case rotate.Pending:
		fmt.Fprintf(w, "%s is on every node and works there, and %s still does: switch what uses %s to the new token, then finish with: %s\n", rep.New, rep.Old, rep.Old, next)
	default:
		fmt.Fprintf(w, "FAILED: %s; %s\n", failedState(rep), next)
	}
}

// failedState says what is true after a step failed: where the old token
// still works, and whether anyone has the new one.
func failedState(rep rotate.Report) string {
	st := rep.Steps[len(rep.Steps)-1].Step
	if removed(rep) {
		return rep.New + " is out of the local file, and maybe still on some nodes; " + rep.Old + " still works on every node"
	}
	for _, s := range rep.Steps {
		if s.Step == rotate.StepRetire && s.Err == nil {
			return rep.Old + " is out of the local file, and maybe still on some nodes; every consumer uses " + rep.New
		}
	}
	switch st {
	case rotate.StepDeliver:
		return rep.Old + " still works on every node; some consumers may use " + rep.New + " already (its secret is kept for the next run)"
	case rotate.StepGrace:
		return rep.Old + " still works on every node; the consumers use " + rep.New
	}
	return rep.Old + " still works on every node, and nobody has " + rep.New + " yet (its secret is kept for the next run)"
}

// next is the command that takes the rotation on from where it is.
func (o *Rotations) next(rep rotate.Report, err error) string {
	switch {
	case rep.Outcome == rotate.Pending:
		return o.Cmds.Rotate(rotate.Finish, rep.Old)
	case err == nil:
		return ""
	}
	var se *rotate.StateError
	if errors.As(err, &se) || !FailedStep(rep, err) {
		// The error says how to go on (a damaged metadata file, a
		// state the run cannot continue from): running it again, or an
		// abort, would fail the same way. The text report prints none.
		return ""
	}
	if removed(rep) { // the rotation is over: what is left is a push
		return "finish the abort with: " + o.Cmds.Push(nil, false)
	}
	cont := "run the same command again to continue: " + o.Cmds.Rotate(o.Mode, rep.Old)
	if o.Mode == rotate.Rotate && !delivering(rep) {
		cont += "; or give up with: " + o.Cmds.Rotate(rotate.Abort, rep.Old)
	}
	return cont
}

// removed reports whether an abort took the successor out of the local
// file: its rotation is over, whatever a node that failed still holds.
func removed(rep rotate.Report) bool {
	for _, s := range rep.Steps {
		if s.Step == rotate.StepRemove && s.Err == nil {
			return true
		}
	}
	return false
}

// delivering reports whether the rotation got to deliver its successor.
func delivering(rep rotate.Report) bool {
	for _, s := range rep.Steps {
		switch s.Step {
		case rotate.StepDeliver, rotate.StepRetire, rotate.StepGrace:
			return true
		}
	}
	return rep.Found != "" && rep.Found != "created" && rep.Found != "proven"
}

// RotationError says why a rotation could not go on, with the command
// that takes it on from the state it is in (a token that does not exist
// is said in Elasticsearch's words by the caller).
func RotationError(cmds Commands, se *rotate.StateError) error {
	cont := cmds.Rotate(rotate.Rotate, se.Token)
	if se.Phase == meta.HandedOver || se.Phase == meta.Delivered || se.Phase == meta.Retiring {
		cont = cmds.Rotate(rotate.Finish, se.Token)
	}
	switch se.Problem {
	case rotate.IsSuccessor:
		return fmt.Errorf("%v: %s", se, cmds.Rotate(rotate.Rotate, se.Other))
	case rotate.NotInUse:
		return fmt.Errorf("%v; continue the rotation with: %s (or give it up with: %s)", se, cont, cmds.Rotate(rotate.Abort, se.Token))
	case rotate.NoRotation:
		return fmt.Errorf("%v: start one with: %s", se, cont)
	case rotate.InUse:
		if se.Phase == meta.HandedOver {
			return fmt.Errorf("%v; once what used %s runs with the new token, finish with: %s; if nothing uses %s, delete it: %s", se, se.Token, cont, se.Other, cmds.Delete(se.Other))
		}
		return fmt.Errorf("%v; continue it with: %s", se, cont)
	case rotate.SecretLost:
		// The secret may be gone for good (a wiped state directory): then
		// only a new rotation reaches the consumers again.
		return fmt.Errorf("%v; run it on that host, as that user, where the secret is kept: %s; if that secret is lost, delete the new token: %s, then rotate again: %s (a consumer that received it fails until it receives the next)",
			se, cont, cmds.Delete(se.Other), cmds.Rotate(rotate.Rotate, se.Token))
	case rotate.Unrecorded:
		// Which of the two is in use only the admin knows: the one
		// nothing uses goes, and the other is an ordinary token again.
		return fmt.Errorf("%v; restore the metadata file to continue that rotation, or delete the one nothing uses: %s, or: %s", se, cmds.Delete(se.Other), cmds.Delete(se.Token))
	}
	return fmt.Errorf("%v", se)
}
