package output

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
)

// A consumer that failed before any phase (its machine unreachable) has
// "phases": [], as every list of the JSON output is, not null.
func TestDeliveryJSONPhasesIsArray(t *testing.T) {
	b, err := json.Marshal(consumerOf(deliver.Result{Consumer: "kibana", Step: deliver.StepConnect}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"phases":[]`) {
		t.Errorf("consumer %s: phases is not an empty array", b)
	}
}
