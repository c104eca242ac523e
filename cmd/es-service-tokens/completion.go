package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// Completion scripts ask the binary itself for candidates (urfave/cli's
// --generate-bash-completion), so they never go stale. The bash script
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
`

func (t *tool) completion(c *cli.Context) error {
	switch shell := c.Args().First(); shell {
	case "bash":
		_, err := fmt.Fprint(t.stdout, bashCompletion)
		return err
	case "zsh":
		_, err := fmt.Fprint(t.stdout, zshCompletion)
		return err
	case "fish":
		script, err := c.App.ToFishCompletion()
		if err != nil {
			return err
		}
		_, err = fmt.Fprint(t.stdout, script)
		return err
	default:
		return &exitError{code: exitUsage, msg: fmt.Sprintf("completion for %q: choose bash, zsh or fish", shell),
			usage: usageLine(c.Command)}
	}
}

// completePrincipals offers the service accounts as the first argument.
func completePrincipals(c *cli.Context) {
	if c.NArg() > 0 {
		return
	}
	fmt.Fprintln(c.App.Writer, strings.Join(principalNames(), "\n"))
}
