package deliver

import (
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// The bearer, and its secret alone, never survive in quoted output.
func TestScrub(t *testing.T) {
	bearer, secret := newBearer(t)
	s := scrub("got "+bearer+" and "+secret+" and more", bearer)
	if strings.Contains(s, secret) || strings.Count(s, "[secret]") != 2 {
		t.Errorf("scrub = %q", s)
	}
	if got := lastLine("a\n\nwhy it failed\x1b[31m\n\n"); got != `why it failed\x1b[31m` {
		t.Errorf("lastLine = %q", got)
	}
}

// Consumers on one machine (same login, address and bastions) share one
// connection; another login or bastion is another connection.
func TestByMachine(t *testing.T) {
	mk := func(user, host string, jump ...string) *inventory.Consumer {
		n := &inventory.Node{Endpoint: inventory.Endpoint{User: user, Host: host, Port: 22}}
		for _, j := range jump {
			n.Jump = append(n.Jump, inventory.Endpoint{User: user, Host: j, Port: 22})
		}
		return &inventory.Consumer{Host: n}
	}
	ms := byMachine([]*inventory.Consumer{mk("root", "a"), mk("root", "b"), mk("root", "a"), mk("deploy", "a"), mk("root", "a", "bastion")})
	if len(ms) != 4 || len(ms[0].indexes) != 2 || ms[0].indexes[1] != 2 {
		t.Errorf("machines: %d, first %v", len(ms), ms[0].indexes)
	}
}

// Each consumer's outcome has one word, the summary counts them in a
// fixed order, and Holding names whose store may hold the secret.
func TestStatusSummaryHolding(t *testing.T) {
	rep := Report{Results: []Result{
		{Consumer: "a", Store: StoreNew, Restarted: true, Healthy: true},
		{Consumer: "b", Store: StoreNew, Step: StepRestart, Reason: "not restarted"},
		{Consumer: "c", Store: StoreNew, Restarted: true, Step: StepHealth},
		{Consumer: "d", Store: StoreUnknown, Step: StepStore},
		{Consumer: "e", Store: StoreUnchanged, Step: StepConnect},
	}}
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Status())
	}
	if strings.Join(got, " ") != "delivered stored unhealthy failed failed" {
		t.Errorf("statuses %v", got)
	}
	if s := rep.Summary(); s != "1 delivered, 1 stored, 1 unhealthy, 2 failed" {
		t.Errorf("summary %q", s)
	}
	stored, unknown := rep.Holding()
	if strings.Join(stored, ",") != "a,b,c" || strings.Join(unknown, ",") != "d" {
		t.Errorf("holding %v, %v", stored, unknown)
	}
}
