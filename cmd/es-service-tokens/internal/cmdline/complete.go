package cmdline

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Completion scripts ask the binary itself for candidates (urfave/cli's
// --generate-bash-completion protocol, answered by complete), so they
// never go stale. The bash script
// needs no bash-completion package.
const bashCompletion = `# bash completion for es-service-tokens; load with:
#   source <(es-service-tokens completion bash)
_es_service_tokens() {
  local cur="${COMP_WORDS[COMP_CWORD]}" opts
  if [[ "$cur" == -* ]]; then
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o default -F _es_service_tokens es-service-tokens
`

const zshCompletion = `#compdef es-service-tokens
# zsh completion for es-service-tokens; load with:
#   source <(es-service-tokens completion zsh)
_es_service_tokens() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _es_service_tokens es-service-tokens
# Autoloaded from $fpath (the packages install this as _es-service-tokens),
# the file is the completion function's body: complete the current word too.
if [[ "${funcstack[1]}" == "_es-service-tokens" ]]; then
  _es_service_tokens "$@"
fi
`

// Script is the completion script for shell.
func Script(c *cli.Context, shell string) (string, error) {
	switch shell {
	case "bash":
		return bashCompletion, nil
	case "zsh":
		return zshCompletion, nil
	case "fish":
		return c.App.ToFishCompletion()
	}
	return "", &UsageError{msg: fmt.Sprintf("completion for %q: choose bash, zsh or fish", safetext.Input(shell)), usage: Usage(c.Command)}
}

// Completer answers the completion scripts: for --limit and pull it
// offers the names in the inventory given with -i, loaded by Inventory
// (nil when it cannot be: a broken inventory completes nothing rather than
// print errors into the user's command line).
type Completer struct {
	App       *cli.App
	Inventory func(path, sshConfig string) *inventory.Inventory
}

// Complete prints the candidates for the last word of a command line cut
// at the cursor (the completion scripts' protocol: the words, then
// --generate-bash-completion). It knows every flag, so it can offer a
// flag's values: node and group names from the inventory given with -i for
// --limit and pull, text and json for --format. It prints nothing where a
// file name is wanted, and the scripts then complete paths.
func (k Completer) Complete(w io.Writer, words []string) {
	app := k.App
	// The scripts pass the word under the cursor only when it starts with
	// '-'; otherwise every word is complete and a new one is wanted.
	last, context := "", words
	if n := len(words); n > 0 && strings.HasPrefix(words[n-1], "-") {
		last, context = words[n-1], words[:n-1]
	}
	if out := k.candidates(readTyped(app, context), last); len(out) > 0 {
		fmt.Fprintln(w, strings.Join(out, "\n"))
	}
}

// typed is what the words before the cursor say.
type typed struct {
	cmd            *cli.Command
	help           bool
	inv, sshConfig string // -i and --ssh-config, to list node names
	positional     int
}

func readTyped(app *cli.App, words []string) typed {
	globals := flagArity(app.Flags)
	var s typed
	for i := 0; i < len(words); i++ {
		w := words[i]
		if len(w) > 1 && w[0] == '-' {
			name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			takes := globals[name]
			if s.cmd != nil && HasFlag(s.cmd.Flags, name) {
				takes = flagArity(s.cmd.Flags)[name]
			} else if !hasKey(globals, name) {
				takes = anyCommandFlagTakesValue(app, name)
			}
			if takes && !hasValue && i+1 < len(words) {
				i++
				value = words[i]
			}
			switch name {
			case "i", "inventory":
				s.inv = value
			case "ssh-config":
				s.sshConfig = value
			}
			continue
		}
		switch {
		case s.cmd == nil && w == "help" && !s.help:
			s.help = true
		case s.cmd == nil:
			s.cmd = app.Command(w)
		default:
			s.positional++
		}
	}
	return s
}

// candidates are the completions of last after what was typed.
func (k Completer) candidates(s typed, last string) []string {
	app := k.App
	flagValue := strings.TrimLeft(last, "-")
	switch {
	case len(last) > 1 && last[0] == '-' && takesValue(app, s.cmd, flagValue):
		return k.flagValues(flagValue, s.inv, s.sshConfig)
	case strings.HasPrefix(last, "-"):
		return flagNames(app, s.cmd, last)
	case s.cmd == nil:
		var out []string
		for _, c := range app.Commands {
			if !c.Hidden {
				out = append(out, c.Name)
			}
		}
		if !s.help {
			out = append(out, "help")
		}
		return out
	case s.positional > 0:
		return nil
	case s.cmd.Name == "create" || s.cmd.Name == "delete" || s.cmd.Name == "list" || s.cmd.Name == "rotate":
		return principalNames()
	case s.cmd.Name == "pull":
		return k.nodeNames(s.inv, s.sshConfig, false)
	case s.cmd.Name == "completion":
		return []string{"bash", "zsh", "fish"}
	}
	return nil
}

func anyCommandFlagTakesValue(app *cli.App, name string) bool {
	for _, c := range app.Commands {
		if v, ok := flagArity(c.Flags)[name]; ok {
			return v
		}
	}
	return false
}

// takesValue reports whether name (the word before the cursor) is a whole
// option that takes a value.
func takesValue(app *cli.App, cmd *cli.Command, name string) bool {
	if cmd != nil && HasFlag(cmd.Flags, name) {
		return flagArity(cmd.Flags)[name]
	}
	if hasKey(flagArity(app.Flags), name) {
		return flagArity(app.Flags)[name]
	}
	return cmd == nil && anyCommandFlagTakesValue(app, name)
}

func flagNames(app *cli.App, cmd *cli.Command, prefix string) []string {
	flags := append([]cli.Flag(nil), app.Flags...)
	if cmd != nil {
		flags = append(flags, cmd.Flags...)
	}
	var out []string
	for _, f := range flags {
		for _, n := range f.Names() {
			dash := "--"
			if len(n) == 1 {
				dash = "-"
			}
			if strings.HasPrefix(dash+n, prefix) {
				out = append(out, dash+n)
			}
		}
	}
	return out
}

func (k Completer) flagValues(name, inv, sshConfig string) []string {
	switch name {
	case "format":
		return []string{"text", "json"}
	case "limit", "l":
		return k.nodeNames(inv, sshConfig, true)
	case "consumer":
		return k.completeConsumers(inv, sshConfig)
	case "E":
		return []string{tokens.HashingSetting + "="}
	}
	return nil // a path, or a number: the shell's own completion
}

// completionInventory loads the inventory named on the command line.
func (k Completer) completionInventory(inv, sshConfig string) *inventory.Inventory {
	if inv == "" || k.Inventory == nil {
		return nil
	}
	return k.Inventory(inv, sshConfig)
}

// completeConsumers lists the inventory's consumers, for rotate's consumer
// option.
func (k Completer) completeConsumers(inv, sshConfig string) []string {
	loaded := k.completionInventory(inv, sshConfig)
	if loaded == nil {
		return nil
	}
	var out []string
	for _, c := range loaded.Consumers {
		out = append(out, c.Name)
	}
	return out
}

// nodeNames lists the inventory's nodes (and groups).
func (k Completer) nodeNames(inv, sshConfig string, groups bool) []string {
	loaded := k.completionInventory(inv, sshConfig)
	if loaded == nil {
		return nil
	}
	var out []string
	for _, n := range loaded.Nodes {
		out = append(out, n.Name)
	}
	if groups {
		var gs []string
		for g := range loaded.Groups {
			gs = append(gs, g)
		}
		sort.Strings(gs)
		out = append(out, gs...)
	}
	return out
}

// principalNames are the service accounts, for the commands that take one.
func principalNames() []string {
	var names []string
	for _, a := range tokens.Accounts() {
		names = append(names, a.Principal)
	}
	return names
}
