package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"go.etcd.io/etcd/api/v3/authpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// perms renders role permissions for comparison.
func perms(ps []*authpb.Permission) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s [%q, %q)", p.PermType, p.Key, p.RangeEnd))
	}
	return out
}

// sameErr checks that our client and the official one failed alike: the
// same rpctypes value.
func sameErr(t *testing.T, what string, err, rerr, want error) {
	t.Helper()
	if err == nil || rerr == nil || !errors.Is(err, want) || err.Error() != rerr.Error() {
		t.Fatalf("%s: ours %v, official %v, want %v", what, err, rerr, want)
	}
}

// TestAuthMatchesOfficial manages users and roles with our client, reads
// them back with both clients, then turns authentication on and checks
// that logins and permissions behave as with the official client.
func TestAuthMatchesOfficial(t *testing.T) {
	cl := etcdtest.StartServerT(t, etcdtest.ServerOptions{})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ref := officialClient(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ctx := adminCtx(t)

	st, err := ours.AuthStatus(ctx)
	if err != nil || st.Enabled {
		t.Fatalf("AuthStatus = %+v, %v", st, err)
	}

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err = ours.UserAdd(ctx, "root", "rootpw")
	must("UserAdd root", err)
	_, err = ours.RoleAdd(ctx, "root")
	must("RoleAdd root", err)
	_, err = ours.UserGrantRole(ctx, "root", "root")
	must("UserGrantRole root", err)
	_, err = ours.UserAdd(ctx, "alice", "alicepw")
	must("UserAdd alice", err)
	_, err = ours.UserAddWithOptions(ctx, "certonly", "", &client.UserAddOptions{NoPassword: true})
	must("UserAddWithOptions", err)
	_, err = ref.UserAdd(ctx, "bob", "bobpw") // made by the official client, read by ours
	must("official UserAdd bob", err)
	for _, r := range []string{"reader", "writer", "temp"} {
		_, err = ours.RoleAdd(ctx, r)
		must("RoleAdd "+r, err)
	}
	_, err = ours.RoleGrantPermission(ctx, "reader", "app/", client.GetPrefixRangeEnd("app/"), client.PermissionType(client.PermRead))
	must("grant read", err)
	_, err = ours.RoleGrantPermission(ctx, "reader", "shared", "", client.PermissionType(client.PermRead))
	must("grant read one key", err)
	_, err = ours.RoleGrantPermission(ctx, "writer", "app/", client.GetPrefixRangeEnd("app/"), client.PermissionType(client.PermReadWrite))
	must("grant readwrite", err)
	_, err = ours.RoleGrantPermission(ctx, "writer", "logs/", "\x00", client.PermissionType(client.PermWrite))
	must("grant write from key", err)
	_, err = ours.RoleGrantPermission(ctx, "temp", "tmp", "", client.PermissionType(client.PermWrite))
	must("grant temp", err)
	_, err = ours.UserGrantRole(ctx, "alice", "reader")
	must("grant alice reader", err)
	_, err = ours.UserGrantRole(ctx, "alice", "temp")
	must("grant alice temp", err)
	_, err = ours.UserGrantRole(ctx, "bob", "writer")
	must("grant bob writer", err)

	// Remove some of it again.
	_, err = ours.RoleRevokePermission(ctx, "temp", "tmp", "")
	must("RoleRevokePermission", err)
	_, err = ours.UserRevokeRole(ctx, "alice", "temp")
	must("UserRevokeRole", err)
	_, err = ours.RoleDelete(ctx, "temp")
	must("RoleDelete", err)

	compareListings := func() {
		t.Helper()
		ul, err := ours.UserList(ctx)
		must("UserList", err)
		rul, err := ref.UserList(ctx)
		must("official UserList", err)
		if !slices.Equal(ul.Users, rul.Users) || !slices.Equal(ul.Users, []string{"alice", "bob", "certonly", "root"}) {
			t.Fatalf("UserList = %q, official %q", ul.Users, rul.Users)
		}
		rl, err := ours.RoleList(ctx)
		must("RoleList", err)
		rrl, err := ref.RoleList(ctx)
		must("official RoleList", err)
		if !slices.Equal(rl.Roles, rrl.Roles) || !slices.Equal(rl.Roles, []string{"reader", "root", "writer"}) {
			t.Fatalf("RoleList = %q, official %q", rl.Roles, rrl.Roles)
		}
		for _, u := range ul.Users {
			g, err := ours.UserGet(ctx, u)
			must("UserGet "+u, err)
			w, err := ref.UserGet(ctx, u)
			must("official UserGet "+u, err)
			if !slices.Equal(g.Roles, w.Roles) {
				t.Fatalf("UserGet(%s) roles %q, official %q", u, g.Roles, w.Roles)
			}
		}
		for _, r := range rl.Roles {
			g, err := ours.RoleGet(ctx, r)
			must("RoleGet "+r, err)
			w, err := ref.RoleGet(ctx, r)
			must("official RoleGet "+r, err)
			if !slices.Equal(perms(g.Perm), perms(w.Perm)) {
				t.Fatalf("RoleGet(%s) = %q, official %q", r, perms(g.Perm), perms(w.Perm))
			}
		}
	}
	compareListings()
	g, _ := ours.UserGet(ctx, "alice")
	if !slices.Equal(g.Roles, []string{"reader"}) {
		t.Fatalf("alice has roles %q", g.Roles)
	}
	rg, _ := ours.RoleGet(ctx, "writer")
	if got := perms(rg.Perm); len(got) != 2 {
		t.Fatalf("writer permissions: %q", got)
	}

	// Errors are the same values for both clients.
	_, err = ours.UserAdd(ctx, "alice", "x")
	_, rerr := ref.UserAdd(ctx, "alice", "x")
	sameErr(t, "UserAdd of an existing user", err, rerr, rpctypes.ErrUserAlreadyExist)
	_, err = ours.UserGet(ctx, "nobody")
	_, rerr = ref.UserGet(ctx, "nobody")
	sameErr(t, "UserGet of an unknown user", err, rerr, rpctypes.ErrUserNotFound)
	_, err = ours.RoleGet(ctx, "nothing")
	_, rerr = ref.RoleGet(ctx, "nothing")
	sameErr(t, "RoleGet of an unknown role", err, rerr, rpctypes.ErrRoleNotFound)
	_, err = ours.UserGrantRole(ctx, "alice", "nothing")
	_, rerr = ref.UserGrantRole(ctx, "alice", "nothing")
	sameErr(t, "UserGrantRole of an unknown role", err, rerr, rpctypes.ErrRoleNotFound)
	_, err = ours.UserAdd(ctx, "", "x")
	_, rerr = ref.UserAdd(ctx, "", "x")
	sameErr(t, "UserAdd with no name", err, rerr, rpctypes.ErrUserEmpty)
	_, err = ours.RoleAdd(ctx, "")
	_, rerr = ref.RoleAdd(ctx, "")
	sameErr(t, "RoleAdd with no name", err, rerr, rpctypes.ErrRoleEmpty)
	if _, err := ours.RoleGrantPermission(ctx, "reader", "k", "", 7); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("RoleGrantPermission with type 7: %v", err)
	}
	//lint:ignore SA1012 a nil context is what is tested.
	if _, err := ours.UserList(nil); !errors.Is(err, client.ErrInvalidArgument) { //nolint:staticcheck
		t.Fatalf("UserList(nil): %v", err)
	}

	_, err = ours.Authenticate(ctx, "alice", "alicepw")
	_, rerr = ref.Authenticate(ctx, "alice", "alicepw")
	sameErr(t, "Authenticate while auth is off", err, rerr, rpctypes.ErrAuthNotEnabled)
	_, err = ours.UserChangePassword(ctx, "alice", "newpw")
	must("UserChangePassword", err)

	// Turn authentication on; only root may manage it from now on.
	_, err = ours.AuthEnable(ctx)
	must("AuthEnable", err)
	root := adminClient(t, client.Config{Endpoints: cl.Endpoints(), Username: "root", Password: "rootpw"})
	rootRef := officialClient(t, clientv3.Config{Endpoints: cl.Endpoints(), Username: "root", Password: "rootpw"})
	st, err = root.AuthStatus(ctx)
	if err != nil || !st.Enabled {
		t.Fatalf("AuthStatus after enable = %+v, %v", st, err)
	}
	// Logins need no token of their own; the new password is in force.
	_, err = ours.Authenticate(ctx, "alice", "alicepw")
	_, rerr = ref.Authenticate(ctx, "alice", "alicepw")
	sameErr(t, "Authenticate with the old password", err, rerr, rpctypes.ErrAuthFailed)
	tok, err := ours.Authenticate(ctx, "alice", "newpw")
	if err != nil || tok.Token == "" {
		t.Fatalf("login with the new password: %+v, %v", tok, err)
	}
	_, err = ours.UserList(ctx)
	_, rerr = ref.UserList(ctx)
	sameErr(t, "UserList without a login", err, rerr, rpctypes.ErrUserEmpty)

	alice := adminClient(t, client.Config{Endpoints: cl.Endpoints(), Username: "alice", Password: "newpw"})
	aliceRef := officialClient(t, clientv3.Config{Endpoints: cl.Endpoints(), Username: "alice", Password: "newpw"})
	_, err = root.Put(ctx, "app/x", "1")
	must("root put", err)
	r, err := alice.Get(ctx, "app/x")
	if err != nil || len(r.Kvs) != 1 {
		t.Fatalf("alice reads app/x: %v, %v", r, err)
	}
	_, err = alice.Put(ctx, "app/x", "2")
	_, rerr = aliceRef.Put(ctx, "app/x", "2")
	sameErr(t, "alice writes app/x", err, rerr, rpctypes.ErrPermissionDenied)
	_, err = alice.UserList(ctx)
	_, rerr = aliceRef.UserList(ctx)
	sameErr(t, "alice lists users", err, rerr, rpctypes.ErrPermissionDenied)

	compareListingsAs := func(a *client.Client, b *clientv3.Client) {
		ul, err := a.UserList(ctx)
		must("root UserList", err)
		rul, err := b.UserList(ctx)
		must("root official UserList", err)
		if !slices.Equal(ul.Users, rul.Users) {
			t.Fatalf("UserList as root = %q, official %q", ul.Users, rul.Users)
		}
	}
	compareListingsAs(root, rootRef)

	// A user deleted while logged in loses access.
	_, err = root.UserDelete(ctx, "bob")
	must("UserDelete", err)
	_, err = root.UserDelete(ctx, "bob")
	_, rerr = rootRef.UserDelete(ctx, "bob")
	sameErr(t, "UserDelete twice", err, rerr, rpctypes.ErrUserNotFound)

	_, err = root.AuthDisable(ctx)
	must("AuthDisable", err)
	// The client without a login works again once auth is off; the
	// server may need a moment to apply the change on every path.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err = ours.AuthStatus(ctx)
		if err == nil && !st.Enabled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("AuthStatus after disable = %+v, %v", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStrToPermissionType(t *testing.T) {
	for s, want := range map[string]client.PermissionType{
		"read": client.PermissionType(client.PermRead), "WRITE": client.PermissionType(client.PermWrite),
		"ReadWrite": client.PermissionType(client.PermReadWrite),
	} {
		got, err := client.StrToPermissionType(s)
		ref, rerr := clientv3.StrToPermissionType(s)
		if err != nil || rerr != nil || got != want || int32(got) != int32(ref) {
			t.Errorf("StrToPermissionType(%q) = %v, %v; official %v, %v", s, got, err, ref, rerr)
		}
	}
	if _, err := client.StrToPermissionType("all"); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("StrToPermissionType(all) = %v", err)
	}
}

// TestAuthenticateIgnoresOwnLogin checks that Authenticate sends no token of
// the client's own, so a client logged in as one user can check another's
// credentials.
func TestAuthenticateIgnoresOwnLogin(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, u := range []string{"root", "carol"} {
		if _, err := ours.UserAdd(ctx, u, u+"pw"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ours.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := ours.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	root := adminClient(t, client.Config{Endpoints: cl.Endpoints(), Username: "root", Password: "rootpw"})
	resp, err := root.Authenticate(ctx, "carol", "carolpw")
	if err != nil || resp.Token == "" {
		t.Fatalf("Authenticate(carol) as root: %+v, %v", resp, err)
	}
	if _, err := root.AuthDisable(ctx); err != nil {
		t.Fatal(err)
	}
}
