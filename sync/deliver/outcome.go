package deliver

import (
	"context"
	"fmt"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// A consumer's outcome in a word (Result.Status), in the order a summary
// names them.
const (
	Delivered = "delivered" // it has the secret and works again
	Stored    = "stored"    // it has the secret, and was not restarted
	Unhealthy = "unhealthy" // it has the secret, and its health never passed
	Failed    = "failed"
)

// Status is the consumer's outcome in a word.
func (r Result) Status() string {
	switch {
	case r.OK():
		return Delivered
	case r.Store == StoreNew && r.Step == StepRestart && r.Failure == "":
		return Stored
	case r.Step == StepHealth:
		return Unhealthy
	}
	return Failed
}

// Summary is the delivery in one line, "2 delivered, 1 failed".
func (r Report) Summary() string {
	counts := map[string]int{}
	for _, res := range r.Results {
		counts[res.Status()]++
	}
	var parts []string
	for _, s := range []string{Delivered, Stored, Unhealthy, Failed} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

// Holding names the consumers whose store holds the secret (stored), and
// those of which it is not known (a write that did not finish as
// expected): what a token taken back leaves behind.
func (r Report) Holding() (stored, unknown []string) {
	for _, res := range r.Results {
		switch res.Store {
		case StoreNew:
			stored = append(stored, res.Consumer)
		case StoreUnknown:
			unknown = append(unknown, res.Consumer)
		}
	}
	return stored, unknown
}

// Options are one delivery of a secret the caller holds (the deliver
// command's: a token created earlier, its secret kept in a file).
type Options struct {
	Consumers []*inventory.Consumer
	Bearer    string
	// Proof, when set, is the proof by secret to pass first (its Bearer is
	// filled in): a consumer given a secret some node refuses would fail
	// on that node, so nothing is delivered unless every node accepts it.
	Proof *prove.Options
	// Local, when set, is the local tokens file (File names it): Bearer
	// must be the secret of its token there, or nothing is delivered.
	// Without node addresses to prove it on, this is the one check that
	// a consumer is not restarted with a secret no node accepts (a token
	// made again since, with a new secret).
	Local *tokens.File
	File  string
	// Dialer reaches the consumers' machines, with their keys loaded;
	// Fleet bounds the work.
	Dialer *sshconn.Dialer
	Fleet  fleet.Options
	// Proven, when set, is called once the proof passed, before any
	// consumer is written (the caller's audit begins there); its error
	// stops the run with nothing written.
	Proven func() error
}

// NotLocalError is a bearer that is not the secret of its token in the
// local file: nothing was delivered. Err says why, never with the secret.
type NotLocalError struct {
	Token, File string
	Err         error
}

func (e *NotLocalError) Error() string {
	return fmt.Sprintf("the bearer is not the secret of %s in %s (%v): nothing was delivered", e.Token, e.File, e.Err)
}

func (e *NotLocalError) Unwrap() error { return e.Err }

// Outcome is what Run did: the proof, and the delivery when it went on.
type Outcome struct {
	Proof *prove.Report // nil without Options.Proof
	Report
	// Attempted is whether the delivery ran (every node accepted).
	Attempted bool
}

// OK reports whether every node accepted the secret and every consumer
// has it and works again.
func (o Outcome) OK() bool { return o.Attempted && o.Report.OK() }

// Run proves the secret, when asked, then delivers it to every consumer:
// each store is written first, and only when every one was is each
// restarted and checked (Deliverer.Deliver). Its error is the Proven
// hook's, and then nothing was delivered.
func Run(ctx context.Context, opts Options) (Outcome, error) {
	var out Outcome
	if opts.Local != nil {
		if name, err := tokens.Authenticate(opts.Bearer, opts.Local, opts.File); err != nil {
			return out, &NotLocalError{Token: name, File: opts.File, Err: err}
		}
	}
	if opts.Proof != nil {
		p := *opts.Proof
		p.Bearer = opts.Bearer
		// ErrNoAddress: no node to prove it on; the delivery goes on.
		if proof, err := prove.Run(ctx, p); err == nil {
			if out.Proof = &proof; !proof.Accepted {
				return out, nil
			}
		}
	}
	if opts.Proven != nil {
		if err := opts.Proven(); err != nil {
			return out, err
		}
	}
	d := &Deliverer{Dialer: opts.Dialer, Fleet: opts.Fleet}
	out.Report, out.Attempted = d.Deliver(ctx, opts.Consumers, opts.Bearer), true
	return out, nil
}
