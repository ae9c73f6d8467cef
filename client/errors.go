package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var (
	// ErrNoAvailableEndpoints is returned by New when Config.Endpoints is empty.
	ErrNoAvailableEndpoints = errors.New("etcdclient: no available endpoints")
	// ErrMutuallyExclusiveCfg is returned by New when Config.Token is set
	// together with Config.Username or Config.Password.
	ErrMutuallyExclusiveCfg = errors.New("Username/Password and Token configurations are mutually exclusive") //nolint:staticcheck // clientv3's text
	// ErrOldCluster is returned by New when Config.RejectOldCluster is set and
	// an endpoint runs a server older than 3.2.
	ErrOldCluster = errors.New("etcdclient: old cluster version")
	// ErrInvalidArgument is wrapped by every error that reports bad input
	// found before a request is sent: a nil context, contradictory options,
	// a negative limit, a Txn built in the wrong order. The message names
	// what was wrong.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrClientClosed is returned by calls made after Close.
	ErrClientClosed = errors.New("etcdclient: client is closed")
	// ErrResponseTooLarge is wrapped by the error of a call whose response
	// was larger than Config.MaxCallRecvMsgSize. The server did the work
	// (a Txn or a Put is applied); only the answer was refused. Classify
	// gives it the code request_too_large, the one the error codes have
	// for size limits.
	ErrResponseTooLarge = errors.New("etcdclient: response larger than Config.MaxCallRecvMsgSize")
)

// invalidArg builds an error wrapping ErrInvalidArgument.
func invalidArg(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// ConnectError is returned when a call (or New with a DialTimeout) ran out of
// time while no endpoint was reachable. It names the last connection error
// seen, so a refused port or a failed TLS handshake is not hidden behind a
// bare "context deadline exceeded". errors.Is(err, context.DeadlineExceeded)
// (or context.Canceled) still holds.
type ConnectError struct {
	// Err is the context error that ended the wait.
	Err error
	// Endpoint is the endpoint of the last failed connection attempt.
	Endpoint string
	// Cause is the last connection error: a refused dial, a TLS failure.
	Cause error
}

func (e *ConnectError) Error() string {
	if e.Cause == nil {
		return fmt.Sprintf("%v: no etcd endpoint reachable", e.Err)
	}
	return fmt.Sprintf("%v: no etcd endpoint reachable; last error on %s: %v", e.Err, e.Endpoint, e.Cause)
}

// Unwrap gives both the context error and the connection error to errors.Is.
func (e *ConnectError) Unwrap() []error { return []error{e.Err, e.Cause} }

// toErr turns the error of a gRPC call into the error the caller sees:
// server errors become the rpctypes values (so err == rpctypes.ErrEmptyKey
// holds), a call ended by its context returns the context's error, wrapped in
// a ConnectError when the connection was never ready.
func (c *Client) toErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		if st, ok := status.FromError(err); ok && (st.Code() == codes.DeadlineExceeded || st.Code() == codes.Canceled) {
			if ce := c.connectError(cerr); ce != nil {
				return ce
			}
			return cerr
		}
	}
	err = rpctypes.Error(err)
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return err
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.ResourceExhausted:
			// grpc-go refuses a request above MaxCallSendMsgSize before
			// sending it, and a response above MaxCallRecvMsgSize. The
			// server's own gRPC refusal of a large request reads like the
			// latter; the limit it names tells them apart.
			if strings.Contains(st.Message(), "larger than max") {
				if c.ownRecvLimit(st.Message()) {
					return fmt.Errorf("%w (%s)", ErrResponseTooLarge, st.Message())
				}
				return fmt.Errorf("%w (%s)", rpctypes.ErrRequestTooLarge, st.Message())
			}
		case codes.Canceled:
			if c.ctx.Err() != nil {
				return ErrClientClosed
			}
		}
	}
	return err
}

// ContextError turns the error of a gRPC call made with ctx into the error
// this package's calls return: a server error becomes its rpctypes value,
// and a call ended by ctx returns ctx's error. It is for calls made on the
// connection of Client.ActiveConnection or Client.Dial.
func ContextError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	err = rpctypes.Error(err)
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return err
	}
	if st, ok := status.FromError(err); ok && (st.Code() == codes.Canceled || st.Code() == codes.DeadlineExceeded) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
	}
	return err
}

// IsConnCanceled reports whether err ended a call because it was canceled
// or its connection closed: the client's Close (ErrClientClosed), a
// canceled context, or a gRPC status Canceled or "transport is closing".
func IsConnCanceled(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrClientClosed) || errors.Is(err, context.Canceled) {
		return true
	}
	if st, ok := status.FromError(err); ok {
		return st.Code() == codes.Canceled || st.Message() == "transport is closing"
	}
	return strings.Contains(err.Error(), "grpc: the client connection is closing")
}

// ownRecvLimit reports whether msg, a "received message larger than max
// (N vs. M)" status of grpc-go, names this client's receive limit as M.
func (c *Client) ownRecvLimit(msg string) bool {
	_, rest, ok := strings.Cut(msg, "received message larger than max (")
	if !ok {
		return false
	}
	var n, limit int64
	if _, err := fmt.Sscanf(rest, "%d vs. %d)", &n, &limit); err != nil {
		return false
	}
	recvMax := c.cfg.MaxCallRecvMsgSize
	if recvMax <= 0 {
		recvMax = defaultMaxRecvMsgSize
	}
	return limit == int64(recvMax)
}

// Code is a stable classification of an error, shared by Go hosts and the
// Lua layer (the codes of docs/lua.md).
type Code string

