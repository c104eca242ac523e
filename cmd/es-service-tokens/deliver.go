package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/audit"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

func deliverFlag() cli.Flag {
	return &cli.BoolFlag{Name: "deliver", Usage: "hand the new secret to the inventory's consumers of the token once every node accepts it (the secret is not printed)"}
}

// sameLineage matches a consumer's token to the current one across
// rotations: kibana-1 and kibana-1-20261202T203000Z are one token's line.
func sameLineage(a, b string) bool { return meta.Lineage(a) == meta.Lineage(b) }

// consumersOf are the inventory's consumers of token (by lineage).
func consumersOf(inv *inventory.Inventory, token string) []*inventory.Consumer {
	if inv == nil {
		return nil
	}
	return deliver.For(inv.Consumers, token, sameLineage)
}

// consumerNames are the names of consumers, for messages and records.
func consumerNames(cs []*inventory.Consumer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// planDelivery finds the consumers of token and loads the keys of their
// machines, before anything changes: a consumer that cannot be reached for
// a bad key is found before the token exists.
func (t *tool) planDelivery(r *remote, token string) ([]*inventory.Consumer, error) {
	cs := consumersOf(r.inv, token)
	if len(cs) == 0 {
		return nil, fail(exitConfig, "no consumer in %s uses %s: add one under consumers: with token: %s, or leave out --deliver", r.inv.File, token, token)
	}
	if err := prepareConsumerKeys(r.dialer.Auth, cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// prepareConsumerKeys loads the keys of each consumer's machine and its
// bastions, naming the consumer whose key is bad.
func prepareConsumerKeys(auth *sshconn.Auth, cs []*inventory.Consumer) error {
	for _, c := range cs {
		eps := append(append([]inventory.Endpoint{}, c.Host.Jump...), c.Host.Endpoint)
		if err := auth.Prepare(eps); err != nil {
			return fail(exitConfig, "consumer %s: %v", c.Name, err)
		}
	}
	return nil
}

// delivered records a delivery in the audit record.
func (a *auditRun) delivered(rep deliver.Report) {
	if a == nil {
		return
	}
	var cs []audit.Consumer
	for _, r := range rep.Results {
		cs = append(cs, audit.Consumer{Name: r.Consumer, Method: string(r.Method), Result: r.Status(), Store: string(r.Store), Reason: r.Reason})
	}
	a.rec.Delivered(cs, rep.Summary())
}

// printDelivery renders a delivery for people: one line per consumer,
// then where the secret is.
func printDelivery(w io.Writer, token string, rep deliver.Report) {
	fmt.Fprintf(w, "deliver %s to %s\n", token, plural(len(rep.Results), "consumer"))
	rs := rep.Results
	width := nameWidth(len(rs), func(i int) string { return rs[i].Consumer })
	for _, r := range rs {
		line := fmt.Sprintf("%-*s  %-15s  %-10s  %6.2fs  %s", width, r.Consumer, r.Method, r.Status(), r.Seconds, phases(r))
		if r.Reason != "" {
			line += "  " + r.Step + ": " + oneLine(r.Reason)
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintln(w, rep.Summary())
}

// phases is "store 0.41s, restart 0.10s, health 1.20s (2 attempts)".
func phases(r deliver.Result) string {
	var parts []string
	for _, p := range r.Phases {
		if p.Step == deliver.StepConnect {
			continue
		}
		s := fmt.Sprintf("%s %.2fs", p.Step, p.Seconds)
		if p.Step == deliver.StepHealth && r.HealthAttempts > 1 {
			s += fmt.Sprintf(" (%d attempts)", r.HealthAttempts)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// deliveryJSON is the document create --deliver and deliver print for a
// delivery.
type deliveryJSON struct {
	Command   string         `json:"command"`
	Token     string         `json:"token"`
	Delivered bool           `json:"delivered"`
	Activated bool           `json:"activated"`
	Consumers []consumerJSON `json:"consumers"`
	Summary   string         `json:"summary"`
	// SecretProof is the proof by secret the delivery waited for
	// (deliver; create's is in its push document).
	SecretProof *proofJSON `json:"secret_proof,omitempty"`
	// Secret says where the secret is when the delivery failed: "token
	// file", "consumers" or "removed" (the token was taken back).
	Secret    string `json:"secret,omitempty"`
	TokenFile string `json:"token_file,omitempty"`
	Note      string `json:"note,omitempty"`
}

// consumerJSON is a deliver.Result.
type consumerJSON struct {
	Name           string      `json:"name"`
	Host           string      `json:"host"`
	Method         string      `json:"method"`
	Result         string      `json:"result"`
	Store          string      `json:"store"`
	Restarted      bool        `json:"restarted"`
	Healthy        bool        `json:"healthy"`
	HealthAttempts int         `json:"health_attempts"`
	Step           string      `json:"step,omitempty"`
	Failure        string      `json:"failure,omitempty"`
	Reason         string      `json:"reason,omitempty"`
	Seconds        float64     `json:"seconds"`
	Phases         []phaseJSON `json:"phases"`
}

// phaseJSON is a deliver.Phase.
type phaseJSON struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

func consumerOf(r deliver.Result) consumerJSON {
	return consumerJSON{Name: r.Consumer, Host: r.Host, Method: string(r.Method), Result: r.Status(), Store: string(r.Store),
		Restarted: r.Restarted, Healthy: r.Healthy, HealthAttempts: r.HealthAttempts, Step: r.Step, Failure: string(r.Failure),
		Reason: r.Reason, Seconds: r.Seconds, Phases: each(r.Phases, func(p deliver.Phase) phaseJSON { return phaseJSON(p) })}
}

func deliveryOf(token string, rep deliver.Report) deliveryJSON {
	return deliveryJSON{Command: "deliver", Token: token, Delivered: rep.OK(), Activated: rep.Activated,
		Consumers: each(rep.Results, consumerOf), Summary: rep.Summary()}
}
