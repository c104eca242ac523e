// Package rotation rotates tokens on a cluster. It wires the state machine
// of sync/rotate to the cluster: the push of the local file to every node
// (push.Run), the proof of the successor's secret on every node with an
// address (prove.Run) and Elasticsearch's list of it (elastic.Confirm),
// the delivery to the token's consumers (deliver), or the hand-over to
// the user; it picks the tokens to rotate (by name, by consumer, or every
// token older than an age that has consumers) and holds the state
// directory's lock for the run.
//
// Each step is reported as it ends (Options.Step), with what it found on
// the nodes and consumers, and each rotation when it ends (Options.Done).
package rotation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Options are one run of rotations.
type Options struct {
	// File is the local tokens file; Mode what to do.
	File string
	Mode rotate.Mode
	// The tokens: Token (a qualified name), else the one the inventory's
	// Consumer uses, else every token older than OlderThan that has
	// consumers.
	Token     string
	Consumer  *inventory.Consumer
	OlderThan time.Duration
	// Same matches a consumer's token to the current one (lineage: a
	// consumer keeps naming the token it was first given); nil: equal
	// names.
	Same func(a, b string) bool
	// Push reaches and writes every node of Push.Inventory (Dialer, Fleet,
	// Me, BreakLock, Force, Audit); each publication sets its request.
	Push push.Options
	// ES lists the tokens each Elasticsearch node loaded, waiting at most
	// ConfirmTimeout; Proof, when set, proves the successor's secret on
	// every node with an address.
	ES             *elastic.Client
	ConfirmTimeout time.Duration
	Proof          *prove.Options
	// Request is the rotation's own settings (Algorithm, Random, Creator,
	// Grace, clocks); Run sets its File, Token, Mode and Consumers.
	Request rotate.Request
	// Keep is where a successor's secret waits until it is delivered.
	Keep rotate.StateDir
	// TokenFile, when set, receives a hand-over's bearer (a new file of
	// mode 0600); else HandOver gives it to the user.
	TokenFile string
	HandOver  func(token, bearer string) error
	// Begin, when set, is called once the run holds the state directory's
	// lock, before any rotation (the caller's audit begins there); its
	// error stops the run with nothing changed.
	Begin func() error
	// Step, when set, is called as each step ends; Done as each rotation
	// ends, with its error.
	Step func(rotate.Report, Detail)
	Done func(rotate.Report, error)
}

// Detail is what a step found on the nodes and consumers.
type Detail struct {
	Push     *push.Report
	Request  push.Request // what the push wrote
	Proof    *prove.Report
	Listed   *elastic.Outcome // the credentials API's view
	Delivery *deliver.Report
	// TokenFile is where a hand-over wrote the bearer.
	TokenFile string
}

// Rotation is one token to rotate and who uses it.
type Rotation struct {
	Token     string
	Consumers []*inventory.Consumer
}

// Report is what a run did.
type Report struct {
	// Rotations are the tokens rotated, each with its report and error.
	Rotations []Result
	// Skipped are the tokens older than OlderThan without consumers: only
	// a rotation by name (and a switch by hand) renews them.
	Skipped []string
}

// Result is one rotation's end.
type Result struct {
	rotate.Report
	Err error
}

// Failed counts the rotations that ended with an error.
func (r Report) Failed() int {
	n := 0
	for _, d := range r.Rotations {
		if d.Err != nil {
			n++
		}
	}
	return n
}

// ErrBusy means another run rotates tokens of the same file on this host.
var ErrBusy = errors.New("another rotation of this file runs on this host")

// KeepError is a state directory that cannot keep a successor's secret.
type KeepError struct{ Err error }

func (e *KeepError) Error() string {
	// Err names the state directory and what is wrong with it. Not "cannot
	// keep the secret": finishing or aborting keeps none, only takes the lock.
	return e.Err.Error()
}

func (e *KeepError) Unwrap() error { return e.Err }

// NoTokenError is a consumer whose token, nor a rotation of it, is in the
// local file.
type NoTokenError struct{ Consumer, Token, File string }

func (e *NoTokenError) Error() string {
	return fmt.Sprintf("consumer %s uses %s, and %s holds no token of that name (nor a rotation of it): create it, or fix the consumer's token", e.Consumer, e.Token, e.File)
}

