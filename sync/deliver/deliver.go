// Package deliver hands a token's secret to the services that use it (the
// inventory's consumers): into a Kibana keystore, a token file, a systemd
// EnvironmentFile or any command that reads it on standard input, then
// restarts each consumer and waits for its health check.
//
// The secret travels only on an SSH channel's standard input or inside an
// SFTP write: never in a command line (visible in ps on the consumer),
// never in a result, a reason or an error. Whatever a consumer's commands
// print is scrubbed of it before it is quoted.
//
// Delivery has two phases, over one SSH connection per consumer machine:
// every consumer's store is written first, and only when every write
// succeeded are the consumers restarted and checked. A failed write thus
// leaves no consumer running with a secret the caller may take back.
package deliver

import (
	"context"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
)

// Store is what a consumer's store holds at the end, as far as this run
// knows it.
type Store string

// The states of a store.
const (
	// StoreNew: the new secret is there, read back (or, for a command,
	// taken: it exited 0).
	StoreNew Store = "new secret"
	// StoreUnchanged: nothing was written; it holds what it held.
	StoreUnchanged Store = "unchanged"
	// StoreUnknown: a write started and did not finish as expected; the
	// reason says what is known.
	StoreUnknown Store = "unknown"
)

// Step names, in the order a delivery takes them.
const (
	StepConnect = "connect"
	StepStore   = "store"
	StepRestart = "restart"
	StepHealth  = "health"
)

// Result is one consumer's delivery.
type Result struct {
	Consumer string
	Host     string // the address its machine was reached at
	Method   inventory.Method
	Token    string // the qualified name it uses
	Store    Store
	// Restarted and Healthy are true once restart and health passed; a
	// consumer without them has them true as soon as its store is written
	// and the second phase ran.
	Restarted, Healthy bool
	// HealthAttempts is how many times health ran.
	HealthAttempts int
	// Step is where the delivery stopped ("" when it went through), with
	// the failure's kind and a one-line reason. A consumer left out of the
	// second phase because another's write failed has Step StepRestart,
	// an empty Failure and a reason naming that.
	Step    string
	Failure failure.Kind
	Reason  string
	Phases  []Phase
	Seconds float64
}

// Phase is one step's duration.
type Phase struct {
	Step    string
	Seconds float64
}

// OK reports whether the consumer has the secret and works again.
func (r Result) OK() bool { return r.Store == StoreNew && r.Restarted && r.Healthy && r.Step == "" }

// Report is a delivery to every consumer.
type Report struct {
	Results []Result
	// Activated is whether the second phase (restart, health) ran: only
	// when every store was written.
	Activated bool
}

// OK reports whether every consumer has the secret and works again.
func (r Report) OK() bool {
	for _, res := range r.Results {
		if !res.OK() {
			return false
		}
	}
	return true
}

// Deliverer delivers over one Dialer (shared bastion connections).
type Deliverer struct {
	Dialer *sshconn.Dialer
	// Fleet bounds the work: Concurrency machines at once, Timeout for
	// connecting and each of store and restart (health has its own).
	Fleet fleet.Options
}

// machine is the consumers reached over one SSH connection.
type machine struct {
	host    *inventory.Node // the first consumer's: how to connect
	indexes []int
}

// For are the consumers that use token, by same (equal names, or names of
// one rotation lineage).
func For(consumers []*inventory.Consumer, token string, same func(a, b string) bool) []*inventory.Consumer {
	var out []*inventory.Consumer
	for _, c := range consumers {
		if same(c.Token, token) {
			out = append(out, c)
		}
	}
	return out
}

