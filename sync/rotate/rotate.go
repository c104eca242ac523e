// Package rotate replaces a service token with a successor without an
// outage. A token holds one secret, so the successor is a new token, named
// after the old one (meta.SuccessorName):
//
//  1. create the successor in the local file, its secret kept (Keeper);
//  2. publish the file to every node and prove that every Elasticsearch
//     node accepts the successor's secret;
//  3. deliver the secret to the token's consumers (restart, health), or,
//     without consumers, hand it to the user, who switches by hand and
//     finishes the rotation later;
//  4. after a grace period, remove the old token, publish, and confirm
//     that no Elasticsearch node lists it any more.
//
// Each step that completes is recorded on the successor's metadata record
// (meta.Phase) under the tokens file's lock, and each step checks, under
// that lock, the state it changes. A run killed or failed at any step
// therefore continues, when run again, from the state it finds: it never
// makes a third token, never removes the old token before the successor
// is proven and delivered, and never delivers a secret it does not hold
// (an undelivered successor whose secret is gone is replaced by a new one).
//
// The package knows nothing of SSH, Elasticsearch or consumers: Steps does
// that work, wired by the caller (sync/rotation wires them to a cluster).
package rotate

import (
	"context"
	"io"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// Steps are the parts of a rotation outside the local file. Each returns
// nil when its step is done on every node or consumer, and an error that
// says which failed otherwise; none may put a secret in an error.
type Steps interface {
	// Publish makes every node's file equal to the local one.
	Publish(ctx context.Context, p Publication) error
	// Prove checks that every Elasticsearch node accepts bearer, the
	// secret of token.
	Prove(ctx context.Context, token, bearer string) error
	// Deliver gives bearer to the consumers of the token being rotated,
	// restarts them and waits until they are healthy.
	Deliver(ctx context.Context, token, bearer string) error
	// HandOver gives bearer to the user, when no consumer is known.
	HandOver(ctx context.Context, token, bearer string) error
	// ConfirmGone checks that no Elasticsearch node lists token any more.
	ConfirmGone(ctx context.Context, token string) error
}

// Publication is a version of the local file to put on every node.
type Publication struct {
	Data  []byte
	Local *tokens.File // Data parsed
	// Before is the file before the change this run made; nodes holding
	// neither Before nor Data were changed by someone else. Nil when this
	// run changed nothing (a resumed rotation): every node gets Data.
	Before []byte
}

// Mode is what the run is asked to do.
type Mode int

const (
	// Rotate starts a rotation, or continues the one it finds.
	Rotate Mode = iota
	// Finish removes the old token of a rotation whose successor is in
	// use: handed over to the user, who has switched.
	Finish
	// Abort removes a successor that nobody received yet.
	Abort
)

// Request is one rotation.
type Request struct {
	File  string // the local tokens file
	Token string // the qualified name of the token to renew
	Mode  Mode
	// Consumers are the inventory names of the consumers the successor
	// is delivered to; none: it is handed over.
	Consumers []string
	Algorithm tokens.Algorithm
	Random    io.Reader
	Creator   string // user@host, for the successor's record
	Grace     time.Duration
	// Now and Wait are the clock, replaced in tests; nil: the real one.
	Now  func() time.Time
	Wait func(ctx context.Context, d time.Duration) error
	// Progress, when set, is called after each step with the report so
	// far, whose last step is the one that just ended.
	Progress func(Report)
}

// Outcome is how a run ended.
type Outcome string

// The outcomes.
const (
	Rotated     Outcome = "rotated" // the old token is gone everywhere
	Pending     Outcome = "pending" // handed over: the old token stays until the rotation is finished
	Aborted     Outcome = "aborted" // the successor was removed
	Failed      Outcome = "failed"  // a step failed; running again continues
	AlreadyDone Outcome = "already-rotated"
)

// Step names a part of a run, as reported.
type Step string

// The steps.
const (
	StepCreate   Step = "create"    // the successor added to the local file
	StepRemake   Step = "remake"    // a successor whose secret is gone replaced by a new one
	StepPublish  Step = "publish"   // the local file pushed to every node
	StepProve    Step = "prove"     // every node accepts the successor's secret
	StepDeliver  Step = "deliver"   // consumers received it and are healthy
	StepHandOver Step = "hand-over" // the user received it
	StepGrace    Step = "grace"     // waited before removing the old token
	StepRetire   Step = "retire"    // the old token removed locally and from every node
	StepConfirm  Step = "confirm"   // no node lists the old token
	StepRemove   Step = "remove"    // (abort) the successor removed locally and from every node
)

// StepResult is one step of a run, with its time.
type StepResult struct {
	Step    Step
	Start   time.Time
	Seconds float64
	Err     error
}

// Report is what a run did.
type Report struct {
	Old, New string
	Outcome  Outcome
	// Found is the phase the run found the rotation in ("" for a new
	// one, or none found).
	Found   meta.Phase
	Resumed bool
	Steps   []StepResult
	Seconds float64
}
