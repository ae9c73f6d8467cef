package app

import (
	"fmt"
	"io"
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
			"  fish: etcdscript completion fish | source\n" +
			"Completing never runs a script or connects to etcd.",
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
				fmt.Fprint(p.Stdout, fishCompletion)
			default:
				return usageErrorf("completion: unknown shell %q (want bash, zsh or fish)", c.Args().First())
			}
			return nil
		},
	}
}

// completeFlag ends the command line of a completion request. The name is
// urfave/cli's, so scripts loaded from an older etcdscript still reach
// complete rather than running the command.
const completeFlag = "--generate-bash-completion"

// isCompletion reports whether args (with the program name) ask for
// completions. It holds whatever precedes the flag, "--" included: a
// completion request must never run a script.
func isCompletion(args []string) bool {
	return len(args) > 1 && args[len(args)-1] == completeFlag
}

// Directives complete prints, alone on the output, instead of candidates:
// the shell script completes file names itself.
const (
	completeLua   = ":lua"   // .lua files and directories
	completeFiles = ":files" // any file
	completeDirs  = ":dirs"  // directories
)

// complete prints the candidates for the last of words (the word being
// completed, possibly empty), one a line, or one of the directives above.
// It only looks at the command line: it runs nothing and connects nowhere.
func complete(app *cli.App, words []string, w io.Writer) {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, done := words[len(words)-1], words[:len(words)-1]
	global := flagArity(app.Flags)
	local := map[string]bool{}
	var (
		cmdFlags    []cli.Flag // of the command and the commands above it
		cmd         *cli.Command
		cmds        = app.Commands
		positional  int
		valueOf     string // the flag whose value cur is
		noMoreFlags bool
	)
	for _, word := range done {
		switch {
		case valueOf != "":
			valueOf = ""
		case word == "--" && !noMoreFlags:
			noMoreFlags = true
		case noMoreFlags || word == "-" || !strings.HasPrefix(word, "-"):
			if c := findCommand(cmds, word); c != nil && positional == 0 && word != "help" {
				cmd, cmds = c, c.Subcommands
				cmdFlags = append(c.Flags[:len(c.Flags):len(c.Flags)], cmdFlags...)
				for k, v := range flagArity(c.Flags) {
					local[k] = v
				}
				continue
			}
			positional++
		case takesValue(local, word) || takesValue(global, word):
			valueOf = flagName(word)
		}
	}
	lines := func(ss ...string) { fmt.Fprintln(w, strings.Join(ss, "\n")) }
	switch {
	case valueOf != "":
		switch valueOf {
		case flagWriteOut, "w":
			lines("simple", "json")
		case flagLogLevel:
			lines("debug", "info", "warn", "error")
		case flagConfig, flagCACert, flagCert, flagKey, "junit":
			lines(completeFiles)
		case flagDataDir, flagLib, "dir", "out":
			lines(completeDirs)
		}
	case cmd != nil && cmd.Name == "run" && positional > 0:
		// The script's own arguments: the shell's default completion.
	case strings.HasPrefix(cur, "-") && !noMoreFlags:
		lines(append(flagNames(cmdFlags), flagNames(app.Flags)...)...)
	case cmd == nil:
		lines(commandNames(app.Commands)...)
	case cmd.Name == "check" || cmd.Name == "test" || cmd.Name == "run" && positional == 0:
		lines(completeLua)
	case positional > 0:
		// A command's second argument: the shell's default completion.
	case cmd.Name == "completion":
		lines("bash", "zsh", "fish")
	case len(cmds) > 0:
		lines(commandNames(cmds)...)
	}
}

// flagNames are the spellings of flags on a command line: --name, -n.
func flagNames(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) == 1 {
				out = append(out, "-"+n)
			} else {
				out = append(out, "--"+n)
			}
		}
	}
	return out
}

func commandNames(cmds []*cli.Command) []string {
	var out []string
	for _, c := range cmds {
		if c.Name != "help" && !c.Hidden {
			out = append(out, c.Name)
		}
	}
	return out
}

// The scripts pass the words before the cursor and the word being
// completed (even when empty) to the program, and complete file names
// themselves when it answers with a directive.
var bashCompletion = strings.TrimLeft(`
_etcdscript_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" out
  out=$("${COMP_WORDS[@]:0:COMP_CWORD}" "$cur" `+completeFlag+` 2>/dev/null)
  COMPREPLY=()
  case "$out" in
    `+completeLua+`)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.lua' -- "$cur")) ;;
    `+completeFiles+`)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -f -- "$cur")) ;;
    `+completeDirs+`)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -d -- "$cur")) ;;
    *)
      COMPREPLY=($(compgen -W "$out" -- "$cur")) ;;
  esac
  return 0
}
complete -o default -F _etcdscript_complete etcdscript
`, "\n")

var zshCompletion = strings.TrimLeft(`
#compdef etcdscript
_etcdscript() {
  local out
  local -a opts
  out=$("${words[1]}" "${(@)words[2,CURRENT]}" `+completeFlag+` 2>/dev/null)
  case "$out" in
    `+completeLua+`) _files -g '*.lua' ;;
    `+completeFiles+`) _files ;;
    `+completeDirs+`) _files -/ ;;
    *)
      if [[ -n "$out" ]]; then
        opts=("${(@f)out}")
        compadd -a opts
      else
        _files
      fi ;;
  esac
}
compdef _etcdscript etcdscript
`, "\n")

var fishCompletion = strings.TrimLeft(`
function __etcdscript_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    # fish does not take a variable as a command name; command does.
    set -l out (command $words "$cur" `+completeFlag+` 2>/dev/null)
    switch "$out[1]"
        case `+completeLua+`
            __fish_complete_path "$cur" | string match -r -- '^[^\t]*(?:/|\.lua)(?:\t.*)?$'
        case `+completeFiles+`
            __fish_complete_path "$cur"
        case `+completeDirs+`
            __fish_complete_directories "$cur"
        case '*'
            printf '%s\n' $out
    end
end
complete -c etcdscript -f -a '(__etcdscript_complete)'
`, "\n")
