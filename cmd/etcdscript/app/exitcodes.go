package app

// Exit codes of etcdscript, in one place (docs/cli.md); etcdctl's
// numbers where the meaning is the same.
const (
	ExitOK          = 0   // done
	ExitScriptError = 1   // the script raised an error nothing caught
	ExitConnect     = 2   // no endpoint reachable within --dial-timeout, TLS failed
	ExitSyntax      = 3   // invalid script
	ExitInterrupted = 5   // SIGINT or SIGTERM
	ExitIO          = 6   // the script, a config or a directory could not be read
	ExitTimeout     = 11  // the script's --timeout passed
	ExitMigration   = 12  // migration refused
	ExitMemory      = 13  // the run went over --max-memory
	ExitUsage       = 128 // bad command-line arguments
)
