package output

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Commands are the commands the tool prints as the way on from a state,
// as they can be pasted: with the run's inventory and local file, each
// word quoted for a shell when it needs it. A test runs each one in the
// state that printed it.
type Commands struct {
	Inventory, File string
}

func (c Commands) prefix() string {
	return fmt.Sprintf("es-service-tokens -i %s --file %s", shellWord(c.Inventory), shellWord(c.File))
}

// Push is the plain push of the local file to nodes (every node when
// none). An empty local file over nodes with tokens needs --force (the
// emptying guard), and there it is what was asked.
func (c Commands) Push(nodes []string, localEmpty bool) string {
	cmd := c.prefix() + " push"
	if len(nodes) > 0 {
		cmd += " --limit " + shellWord(strings.Join(nodes, ","))
	}
	if localEmpty {
		cmd += " --force"
	}
	return cmd
}

// PullInstead copies node's file beside the local one and makes it the
// local file.
func (c Commands) PullInstead(node string) string {
	out := pullTarget(c.File, node)
	return fmt.Sprintf("es-service-tokens -i %s pull %s --out %s && mv %s %s",
		shellWord(c.Inventory), shellWord(node), shellWord(out), shellWord(out), shellWord(c.File))
}

// pullTarget is a file beside the local one that does not exist yet, for
// pull's --out (pull never overwrites).
func pullTarget(file, node string) string {
	base := filepath.Join(filepath.Dir(file), filepath.Base(file)+"."+node)
	p := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
		p = fmt.Sprintf("%s.%d", base, i)
	}
}

// Deliver hands the secret in tokenFile to its token's consumers.
func (c Commands) Deliver(tokenFile string) string {
	return fmt.Sprintf("es-service-tokens -i %s deliver < %s", shellWord(c.Inventory), shellWord(tokenFile))
}

// DeliverTo delivers the bearer token on standard input to the consumers
// named: those a delivery did not reach.
func (c Commands) DeliverTo(consumers []string) string {
	cmd := c.prefix() + " deliver"
	for _, n := range consumers {
		cmd += " --consumer " + shellWord(n)
	}
	return cmd
}

// Rotate rotates token in mode.
func (c Commands) Rotate(mode rotate.Mode, token string) string {
	flag := map[rotate.Mode]string{rotate.Finish: "--finish ", rotate.Abort: "--abort "}[mode]
	return c.prefix() + " rotate " + flag + tokenWords(token)
}

// Delete deletes token everywhere.
func (c Commands) Delete(token string) string { return c.prefix() + " delete " + tokenWords(token) }

// tokenWords are a token's principal and name as command arguments; a
// name that starts with - goes after --.
func tokenWords(token string) string {
	principal, name, _ := tokens.SplitQualifiedName(token)
	if strings.HasPrefix(name, "-") {
		return shellWord(principal) + " -- " + shellWord(name)
	}
	return shellWord(principal) + " " + shellWord(name)
}

func shellWord(s string) string { return safetext.ShellWord(s) }

// DeliverKept finishes a create --deliver that did not end from the
// secret it kept: the push first, as the run may have stopped before
// every node had the token (on nodes that have it, the push changes
// nothing), then the delivery, which removes the kept file.
func (c Commands) DeliverKept(kept string) string {
	return c.Push(nil, false) + " && " + c.prefix() + " deliver < " + shellWord(kept)
}

// KeptSecret says where the secret of token is kept while a create
// --deliver has not ended its delivery, and the ways on: deliver it, or
// delete the token (which removes the kept file too).
func KeptSecret(cmds Commands, token, path string) string {
	what := fmt.Sprintf("the secret of %s is kept in %s: the create --deliver that made it did not end its delivery (killed, or still running)", token, path)
	if cmds.Inventory == "" {
		return what + "; run this again with -i and the inventory of its consumers for the commands that deliver it or delete the token"
	}
	return fmt.Sprintf("%s; deliver it to the token's consumers with: %s (which removes that file), or delete the token with: %s", what, cmds.DeliverKept(path), cmds.Delete(token))
}
