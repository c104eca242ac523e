package push

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// What a node's line says: its file's attributes, the tokens a push
// changes there, and why it is not written. Every word of a node's file
// shown here is a token name; nothing else read from a node is echoed.

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func describe(c *remotefile.Conn, st remotefile.State) Result {
	if !st.Exists {
		return Result{}
	}
	return Result{SHA256: st.SHA256, Owner: c.UserName(st.UID), Group: c.GroupName(st.GID), Mode: remotefile.Mode(st.Mode)}
}

// changes names the tokens a push adds, removes or changes on the node.
func changes(st remotefile.State, local *tokens.File) *tokens.Diff {
	onNode := tokens.NewFile()
	if st.Exists {
		f, err := tokens.Parse(st.Data)
		if err != nil {
			return nil // malformed: the reason says so elsewhere
		}
		onNode = f
	}
	d := tokens.Compare(onNode, local)
	return &d
}

// conflictReason says what the tool knows of a node whose file is
// neither the local file before a create or delete nor after it: not who
// changed it, only how it differs from the file before the change (or
// that Elasticsearch cannot load it). A push of the local file overwrites
// it (and repairs an unloadable one); a pull keeps its tokens.
func conflictReason(st remotefile.State, before []byte) remedy.Message {
	const neither = "the node's file is neither the local file before this change nor after it"
	node, err := tokens.Parse(st.Data)
	if err != nil {
		return remedy.Sprintf(neither+", and Elasticsearch cannot load it (%s): it serves no file token; not written: a push of the local file repairs it", tokens.Redacted(err))
	}
	prev, _ := tokens.Parse(before)
	d := tokens.Compare(node, prev)
	return remedy.Sprintf(neither+" (%s); not written: pull it to keep its tokens, or push the local file over it", DescribeDiff(d, "missing on node", "extra on node"))
}

// wouldChange is what a plan that writes would change: a dry run's reason.
func (t *txn) wouldChange() string {
	if !t.st.Exists {
		return "file missing: would create it"
	}
	if t.plan.repair != "" {
		return "would repair it (Elasticsearch cannot load it: " + t.plan.repair + "), keeping the broken file beside it"
	}
	var parts []string
	for _, m := range remotefile.Mismatches(t.st, t.plan.want, digest.SHA256(t.req.Data), t.c) {
		if m.What == "content" {
			parts = append(parts, "content")
		} else {
			parts = append(parts, fmt.Sprintf("%s %s -> %s", m.What, m.Seen, m.Want))
		}
	}
	return "would change " + strings.Join(parts, ", ")
}

// DescribeDiff names tokens for humans, never showing hashes. Each list
// is bounded (see nameList): a push of 10,000 tokens to 20 nodes must not
// print megabytes; JSON output keeps the full lists.
func DescribeDiff(d tokens.Diff, addedLabel, removedLabel string) string {
	var parts []string
	if len(d.Added) > 0 {
		parts = append(parts, nameList(addedLabel, d.Added))
	}
	if len(d.Removed) > 0 {
		parts = append(parts, nameList(removedLabel, d.Removed))
	}
	if len(d.Changed) > 0 {
		parts = append(parts, nameList("hash differs", d.Changed))
	}
	if len(parts) == 0 {
		return "same tokens, different bytes"
	}
	return strings.Join(parts, "; ")
}

// ShownNames is how many token names a text line lists before it only
// counts the rest.
const ShownNames = 5

// nameList is "label: a, b" for a short list and "label 3,000 tokens: a,
// b, c, d, e and 2,995 more" for a long one. Names come from files that
// anyone may have edited, so control characters are escaped.
func nameList(label string, names []string) string {
	shown := names
	if len(names) > ShownNames {
		shown = names[:ShownNames]
	}
	escaped := make([]string, len(shown))
	for i, n := range shown {
		escaped[i] = safetext.Bounded(n)
	}
	if len(names) <= ShownNames {
		return label + ": " + strings.Join(escaped, ", ")
	}
	return fmt.Sprintf("%s %s tokens: %s and %s more", label, Thousands(len(names)), strings.Join(escaped, ", "), Thousands(len(names)-ShownNames))
}

// Thousands writes n with comma separators: 10,000 reads at a glance.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// plural is "1 file" or "3 files".
func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return fmt.Sprint(n) + " " + s + "s"
}