// Deliver gives bearer to every consumer, then, when every store was
// written, restarts each and waits for its health. Results are in the
// order of consumers.
func (d *Deliverer) Deliver(ctx context.Context, consumers []*inventory.Consumer, bearer string) Report {
	results := make([]Result, len(consumers))
	for i, c := range consumers {
		results[i] = Result{Consumer: c.Name, Host: c.Host.Host, Method: c.Method, Token: c.Token, Store: StoreUnchanged}
	}
	machines := byMachine(consumers)
	var stored, done sync.WaitGroup
	stored.Add(len(machines))
	dl := &delivery{Deliverer: d, consumers: consumers, results: results, bearer: bearer,
		sem: make(chan struct{}, max(d.Fleet.Concurrency, 1)), stored: stored.Done, proceed: make(chan bool, len(machines))}
	for _, m := range machines {
		done.Add(1)
		go func() {
			defer done.Done()
			dl.onMachine(ctx, m)
		}()
	}
	stored.Wait()
	activate := true
	for _, r := range results {
		activate = activate && r.Store == StoreNew
	}
	for range machines {
		dl.proceed <- activate
	}
	done.Wait()
	return Report{Results: results, Activated: activate}
}

// delivery is one Deliver in progress: what every machine's goroutine
// shares. Each writes only the results of its own consumers.
type delivery struct {
	*Deliverer
	consumers []*inventory.Consumer
	results   []Result
	bearer    string
	sem       chan struct{} // a slot per machine at work (Fleet.Concurrency)
	stored    func()        // this machine's stores are written (or failed)
	proceed   chan bool     // after every store: whether to restart
}

// onMachine connects once, writes the store of each of m's consumers,
// then waits for proceed: restart and health-check them only when every
// consumer everywhere has the new secret. The slot is held while working,
// not while waiting.
func (dl *delivery) onMachine(ctx context.Context, m machine) {
	start := time.Now()
	dl.sem <- struct{}{}
	client, closeClient := dl.connect(ctx, m, start)
	if client != nil {
		for _, i := range m.indexes {
			dl.store(ctx, client, dl.consumers[i], dl.bearer, &dl.results[i])
		}
	}
	<-dl.sem
	dl.stored()
	activate := <-dl.proceed
	if client == nil {
		return
	}
	defer closeClient()
	dl.sem <- struct{}{}
	defer func() { <-dl.sem }()
	for _, i := range m.indexes {
		r := &dl.results[i]
		switch {
		case r.Step != "":
		case !activate:
			r.Step, r.Reason = StepRestart, "not restarted: the secret did not reach every consumer, so none was switched to it"
		default:
			dl.activate(ctx, client, dl.consumers[i], dl.bearer, r)
		}
		r.Seconds = time.Since(start).Seconds()
	}
}

// connect dials m's machine; on failure every consumer of m says why.
func (dl *delivery) connect(ctx context.Context, m machine, start time.Time) (*ssh.Client, func()) {
	d, results := dl.Deliverer, dl.results
	dctx, cancel := d.stepContext(ctx)
	defer cancel()
	client, err := d.Dialer.Dial(dctx, m.host)
	if err != nil {
		kind, reason := failure.Describe(dctx, err)
		for _, i := range m.indexes {
			results[i].Step, results[i].Failure, results[i].Reason = StepConnect, kind, reason.String()+"; nothing was delivered"
			results[i].Seconds = time.Since(start).Seconds()
		}
		return nil, nil
	}
	stop := context.AfterFunc(ctx, func() { client.Close() })
	for _, i := range m.indexes {
		results[i].Phases = append(results[i].Phases, Phase{StepConnect, time.Since(start).Seconds()})
	}
	return client, func() { stop(); client.Close() }
}

// stepContext bounds one step by the fleet's timeout.
func (d *Deliverer) stepContext(ctx context.Context) (context.Context, context.CancelFunc) {
	timeout := d.Fleet.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	return context.WithTimeout(ctx, timeout)
}

// byMachine groups consumers by the SSH connection that reaches them:
// one connection per machine and run, however many consumers it has.
func byMachine(consumers []*inventory.Consumer) []machine {
	var out []machine
	seen := map[string]int{}
	for i, c := range consumers {
		key := c.Host.User + "@" + c.Host.Address()
		for _, j := range c.Host.Jump {
			key += " via " + j.User + "@" + j.Address()
		}
		if k, ok := seen[key]; ok {
			out[k].indexes = append(out[k].indexes, i)
			continue
		}
		seen[key] = len(out)
		out = append(out, machine{host: c.Host, indexes: []int{i}})
	}
	return out
}