// The codes Classify returns.
const (
	CodeOK               Code = ""
	CodeCanceled         Code = "canceled"
	CodeDeadlineExceeded Code = "deadline_exceeded"
	CodeUnavailable      Code = "unavailable"
	CodeCompacted        Code = "compacted"
	CodeFutureRevision   Code = "future_revision"
	CodeEmptyKey         Code = "empty_key"
	CodeKeyNotFound      Code = "key_not_found"
	CodeTooManyOps       Code = "too_many_ops"
	CodeDuplicateKey     Code = "duplicate_key"
	CodeRequestTooLarge  Code = "request_too_large"
	CodeLeaseNotFound    Code = "lease_not_found"
	CodeAuthFailed       Code = "auth_failed"
	CodePermissionDenied Code = "permission_denied"
	CodeInvalidToken     Code = "invalid_auth_token"
	CodeNoLeader         Code = "no_leader"
	CodeInvalidArgument  Code = "invalid_argument"
	CodeLockTimeout      Code = "lock_timeout"
	CodeScriptTimeout    Code = "script_timeout"
	CodeInternal         Code = "internal"
)

// Classification is what Classify says of an error.
type Classification struct {
	// Code is the stable code of the error.
	Code Code
	// Retryable reports whether repeating the same call may succeed.
	Retryable bool
}

var etcdErrorCodes = map[error]Classification{
	rpctypes.ErrCompacted:         {CodeCompacted, false},
	rpctypes.ErrFutureRev:         {CodeFutureRevision, false},
	rpctypes.ErrEmptyKey:          {CodeEmptyKey, false},
	rpctypes.ErrKeyNotFound:       {CodeKeyNotFound, false},
	rpctypes.ErrTooManyOps:        {CodeTooManyOps, false},
	rpctypes.ErrDuplicateKey:      {CodeDuplicateKey, false},
	rpctypes.ErrRequestTooLarge:   {CodeRequestTooLarge, false},
	rpctypes.ErrLeaseNotFound:     {CodeLeaseNotFound, false},
	rpctypes.ErrAuthFailed:        {CodeAuthFailed, false},
	rpctypes.ErrPermissionDenied:  {CodePermissionDenied, false},
	rpctypes.ErrInvalidAuthToken:  {CodeInvalidToken, true},
	rpctypes.ErrAuthOldRevision:   {CodeInvalidToken, true},
	rpctypes.ErrNoLeader:          {CodeNoLeader, true},
	rpctypes.ErrTooManyRequests:   {CodeUnavailable, true},
	rpctypes.ErrInvalidSortOption: {CodeInvalidArgument, false},
	rpctypes.ErrValueProvided:     {CodeInvalidArgument, false},
	rpctypes.ErrLeaseProvided:     {CodeInvalidArgument, false},
	rpctypes.ErrUserEmpty:         {CodeInvalidArgument, false},
	rpctypes.ErrRoleEmpty:         {CodeInvalidArgument, false},
	rpctypes.ErrNoSpace:           {CodeInternal, false},
}

// Classify maps any error returned by this package (or by the official
// client) to a stable code and a retryable flag. It is the one place where
// errors are classified; the Lua layer's error codes come from it.
func Classify(err error) Classification {
	if err == nil {
		return Classification{CodeOK, false}
	}
	var ce *ConnectError
	if errors.As(err, &ce) {
		// A caller that gave up on an unreachable cluster cancelled the
		// call: repeating it is not what was asked for.
		if errors.Is(ce.Err, context.Canceled) {
			return Classification{CodeCanceled, false}
		}
		return Classification{CodeUnavailable, true}
	}
	if errors.Is(err, ErrInvalidArgument) {
		return Classification{CodeInvalidArgument, false}
	}
	if errors.Is(err, ErrResponseTooLarge) {
		return Classification{CodeRequestTooLarge, false}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrClientClosed) {
		return Classification{CodeCanceled, false}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Classification{CodeDeadlineExceeded, true}
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		if cl, ok := etcdErrorCodes[ee]; ok {
			return cl
		}
		return classifyGRPC(ee.Code())
	}
	if st, ok := status.FromError(err); ok {
		if cl, ok := etcdErrorCodes[rpctypes.Error(err)]; ok {
			return cl
		}
		// A message above a gRPC size limit (clientv3 returns this status
		// as is): repeating it cannot help.
		if st.Code() == codes.ResourceExhausted && strings.Contains(st.Message(), "larger than max") {
			return Classification{CodeRequestTooLarge, false}
		}
		return classifyGRPC(st.Code())
	}
	// A lease that ended for no server error: revoked here, or expired
	// with no answer at all.
	if errors.Is(err, ErrLeaseExpired) || errors.Is(err, ErrLeaseRevoked) {
		return Classification{CodeLeaseNotFound, false}
	}
	return Classification{CodeInternal, false}
}

func classifyGRPC(c codes.Code) Classification {
	switch c {
	case codes.Unavailable:
		return Classification{CodeUnavailable, true}
	case codes.DeadlineExceeded:
		return Classification{CodeDeadlineExceeded, true}
	case codes.Canceled:
		return Classification{CodeCanceled, false}
	case codes.InvalidArgument, codes.OutOfRange:
		return Classification{CodeInvalidArgument, false}
	case codes.PermissionDenied:
		return Classification{CodePermissionDenied, false}
	case codes.Unauthenticated:
		return Classification{CodeInvalidToken, true}
	case codes.ResourceExhausted:
		return Classification{CodeUnavailable, true}
	}
	return Classification{CodeInternal, false}
}
