package client_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestTLSClientCert runs against a server that requires a client
// certificate signed by its CA.
func TestTLSClientCert(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{ClientTLS: true})
	ctx := coreCtx(t)

	t.Run("right certificate", func(t *testing.T) {
		for _, eps := range [][]string{cl.Endpoints(), cl.ClientURLs()} {
			c := coreOurs(t, client.Config{Endpoints: eps, TLS: cl.ClientTLSConfig()})
			if _, err := c.Put(ctx, "tls", strings.Join(eps, ",")); err != nil {
				t.Fatalf("Put over TLS to %v: %v", eps, err)
			}
			theirs := coreTheirs(t, clientv3.Config{Endpoints: eps, TLS: cl.ClientTLSConfig()})
			r, err := theirs.Get(ctx, "tls")
			if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != strings.Join(eps, ",") {
				t.Errorf("clientv3 reads %v, %v", r, err)
			}
		}
		// A client certificate of its own, issued by the cluster's CA.
		certFile, keyFile, err := cl.TLS().IssueClientCert("someone")
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg := cl.ClientTLSConfig()
		cfg.Certificates = []tls.Certificate{pair}
		c := coreOurs(t, client.Config{Endpoints: cl.Endpoints(), TLS: cfg})
		if _, err := c.Get(ctx, "tls"); err != nil {
			t.Errorf("Get with an issued certificate: %v", err)
		}
	})

	t.Run("no client certificate", func(t *testing.T) {
		cfg := cl.ClientTLSConfig()
		cfg.Certificates = nil
		c, err := client.New(client.Config{Endpoints: cl.Endpoints(), TLS: cfg})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = c.Get(cctx, "tls")
		cancel()
		if err == nil {
			t.Fatal("Get without a client certificate succeeded")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want a deadline error", err)
		}
		if !strings.Contains(err.Error(), "certificate") {
			t.Errorf("message %q does not say a certificate was missing", err)
		}
		if got := client.Classify(err); got.Code != client.CodeUnavailable {
			t.Errorf("Classify(%v) = %+v, want unavailable", err, got)
		}
	})

	t.Run("untrusted CA", func(t *testing.T) {
		cfg := cl.ClientTLSConfig()
		cfg.RootCAs = x509.NewCertPool() // trusts nothing
		_, err := client.New(client.Config{Endpoints: cl.Endpoints(), TLS: cfg, DialTimeout: 2 * time.Second})
		checkConnectError(t, err, "TLS handshake")
		if !strings.Contains(err.Error(), "x509") || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("message %q does not name the certificate error", err)
		}
	})

	t.Run("https without a TLS config", func(t *testing.T) {
		// The system roots do not know the cluster's CA. Loading them takes
		// a while the first time: do it before the clock runs.
		if _, err := x509.SystemCertPool(); err != nil {
			t.Logf("system roots: %v", err)
		}
		c, err := client.New(client.Config{Endpoints: cl.ClientURLs()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = c.Get(cctx, "tls")
		cancel()
		checkConnectError(t, err, "TLS handshake")
	})

	t.Run("plain text to a TLS server", func(t *testing.T) {
		c, err := client.New(client.Config{Endpoints: []string{"http://" + cl.Endpoints()[0]}, TLS: cl.ClientTLSConfig()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err = c.Get(cctx, "tls")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("plain text to a TLS port: %v, want a deadline error", err)
		}
	})
}
