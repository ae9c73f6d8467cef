package app

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

func completionCommand(p Process) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: "Load it in your shell, e.g.\n" +
			"  bash: source <(etcdscript completion bash)\n" +
			"  zsh:  source <(etcdscript completion zsh)\n" +
			"  fish: etcdscript completion fish | source",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("completion needs one shell: bash, zsh or fish")
			}
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(p.Stdout, bashCompletion)
			case "zsh":
				fmt.Fprint(p.Stdout, zshCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(p.Stdout, s)
			default:
				return usageErrorf("completion: unknown shell %q (want bash, zsh or fish)", c.Args().First())
			}
			return nil
		},
	}
}

// The bash and zsh scripts ask the program itself for candidates through
// urfave/cli's --generate-bash-completion protocol.
var bashCompletion = strings.TrimLeft(`
_etcdscript_complete() {
  local cur opts
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "${cur}" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  if [[ ${#COMPREPLY[@]} -eq 0 ]]; then
    COMPREPLY=($(compgen -f -- "${cur}"))
  fi
  return 0
}
complete -o default -F _etcdscript_complete etcdscript
`, "\n")

var zshCompletion = strings.TrimLeft(`
#compdef etcdscript
_etcdscript() {
  local -a opts
  local cur
  cur=${words[-1]}
  if [[ "$cur" == "-"* ]]; then
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
compdef _etcdscript etcdscript
`, "\n")