// Pick are the tokens opts names, each with the inventory's consumers of
// it, and the tokens older than OlderThan that have none.
func Pick(opts Options) ([]Rotation, []string, error) {
	switch {
	case opts.Token != "":
		return []Rotation{{Token: opts.Token, Consumers: opts.consumersOf(opts.Token)}}, nil, nil
	case opts.Consumer != nil:
		r, err := opts.byConsumer()
		return []Rotation{r}, nil, err
	}
	return opts.olderThan()
}

// consumersOf are the inventory's consumers of token.
func (o Options) consumersOf(token string) []*inventory.Consumer {
	same := o.Same
	if same == nil {
		same = func(a, b string) bool { return a == b }
	}
	if o.Push.Inventory == nil {
		return nil
	}
	return deliver.For(o.Push.Inventory.Consumers, token, same)
}

// byConsumer is the token the consumer uses now: the one of its lineage
// in the local file, or the old token of the rotation of it under way.
func (o Options) byConsumer() (Rotation, error) {
	f, m, err := loadWithMeta(o.File)
	if err != nil {
		return Rotation{}, err
	}
	same := o.Same
	if same == nil {
		same = func(a, b string) bool { return a == b }
	}
	for _, k := range f.Keys() {
		if !same(k, o.Consumer.Token) {
			continue
		}
		if rec, _ := m.Get(k); rec.RotatedFrom != "" && rec.Phase != meta.Done {
			k = rec.RotatedFrom // a rotation under way: it is continued by its old token's name
		}
		return Rotation{Token: k, Consumers: o.consumersOf(k)}, nil
	}
	return Rotation{}, &NoTokenError{Consumer: o.Consumer.Name, Token: o.Consumer.Token, File: o.File}
}

// olderThan are the tokens older than OlderThan that have consumers, and
// those that have none.
func (o Options) olderThan() ([]Rotation, []string, error) {
	f, m, err := loadWithMeta(o.File)
	if err != nil {
		return nil, nil, err
	}
	var out []Rotation
	var skipped []string
	for _, old := range meta.Judge(f, m, time.Now(), o.OlderThan).Over {
		if rec, _ := m.Get(old.Token); rec.RotatedFrom != "" && rec.Phase != meta.Done {
			continue // the successor of a rotation under way: its predecessor is the one to continue
		}
		if cs := o.consumersOf(old.Token); len(cs) > 0 {
			out = append(out, Rotation{Token: old.Token, Consumers: cs})
		} else {
			skipped = append(skipped, old.Token)
		}
	}
	return out, skipped, nil
}

// loadWithMeta reads the local file and its metadata, which a rotation
// needs whole.
func loadWithMeta(file string) (*tokens.File, *meta.Set, error) {
	snap, err := store.Load(file)
	if err != nil {
		return nil, nil, err
	}
	m, err := store.LoadMeta(file)
	if err != nil {
		return nil, nil, err
	}
	return snap.File, m.Set, nil
}

// Run rotates each of rots (Pick), one after the other, under the state
// directory's lock; a rotation that fails does not stop the next. Its
// error is about the run as a whole (ErrBusy, *KeepError, Begin's), and
// then no rotation ran.
func Run(ctx context.Context, opts Options, rots []Rotation) (Report, error) {
	unlock, busy, err := opts.Keep.Lock()
	if err != nil {
		return Report{}, &KeepError{err}
	}
	if busy {
		return Report{}, ErrBusy
	}
	defer unlock()
	if opts.Begin != nil {
		if err := opts.Begin(); err != nil {
			return Report{}, err
		}
	}
	var rep Report
	names := new(*esnode.Mapping)
	for _, rot := range rots {
		r, err := opts.rotate(ctx, rot, names)
		if opts.Done != nil {
			opts.Done(r, err)
		}
		rep.Rotations = append(rep.Rotations, Result{r, err})
	}
	return rep, nil
}

// rotate runs one rotation.
func (o Options) rotate(ctx context.Context, rot Rotation, names **esnode.Mapping) (rotate.Report, error) {
	s := &steps{opts: o, consumers: rot.Consumers, names: names}
	req := o.Request
	req.File, req.Token, req.Mode = o.File, rot.Token, o.Mode
	req.Consumers = nil
	for _, c := range rot.Consumers {
		req.Consumers = append(req.Consumers, c.Name)
	}
	req.Progress = s.progress
	return rotate.Run(ctx, req, s, o.Keep)
}
