package luart

import "strings"

// The stable error codes of docs/lua.md ("Errors"). Scripts compare err.code
// against these strings (or etcd.errors.X), so their spelling never changes.
const (
	CodeCanceled         = "canceled"
	CodeDeadlineExceeded = "deadline_exceeded"
	CodeUnavailable      = "unavailable"
	CodeCompacted        = "compacted"
	CodeFutureRevision   = "future_revision"
	CodeEmptyKey         = "empty_key"
	CodeKeyNotFound      = "key_not_found"
	CodeTooManyOps       = "too_many_ops"
	CodeDuplicateKey     = "duplicate_key"
	CodeRequestTooLarge  = "request_too_large"
	CodeLeaseNotFound    = "lease_not_found"
	CodeAuthFailed       = "auth_failed"
	CodePermissionDenied = "permission_denied"
	CodeInvalidAuthToken = "invalid_auth_token"
	CodeNoLeader         = "no_leader"
	CodeInvalidArgument  = "invalid_argument"
	CodeLockTimeout      = "lock_timeout"
	CodeScriptTimeout    = "script_timeout"
	CodeMemoryLimit      = "memory_limit"
	CodeIOError          = "io_error"
	CodeInternal         = "internal"
)

// Codes returns every error code, in the order docs/lua.md lists them.
func Codes() []string {
	return []string{
		CodeCanceled, CodeDeadlineExceeded, CodeUnavailable, CodeCompacted,
		CodeFutureRevision, CodeEmptyKey, CodeKeyNotFound, CodeTooManyOps,
		CodeDuplicateKey, CodeRequestTooLarge, CodeLeaseNotFound, CodeAuthFailed,
		CodePermissionDenied, CodeInvalidAuthToken, CodeNoLeader,
		CodeInvalidArgument, CodeLockTimeout, CodeScriptTimeout,
		CodeMemoryLimit, CodeIOError, CodeInternal,
	}
}

// IsCode reports whether code is one of the stable error codes.
func IsCode(code string) bool {
	for _, c := range Codes() {
		if c == code {
			return true
		}
	}
	return false
}

// codeConstName is the name a code has in etcd.errors: upper case, so that
// etcd.errors.COMPACTED == "compacted".
func codeConstName(code string) string {
	return strings.ToUpper(code)
}
