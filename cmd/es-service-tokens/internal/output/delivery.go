package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
)

// printDelivery renders a delivery for people: one line per consumer,
// then where the secret is.
func printDelivery(w io.Writer, token string, rep deliver.Report) {
	fmt.Fprintf(w, "deliver %s to %s\n", token, Plural(len(rep.Results), "consumer"))
	rs := rep.Results
	width := nameWidth(len(rs), func(i int) string { return rs[i].Consumer })
	for _, r := range rs {
		line := fmt.Sprintf("%-*s  %-15s  %-10s  %6.2fs  %s", width, r.Consumer, r.Method, r.Status(), r.Seconds, phases(r))
		if r.Reason != "" {
			line += "  " + r.Step + ": " + OneLine(r.Reason)
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
		Reason: r.Reason, Seconds: r.Seconds, Phases: append([]phaseJSON{}, each(r.Phases, func(p deliver.Phase) phaseJSON { return phaseJSON(p) })...)}
}

func deliveryOf(token string, rep deliver.Report) deliveryJSON {
	return deliveryJSON{Command: "deliver", Token: token, Delivered: rep.OK(), Activated: rep.Activated,
		Consumers: each(rep.Results, consumerOf), Summary: rep.Summary()}
}

// Delivery is a delivery to render: the consumers' report (nil when none
// was attempted) and, when the secret did not reach them all, where it
// is (Secret: "consumers", "token file" or "removed") and what that means
// (Note).
type Delivery struct {
	Token  string
	Report *deliver.Report
	// Proof is the proof by secret the delivery waited for (deliver;
	// create's is in its push report).
	Proof             *prove.Report
	Secret, TokenFile string
	Note              string
}

// Delivered renders a delivery: its JSON document, or the proof, the
// consumers' lines (when there was a delivery) and the note.
func Delivered(w io.Writer, asJSON bool, d Delivery) error {
	if asJSON {
		doc := deliveryJSON{Command: "deliver", Token: d.Token, Consumers: []consumerJSON{}, Summary: "not delivered"}
		if d.Report != nil {
			doc = deliveryOf(d.Token, *d.Report)
		}
		doc.SecretProof, doc.Secret, doc.TokenFile, doc.Note = proofOf(d.Proof), d.Secret, d.TokenFile, d.Note
		return JSON(w, doc)
	}
	printProof(w, d.Proof) // what the delivery rests on, as create prints it
	if d.Report != nil {
		printDelivery(w, d.Token, *d.Report)
	}
	if d.Note == "" {
		return nil
	}
	_, err := fmt.Fprintln(w, d.Note)
	return err
}
