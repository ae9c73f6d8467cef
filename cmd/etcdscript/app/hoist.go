package app

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// hoistGlobalFlags lets global flags follow the command, as etcdctl allows
// (`etcdscript run --embedded x.lua`): urfave/cli reads an app's flags only
// before the command name, so they are moved there. Scanning stops at "--"
// and, for run, at the script name: what follows it belongs to the script.
// In the same way a flag of a command that has subcommands may follow the
// subcommand (`migrate up --dir m`): it is moved back to its command.
func hoistGlobalFlags(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := flagArity(app.Flags)
	out := []string{args[0]}
	i := 1
	// Leading global flags stay where they are.
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		out = append(out, args[i])
		if takesValue(global, args[i]) && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
		i++
	}
	if i >= len(args) || args[i] == "--" {
		return append(out, args[i:]...)
	}
	// The command path: a command and its subcommands, each with the
	// flags that belong to it.
	cmds := app.Commands
	var (
		path  [][]string         // per command: its name, then its flags
		owner = map[string]int{} // flag name -> the deepest command defining it
		local = map[string]bool{}
	)
	for i < len(args) {
		cmd := findCommand(cmds, args[i])
		if cmd == nil {
			break
		}
		level := len(path)
		path = append(path, []string{args[i]})
		for k, v := range flagArity(cmd.Flags) {
			local[k] = v
			owner[k] = level
		}
		cmds = cmd.Subcommands
		i++
		// Flags between a command and its subcommand.
		for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" && len(cmds) > 0 {
			if _, ok := global[flagName(args[i])]; ok {
				break
			}
			path[level] = append(path[level], args[i])
			if takesValue(local, args[i]) && i+1 < len(args) {
				i++
				path[level] = append(path[level], args[i])
			}
			i++
		}
	}
	var rest []string
	for i < len(args) {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			if len(path) > 0 && path[0][0] == "run" {
				break // the script and its arguments
			}
			rest = append(rest, a)
			i++
			continue
		}
		name := flagName(a)
		to := &rest // the leaf's own flags stay after it
		if level, isLocal := owner[name]; isLocal {
			if level < len(path)-1 {
				// A flag of a command above the leaf (migrate --dir
				// after up) moves back to that command.
				to = &path[level]
			}
		} else if _, isGlobal := global[name]; isGlobal {
			to = &out
		}
		*to = append(*to, a)
		if (takesValue(local, a) || takesValue(global, a)) && i+1 < len(args) {
			i++
			*to = append(*to, args[i])
		}
		i++
	}
	for _, seg := range path {
		out = append(out, seg...)
	}
	out = append(out, rest...)
	return append(out, args[i:]...)
}

// flagArity maps each flag name and alias to whether it takes a value.
func flagArity(flags []cli.Flag) map[string]bool {
	m := map[string]bool{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			m[n] = !isBool
		}
	}
	return m
}

func flagName(arg string) string {
	name := strings.TrimLeft(arg, "-")
	name, _, _ = strings.Cut(name, "=")
	return name
}

// takesValue reports whether arg consumes the next argument as its value.
func takesValue(arity map[string]bool, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	return arity[flagName(arg)]
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
