package client_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestNewClientConfig: a ConfigSpec, decoded from the same JSON as
// clientv3's, gives a Config that connects over TLS with a client
// certificate, as clientv3's NewClientConfig does.
func TestNewClientConfig(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{ClientTLS: true})
	ctx := coreCtx(t)
	files := cl.TLS()
	doc, err := json.Marshal(map[string]any{
		"endpoints":    cl.Endpoints(),
		"dial-timeout": int64(10 * time.Second),
		"secure":       map[string]any{"cert": files.CertFile, "key": files.KeyFile, "cacert": files.CAFile},
	})
	if err != nil {
		t.Fatal(err)
	}
	var theirsSpec clientv3.ConfigSpec
	var oursSpec client.ConfigSpec
	if err := errors.Join(json.Unmarshal(doc, &theirsSpec), json.Unmarshal(doc, &oursSpec)); err != nil {
		t.Fatal(err)
	}
	theirsCfg, err := clientv3.NewClientConfig(&theirsSpec, nil)
	if err != nil {
		t.Fatal(err)
	}
	oursCfg, err := client.NewClientConfig(&oursSpec, nil)
	if err != nil {
		t.Fatalf("NewClientConfig: %v", err)
	}
	// clientv3 hands the certificate over through a callback.
	hasCert := func(c *clientv3.Config) bool {
		return len(c.TLS.Certificates) > 0 || c.TLS.GetClientCertificate != nil
	}
	if oursCfg.DialTimeout != theirsCfg.DialTimeout || (len(oursCfg.TLS.Certificates) > 0) != hasCert(theirsCfg) || (oursCfg.TLS.RootCAs == nil) != (theirsCfg.TLS.RootCAs == nil) {
		t.Errorf("Config = dial %v, %d certificates, CAs %v; clientv3's: dial %v, certificate %v, CAs %v",
			oursCfg.DialTimeout, len(oursCfg.TLS.Certificates), oursCfg.TLS.RootCAs != nil,
			theirsCfg.DialTimeout, hasCert(theirsCfg), theirsCfg.TLS.RootCAs != nil)
	}
	c := coreOurs(t, *oursCfg)
	if _, err := c.Put(ctx, "spec", "v"); err != nil {
		t.Fatalf("Put with the Config of NewClientConfig: %v", err)
	}

	// The sections' other cases, against clientv3's results.
	for _, sec := range []*struct {
		name         string
		ours         *client.SecureConfig
		theirs       *clientv3.SecureConfig
		tls, skipped bool
	}{
		{"none", nil, nil, false, false},
		{"insecure transport", &client.SecureConfig{InsecureTransport: true}, &clientv3.SecureConfig{InsecureTransport: true}, false, false},
		{"secure with system CAs", &client.SecureConfig{}, &clientv3.SecureConfig{}, true, false},
		{"skip verify", &client.SecureConfig{InsecureTransport: true, InsecureSkipVerify: true}, &clientv3.SecureConfig{InsecureTransport: true, InsecureSkipVerify: true}, true, true},
	} {
		o, err := client.NewClientConfig(&client.ConfigSpec{Secure: sec.ours, Auth: &client.AuthConfig{Token: "tok"}}, nil)
		if err != nil {
			t.Fatalf("%s: %v", sec.name, err)
		}
		th, err := clientv3.NewClientConfig(&clientv3.ConfigSpec{Secure: sec.theirs}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if (o.TLS != nil) != (th.TLS != nil) || (th.TLS != nil) != sec.tls || o.TLS != nil && o.TLS.InsecureSkipVerify != sec.skipped {
			t.Errorf("%s: TLS %+v, clientv3's %+v", sec.name, o.TLS, th.TLS)
		}
		if o.Token != "tok" {
			t.Errorf("%s: Token %q, want the AuthConfig's", sec.name, o.Token)
		}
	}

	// Unreadable files are named.
	missing := filepath.Join(t.TempDir(), "missing.pem")
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		sec  client.SecureConfig
		want string
	}{
		{client.SecureConfig{Cacert: missing}, "missing.pem"},
		{client.SecureConfig{Cacert: notPEM}, "not.pem"},
		{client.SecureConfig{Cert: files.CertFile}, "go together"},
		{client.SecureConfig{Cert: missing, Key: files.KeyFile}, "missing.pem"},
	} {
		_, err := client.NewClientConfig(&client.ConfigSpec{Secure: &bad.sec}, nil)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("NewClientConfig(%+v) = %v, want an error naming %q", bad.sec, err, bad.want)
		}
	}
	if _, err := client.NewClientConfig(nil, nil); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("NewClientConfig(nil) = %v", err)
	}

	// Clone shares nothing; Empty tells whether credentials are set.
	spec := &client.ConfigSpec{Endpoints: []string{"a:1"}, Secure: &client.SecureConfig{Cert: "c"}, Auth: &client.AuthConfig{Username: "u"}}
	clone := spec.Clone()
	spec.Endpoints[0], spec.Secure.Cert, spec.Auth.Username = "b:2", "d", "v"
	if clone.Endpoints[0] != "a:1" || clone.Secure.Cert != "c" || clone.Auth.Username != "u" {
		t.Errorf("the clone changed with the original: %+v %+v %+v", clone.Endpoints, clone.Secure, clone.Auth)
	}
	if (*client.ConfigSpec)(nil).Clone() != nil || !(client.AuthConfig{}).Empty() || (client.AuthConfig{Token: "t"}).Empty() {
		t.Error("Clone of nil or Empty is wrong")
	}
}
