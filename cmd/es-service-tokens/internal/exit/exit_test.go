package exit

import (
	"errors"
	"fmt"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Each error means the code docs/exit-codes.md gives it, wrapped or not;
// an error of no known kind is a failed result (1).
func TestCodeOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{Fail(CantCreate, "x"), CantCreate},
		{fmt.Errorf("run: %w", Silent(2)), 2},
		{&inventory.Error{File: "f", Line: 1, Msg: "bad"}, Config},
		{fmt.Errorf("load: %w", &store.IOError{}), IOError},
		{esconfig.ErrNoLocation, Config},
		{errors.New("a node failed"), Failed},
	} {
		if got := CodeOf(c.err); got != c.code {
			t.Errorf("CodeOf(%v) = %d, want %d", c.err, got, c.code)
		}
	}
}

// Fail phrases the options a library's error names as flags.
func TestFailPhrasesOptions(t *testing.T) {
	err := Fail(Failed, "push: %v", remedy.Errorf(remedy.Force, "use %v to overwrite", remedy.Force))
	if err.Error() != "push: use --force to overwrite" {
		t.Errorf("%q", err.Error())
	}
}
