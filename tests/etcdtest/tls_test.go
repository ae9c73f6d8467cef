package etcdtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

func TestClientTLS(t *testing.T) {
	c := StartT(t, Options{Size: 1, ClientTLS: true})
	files := c.TLS()
	if files == nil || c.ClientTLSConfig() == nil {
		t.Fatal("no TLS info")
	}
	for _, f := range []string{files.CAFile, files.CertFile, files.KeyFile} {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}
	if u := c.ClientURLs()[0]; !strings.HasPrefix(u, "https://") {
		t.Fatalf("client url %s", u)
	}

	// With the client certificate: works.
	cli := newClient(t, c.ClientTLSConfig(), c.Endpoints()...)
	mustPut(t, cli, "k", "v")
	mustGet(t, cli, "k", "v")
	ml, err := cli.MemberList(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got := ml.Members[0].ClientURLs[0]; got != c.ClientURLs()[0] {
		t.Fatalf("advertised %s, want %s", got, c.ClientURLs()[0])
	}

	// Trusting the CA but without a client certificate: refused.
	noCert := c.ClientTLSConfig()
	noCert.Certificates = nil
	if err := rawPut(c.Endpoints()[0], credentials.NewTLS(noCert)); err == nil {
		t.Fatal("put without a client certificate succeeded")
	} else {
		t.Logf("without client cert: %v", err)
	}

	// A certificate from another CA: refused.
	other, err := generateCerts(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	otherCfg, err := other.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	otherCfg.RootCAs = c.ClientTLSConfig().RootCAs
	if err := rawPut(c.Endpoints()[0], credentials.NewTLS(otherCfg)); err == nil {
		t.Fatal("put with a foreign client certificate succeeded")
	}

	// A certificate issued later by the cluster's CA: accepted.
	cert, key, err := files.IssueClientCert("alice")
	if err != nil {
		t.Fatal(err)
	}
	aliceCfg, err := files.clientConfig(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := rawPut(c.Endpoints()[0], credentials.NewTLS(aliceCfg)); err != nil {
		t.Fatalf("put with an issued certificate: %v", err)
	}
	pair, _ := tls.LoadX509KeyPair(cert, key)
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	if leaf.Subject.CommonName != "alice" {
		t.Fatalf("cn = %q", leaf.Subject.CommonName)
	}
}

// rawPut does one Put over plain gRPC with the given transport credentials.
func rawPut(addr string, creds credentials.TransportCredentials) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = etcdserverpb.NewKVClient(conn).Put(ctx, &etcdserverpb.PutRequest{Key: []byte("raw"), Value: []byte("1")})
	return err
}

func TestClientTLSProxyThreeMembers(t *testing.T) {
	c := StartT(t, Options{Size: 3, ClientTLS: true, Proxy: true})
	cli := newClient(t, c.ClientTLSConfig(), c.Endpoints()...)
	mustPut(t, cli, "k", "v")
	for _, m := range c.Members() {
		if m.Endpoint() != m.Proxy().Addr() {
			t.Fatalf("endpoint %s, proxy %s", m.Endpoint(), m.Proxy().Addr())
		}
		mustGet(t, newClient(t, c.ClientTLSConfig(), m.Endpoint()), "k", "v")
	}
}
