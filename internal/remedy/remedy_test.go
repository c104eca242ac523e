package remedy_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
)

// flags is a caller's table of words, as cmd has one.
func flags(k remedy.Kind) string {
	return map[remedy.Kind]string{remedy.Force: "--force", remedy.Limit: "--limit", remedy.Timeout: "--timeout"}[k]
}

func TestPhraseInPlace(t *testing.T) {
	err := remedy.Errorf(remedy.Force, "not written: use %v to replace it", remedy.Force)
	if got, want := err.Error(), "not written: use force to replace it"; got != want {
		t.Errorf("plain: %q, want %q", got, want)
	}
	if got, want := remedy.Phrase(err, flags), "not written: use --force to replace it"; got != want {
		t.Errorf("phrased: %q, want %q", got, want)
	}
	if remedy.KindOf(err) != remedy.Force {
		t.Errorf("KindOf = %v", remedy.KindOf(err))
	}
}

// A wrapper copies the plain text; Phrase still finds it, at any depth,
// and a message that wraps another phrases both.
func TestPhraseThroughWrappers(t *testing.T) {
	inner := remedy.Errorf(remedy.Timeout, "no result within 5s (%v)", remedy.Timeout)
	outer := fmt.Errorf("node es-1: %w", inner)
	if got, want := remedy.Phrase(outer, flags), "node es-1: no result within 5s (--timeout)"; got != want {
		t.Errorf("wrapped: %q, want %q", got, want)
	}
	both := remedy.Errorf(remedy.Limit, "%v es-9: %w", remedy.Limit, outer)
	if got, want := remedy.Phrase(fmt.Errorf("push: %w", both), flags), "push: --limit es-9: node es-1: no result within 5s (--timeout)"; got != want {
		t.Errorf("nested: %q, want %q", got, want)
	}
	if !errors.Is(both, inner) {
		t.Error("%w does not unwrap")
	}
	joined := errors.Join(errors.New("first"), inner)
	if got, want := remedy.Phrase(joined, flags), "first\nno result within 5s (--timeout)"; got != want {
		t.Errorf("joined: %q, want %q", got, want)
	}
}

func TestMessage(t *testing.T) {
	m := remedy.Sprintf("%v outside %v: %v", remedy.Text("es-2"), remedy.Limit, remedy.Errorf(remedy.Force, "use %v", remedy.Force))
	if got, want := m.Phrase(flags), "es-2 outside --limit: use --force"; got != want {
		t.Errorf("Phrase: %q, want %q", got, want)
	}
	if got, want := m.String(), "es-2 outside limit: use force"; got != want {
		t.Errorf("String: %q, want %q", got, want)
	}
	if !remedy.Text("").IsZero() || (remedy.Message{}).Phrase(flags) != "" {
		t.Error("the empty message is not empty")
	}
	// A kind the caller has no word for keeps its plain words.
	if got := remedy.Sprintf("%v", remedy.ESHome).Phrase(flags); got != "es home" {
		t.Errorf("unnamed kind: %q", got)
	}
}

func TestAppendAndOneLine(t *testing.T) {
	m := remedy.Text("locked").Append("; use %v", remedy.BreakLock).Append("; the file is unchanged")
	if got, want := m.Phrase(flags), "locked; use break lock; the file is unchanged"; got != want {
		t.Errorf("Append: %q, want %q", got, want)
	}
	if got := (remedy.Message{}).Append("x %v", remedy.Force).Phrase(flags); got != "x --force" {
		t.Errorf("Append to nothing: %q", got)
	}
	wrapped := remedy.Sprintf("a\n  b %v\t(%v)", errors.New("c\nd"), remedy.Timeout).OneLine()
	if got, want := wrapped.Phrase(flags), "a b c d (--timeout)"; got != want {
		t.Errorf("OneLine: %q, want %q", got, want)
	}
}

// A library's own error type that keeps a Message is phrased too.
type nodeError struct{ msg remedy.Message }

func (e *nodeError) Error() string                   { return e.msg.String() }
func (e *nodeError) Phrase(name remedy.Namer) string { return e.msg.Phrase(name) }

func TestPhraser(t *testing.T) {
	err := fmt.Errorf("es-1: %w", &nodeError{remedy.Sprintf("no answer (%v)", remedy.Timeout)})
	if got, want := remedy.Phrase(err, flags), "es-1: no answer (--timeout)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestEveryKindHasWords(t *testing.T) {
	for _, k := range remedy.Kinds() {
		if s := k.String(); s == "" || strings.HasPrefix(s, "remedy.Kind(") {
			t.Errorf("kind %d has no words: %q", int(k), s)
		}
	}
}

// A library writes the option as a Kind; its caller phrases it.
func Example() {
	err := remedy.Errorf(remedy.Force, "the node's file was changed by someone else; not written: use %v to overwrite", remedy.Force)
	fmt.Println(err)
	fmt.Println(remedy.Phrase(err, func(k remedy.Kind) string {
		if k == remedy.Force {
			return "--force"
		}
		return ""
	}))
	// Output:
	// the node's file was changed by someone else; not written: use force to overwrite
	// the node's file was changed by someone else; not written: use --force to overwrite
}
