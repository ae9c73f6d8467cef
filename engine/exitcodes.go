package engine

// Exit codes of a run (docs/cli.md), etcdctl's numbers where the
// meaning is the same. Result.ExitCode holds one of them, or the n of
// os.exit(n). The CLI uses the same numbers for its own failures.
const (
	ExitOK          = 0   // the script finished
	ExitError       = 1   // the script raised an error that nothing caught
	ExitConnect     = 2   // no etcd endpoint was reachable
	ExitSyntax      = 3   // the script does not compile
	ExitInterrupted = 5   // the run's context was canceled (SIGINT, SIGTERM)
	ExitIO          = 6   // the script could not be read
	ExitTimeout     = 11  // the run's Timeout (or its context's deadline) passed
	ExitMigration   = 12  // a migration was refused
	ExitMemory      = 13  // the run went over its memory budget (Config.MaxMemory)
	ExitUsage       = 128 // bad command-line arguments
)

// ExitCode returns the exit code an error returned by RunFile or RunString
// stands for: 0 for nil, the ScriptError's code, and ExitError for any other
// error.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if se, ok := AsScriptError(err); ok {
		return se.ExitCode
	}
	return ExitError
}
