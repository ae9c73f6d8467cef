package client

import (
	"context"
	"strings"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Response types of the Auth API: the server's messages under clientv3's
// names.
type (
	AuthEnableResponse               pb.AuthEnableResponse
	AuthDisableResponse              pb.AuthDisableResponse
	AuthStatusResponse               pb.AuthStatusResponse
	AuthenticateResponse             pb.AuthenticateResponse
	AuthUserAddResponse              pb.AuthUserAddResponse
	AuthUserDeleteResponse           pb.AuthUserDeleteResponse
	AuthUserChangePasswordResponse   pb.AuthUserChangePasswordResponse
	AuthUserGrantRoleResponse        pb.AuthUserGrantRoleResponse
	AuthUserGetResponse              pb.AuthUserGetResponse
	AuthUserRevokeRoleResponse       pb.AuthUserRevokeRoleResponse
	AuthRoleAddResponse              pb.AuthRoleAddResponse
	AuthRoleGrantPermissionResponse  pb.AuthRoleGrantPermissionResponse
	AuthRoleGetResponse              pb.AuthRoleGetResponse
	AuthRoleRevokePermissionResponse pb.AuthRoleRevokePermissionResponse
	AuthRoleDeleteResponse           pb.AuthRoleDeleteResponse
	AuthUserListResponse             pb.AuthUserListResponse
	AuthRoleListResponse             pb.AuthRoleListResponse

	// PermissionType is the access a role permission grants: PermRead,
	// PermWrite or PermReadWrite.
	PermissionType authpb.Permission_Type
	// Permission is a key range and the access granted on it.
	Permission authpb.Permission
)

// The permission types.
const (
	PermRead      = authpb.Permission_READ
	PermWrite     = authpb.Permission_WRITE
	PermReadWrite = authpb.Permission_READWRITE
)

// UserAddOptions are the options of UserAddWithOptions. NoPassword creates a
// user that cannot log in with a password (only with a client certificate).
type UserAddOptions authpb.UserAddOptions

// Auth manages etcd's authentication: turning it on and off, users, roles
// and their permissions. Every change needs the root role once
// authentication is on.
type Auth interface {
	// Authenticate logs in as name and returns a token. The client logs in
	// by itself when Config.Username is set; this call is for tools that
	// want to check credentials or hand a token on.
	Authenticate(ctx context.Context, name string, password string) (*AuthenticateResponse, error)

	// AuthEnable turns authentication on. The root user must exist and
	// have the root role.
	AuthEnable(ctx context.Context) (*AuthEnableResponse, error)

	// AuthDisable turns authentication off.
	AuthDisable(ctx context.Context) (*AuthDisableResponse, error)

	// AuthStatus reports whether authentication is on, and the auth
	// revision.
	AuthStatus(ctx context.Context) (*AuthStatusResponse, error)

	// UserAdd creates a user with a password.
	UserAdd(ctx context.Context, name string, password string) (*AuthUserAddResponse, error)

	// UserAddWithOptions creates a user with options; with
	// opt.NoPassword the user has no password (the server ignores one given)
	// and can log in only with a client certificate.
	UserAddWithOptions(ctx context.Context, name string, password string, opt *UserAddOptions) (*AuthUserAddResponse, error)

	// UserDelete deletes a user.
	UserDelete(ctx context.Context, name string) (*AuthUserDeleteResponse, error)

	// UserChangePassword sets a user's password.
	UserChangePassword(ctx context.Context, name string, password string) (*AuthUserChangePasswordResponse, error)

	// UserGrantRole gives a role to a user.
	UserGrantRole(ctx context.Context, user string, role string) (*AuthUserGrantRoleResponse, error)

	// UserGet returns a user's roles.
	UserGet(ctx context.Context, name string) (*AuthUserGetResponse, error)

	// UserList returns the names of all users, sorted.
	UserList(ctx context.Context) (*AuthUserListResponse, error)

	// UserRevokeRole takes a role away from a user.
	UserRevokeRole(ctx context.Context, name string, role string) (*AuthUserRevokeRoleResponse, error)

	// RoleAdd creates a role with no permissions.
	RoleAdd(ctx context.Context, name string) (*AuthRoleAddResponse, error)

	// RoleGrantPermission lets a role access key (rangeEnd empty), the
	// range [key, rangeEnd), or every key from key on (rangeEnd "\x00").
	RoleGrantPermission(ctx context.Context, name string, key, rangeEnd string, permType PermissionType) (*AuthRoleGrantPermissionResponse, error)

	// RoleGet returns a role's permissions.
	RoleGet(ctx context.Context, role string) (*AuthRoleGetResponse, error)

	// RoleList returns the names of all roles, sorted.
	RoleList(ctx context.Context) (*AuthRoleListResponse, error)

	// RoleRevokePermission removes the permission on exactly key and
	// rangeEnd from a role.
	RoleRevokePermission(ctx context.Context, role string, key, rangeEnd string) (*AuthRoleRevokePermissionResponse, error)

	// RoleDelete deletes a role, and takes it from every user who had it.
	RoleDelete(ctx context.Context, role string) (*AuthRoleDeleteResponse, error)
}

// StrToPermissionType parses "read", "write" or "readwrite" (any case).
func StrToPermissionType(s string) (PermissionType, error) {
	if v, ok := authpb.Permission_Type_value[strings.ToUpper(s)]; ok {
		return PermissionType(v), nil
	}
	return PermissionType(-1), invalidArg("permission type %q: want read, write or readwrite", s)
}

// gRPC method names of the Auth service.
const (
	methodAuthEnable           = "/etcdserverpb.Auth/AuthEnable"
	methodAuthDisable          = "/etcdserverpb.Auth/AuthDisable"
	methodAuthStatus           = "/etcdserverpb.Auth/AuthStatus"
	methodUserAdd              = "/etcdserverpb.Auth/UserAdd"
	methodUserGet              = "/etcdserverpb.Auth/UserGet"
	methodUserList             = "/etcdserverpb.Auth/UserList"
	methodUserDelete           = "/etcdserverpb.Auth/UserDelete"
	methodUserChangePassword   = "/etcdserverpb.Auth/UserChangePassword"
	methodUserGrantRole        = "/etcdserverpb.Auth/UserGrantRole"
	methodUserRevokeRole       = "/etcdserverpb.Auth/UserRevokeRole"
	methodRoleAdd              = "/etcdserverpb.Auth/RoleAdd"
	methodRoleGet              = "/etcdserverpb.Auth/RoleGet"
	methodRoleList             = "/etcdserverpb.Auth/RoleList"
	methodRoleDelete           = "/etcdserverpb.Auth/RoleDelete"
	methodRoleGrantPermission  = "/etcdserverpb.Auth/RoleGrantPermission"
	methodRoleRevokePermission = "/etcdserverpb.Auth/RoleRevokePermission"
)

type authImpl struct{ c *Client }

func newAuth(c *Client) Auth { return &authImpl{c: c} }

// NewAuth returns the Auth API of c (the same as c.Auth).
func NewAuth(c *Client) Auth { return newAuth(c) }

// call checks ctx and makes one Auth call. Only queries are marked safe to
// repeat (see Retries in doc.go): a change sent twice could fail the second
// time, with "user already exists" say, after succeeding the first.
func (a *authImpl) call(ctx context.Context, method string, req, resp message, safe bool) error {
	if ctx == nil {
		return invalidArg("%s: nil context", method)
	}
	return a.c.invoke(ctx, method, req, resp, safe)
}

func needUser(name string) error {
	if name == "" {
		return rpctypes.ErrUserEmpty
	}
	return nil
}

func needRole(name string) error {
	if name == "" {
		return rpctypes.ErrRoleEmpty
	}
	return nil
}

func (a *authImpl) Authenticate(ctx context.Context, name string, password string) (*AuthenticateResponse, error) {
	if ctx == nil {
		return nil, invalidArg("Authenticate: nil context")
	}
	if err := needUser(name); err != nil {
		return nil, err
	}
	resp := new(pb.AuthenticateResponse)
	// A login carries no token of its own, whatever the client's login is.
	if err := a.c.invokeNoAuth(ctx, methodAuthenticate, &pb.AuthenticateRequest{Name: name, Password: password}, resp); err != nil {
		return nil, err
	}
	return (*AuthenticateResponse)(resp), nil
}

func (a *authImpl) AuthEnable(ctx context.Context) (*AuthEnableResponse, error) {
	resp := new(pb.AuthEnableResponse)
	if err := a.call(ctx, methodAuthEnable, &pb.AuthEnableRequest{}, resp, false); err != nil {
		return nil, err
	}
	return (*AuthEnableResponse)(resp), nil
}

func (a *authImpl) AuthDisable(ctx context.Context) (*AuthDisableResponse, error) {
	resp := new(pb.AuthDisableResponse)
	if err := a.call(ctx, methodAuthDisable, &pb.AuthDisableRequest{}, resp, false); err != nil {
		return nil, err
	}
	return (*AuthDisableResponse)(resp), nil
}

func (a *authImpl) AuthStatus(ctx context.Context) (*AuthStatusResponse, error) {
	resp := new(pb.AuthStatusResponse)
	if err := a.call(ctx, methodAuthStatus, &pb.AuthStatusRequest{}, resp, true); err != nil {
		return nil, err
	}
	return (*AuthStatusResponse)(resp), nil
}

func (a *authImpl) UserAdd(ctx context.Context, name string, password string) (*AuthUserAddResponse, error) {
	return a.UserAddWithOptions(ctx, name, password, &UserAddOptions{})
}

func (a *authImpl) UserAddWithOptions(ctx context.Context, name string, password string, opt *UserAddOptions) (*AuthUserAddResponse, error) {
	if err := needUser(name); err != nil {
		return nil, err
	}
	req := &pb.AuthUserAddRequest{Name: name, Password: password, Options: &authpb.UserAddOptions{}}
	if opt != nil {
		req.Options.NoPassword = opt.NoPassword
	}
	resp := new(pb.AuthUserAddResponse)
	if err := a.call(ctx, methodUserAdd, req, resp, false); err != nil {
		return nil, err
	}
	return (*AuthUserAddResponse)(resp), nil
}

func (a *authImpl) UserDelete(ctx context.Context, name string) (*AuthUserDeleteResponse, error) {
	if err := needUser(name); err != nil {
		return nil, err
	}
	resp := new(pb.AuthUserDeleteResponse)
	if err := a.call(ctx, methodUserDelete, &pb.AuthUserDeleteRequest{Name: name}, resp, false); err != nil {
		return nil, err
	}
	return (*AuthUserDeleteResponse)(resp), nil
}

func (a *authImpl) UserChangePassword(ctx context.Context, name string, password string) (*AuthUserChangePasswordResponse, error) {
	if err := needUser(name); err != nil {
		return nil, err
	}
	resp := new(pb.AuthUserChangePasswordResponse)
	req := &pb.AuthUserChangePasswordRequest{Name: name, Password: password}
	if err := a.call(ctx, methodUserChangePassword, req, resp, false); err != nil {
		return nil, err
	}
	return (*AuthUserChangePasswordResponse)(resp), nil
}

func (a *authImpl) UserGrantRole(ctx context.Context, user string, role string) (*AuthUserGrantRoleResponse, error) {
	if err := needUser(user); err != nil {
		return nil, err
	}
	if err := needRole(role); err != nil {
		return nil, err
	}
	resp := new(pb.AuthUserGrantRoleResponse)
	if err := a.call(ctx, methodUserGrantRole, &pb.AuthUserGrantRoleRequest{User: user, Role: role}, resp, false); err != nil {
		return nil, err
	}
	return (*AuthUserGrantRoleResponse)(resp), nil
}

func (a *authImpl) UserGet(ctx context.Context, name string) (*AuthUserGetResponse, error) {
	if err := needUser(name); err != nil {
		return nil, err
	}
	resp := new(pb.AuthUserGetResponse)
	if err := a.call(ctx, methodUserGet, &pb.AuthUserGetRequest{Name: name}, resp, true); err != nil {
		return nil, err
	}
	return (*AuthUserGetResponse)(resp), nil
}

func (a *authImpl) UserList(ctx context.Context) (*AuthUserListResponse, error) {
	resp := new(pb.AuthUserListResponse)
	if err := a.call(ctx, methodUserList, &pb.AuthUserListRequest{}, resp, true); err != nil {
		return nil, err
	}
	return (*AuthUserListResponse)(resp), nil
}

func (a *authImpl) UserRevokeRole(ctx context.Context, name string, role string) (*AuthUserRevokeRoleResponse, error) {
	if err := needUser(name); err != nil {
		return nil, err
	}
	if err := needRole(role); err != nil {
		return nil, err
	}
	resp := new(pb.AuthUserRevokeRoleResponse)
	if err := a.call(ctx, methodUserRevokeRole, &pb.AuthUserRevokeRoleRequest{Name: name, Role: role}, resp, false); err != nil {
		return nil, err
	}
	return (*AuthUserRevokeRoleResponse)(resp), nil
}

func (a *authImpl) RoleAdd(ctx context.Context, name string) (*AuthRoleAddResponse, error) {
	if err := needRole(name); err != nil {
		return nil, err
	}
	resp := new(pb.AuthRoleAddResponse)
	if err := a.call(ctx, methodRoleAdd, &pb.AuthRoleAddRequest{Name: name}, resp, false); err != nil {
		return nil, err
	}
	return (*AuthRoleAddResponse)(resp), nil
}

func (a *authImpl) RoleGrantPermission(ctx context.Context, name string, key, rangeEnd string, permType PermissionType) (*AuthRoleGrantPermissionResponse, error) {
	if err := needRole(name); err != nil {
		return nil, err
	}
	if _, ok := authpb.Permission_Type_name[int32(permType)]; !ok {
		return nil, invalidArg("RoleGrantPermission(%q): unknown permission type %d (want PermRead, PermWrite or PermReadWrite)", name, permType)
	}
	req := &pb.AuthRoleGrantPermissionRequest{
		Name: name,
		Perm: &authpb.Permission{PermType: authpb.Permission_Type(permType), Key: []byte(key), RangeEnd: []byte(rangeEnd)},
	}
	resp := new(pb.AuthRoleGrantPermissionResponse)
	if err := a.call(ctx, methodRoleGrantPermission, req, resp, false); err != nil {
		return nil, err
	}
	return (*AuthRoleGrantPermissionResponse)(resp), nil
}

func (a *authImpl) RoleGet(ctx context.Context, role string) (*AuthRoleGetResponse, error) {
	if err := needRole(role); err != nil {
		return nil, err
	}
	resp := new(pb.AuthRoleGetResponse)
	if err := a.call(ctx, methodRoleGet, &pb.AuthRoleGetRequest{Role: role}, resp, true); err != nil {
		return nil, err
	}
	return (*AuthRoleGetResponse)(resp), nil
}

func (a *authImpl) RoleList(ctx context.Context) (*AuthRoleListResponse, error) {
	resp := new(pb.AuthRoleListResponse)
	if err := a.call(ctx, methodRoleList, &pb.AuthRoleListRequest{}, resp, true); err != nil {
		return nil, err
	}
	return (*AuthRoleListResponse)(resp), nil
}

func (a *authImpl) RoleRevokePermission(ctx context.Context, role string, key, rangeEnd string) (*AuthRoleRevokePermissionResponse, error) {
	if err := needRole(role); err != nil {
		return nil, err
	}
	req := &pb.AuthRoleRevokePermissionRequest{Role: role, Key: []byte(key), RangeEnd: []byte(rangeEnd)}
	resp := new(pb.AuthRoleRevokePermissionResponse)
	if err := a.call(ctx, methodRoleRevokePermission, req, resp, false); err != nil {
		return nil, err
	}
	return (*AuthRoleRevokePermissionResponse)(resp), nil
}

func (a *authImpl) RoleDelete(ctx context.Context, role string) (*AuthRoleDeleteResponse, error) {
	if err := needRole(role); err != nil {
		return nil, err
	}
	resp := new(pb.AuthRoleDeleteResponse)
	if err := a.call(ctx, methodRoleDelete, &pb.AuthRoleDeleteRequest{Role: role}, resp, false); err != nil {
		return nil, err
	}
	return (*AuthRoleDeleteResponse)(resp), nil
}
