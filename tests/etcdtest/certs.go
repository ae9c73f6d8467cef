package etcdtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ClientCertCN is the common name of the client certificate that a ClientTLS
// cluster hands out by default. etcd maps the common name of a client
// certificate to a user name when authentication is on and a request carries
// no token, so tests of certificate-based auth create a user of this name or
// issue a certificate of their own with TLSFiles.IssueClientCert.
const ClientCertCN = "etcdtest-client"

// TLSFiles describes the certificates of a ClientTLS cluster. All files are
// PEM encoded and live in the cluster's data directory.
type TLSFiles struct {
	// CAFile is the certificate of the authority that signed every other
	// certificate. Clients trust it to verify the servers.
	CAFile string
	// CertFile and KeyFile are a client certificate and its private key,
	// accepted by the servers.
	CertFile string
	KeyFile  string
	// ServerCertFile and ServerKeyFile are the certificate and key that the
	// servers present. The certificate is valid for 127.0.0.1, ::1 and
	// localhost.
	ServerCertFile string
	ServerKeyFile  string

	dir    string
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	mu     sync.Mutex
	serial int64
}

// ClientConfig returns a new *tls.Config that trusts the cluster's CA and
// presents the default client certificate.
func (f *TLSFiles) ClientConfig() (*tls.Config, error) {
	return f.clientConfig(f.CertFile, f.KeyFile)
}

func (f *TLSFiles) clientConfig(certFile, keyFile string) (*tls.Config, error) {
	pool := x509.NewCertPool()
	pool.AddCert(f.caCert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("etcdtest: load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// IssueClientCert creates a new client certificate with the given common
// name, signed by the cluster's CA, and returns the paths of the certificate
// and of its key. It is meant for tests of certificate-based users.
func (f *TLSFiles) IssueClientCert(commonName string) (certFile, keyFile string, err error) {
	f.mu.Lock()
	f.serial++
	serial := f.serial
	f.mu.Unlock()
	base := fmt.Sprintf("client-%d", serial)
	tmpl := leafTemplate(serial, commonName, x509.ExtKeyUsageClientAuth)
	return f.writeLeaf(base, tmpl)
}

func (f *TLSFiles) writeLeaf(base string, tmpl *x509.Certificate) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.caCert, &key.PublicKey, f.caKey)
	if err != nil {
		return "", "", err
	}
	certFile = filepath.Join(f.dir, base+".crt")
	keyFile = filepath.Join(f.dir, base+".key")
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	if err := writePEM(keyFile, "EC PRIVATE KEY", keyDER); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// generateCerts creates a CA, a server certificate and a client certificate
// in dir.
func generateCerts(dir string) (*TLSFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "etcdtest CA", Organization: []string{"etcdtest"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	f := &TLSFiles{dir: dir, caCert: caCert, caKey: caKey, serial: 10}
	f.CAFile = filepath.Join(dir, "ca.crt")
	if err := writePEM(f.CAFile, "CERTIFICATE", caDER); err != nil {
		return nil, err
	}

	// The server certificate also allows client authentication: etcd uses
	// it to dial itself (gRPC gateway) when client certificates are required.
	srv := leafTemplate(2, "etcdtest server", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	srv.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	srv.DNSNames = []string{"localhost"}
	if f.ServerCertFile, f.ServerKeyFile, err = f.writeLeaf("server", srv); err != nil {
		return nil, err
	}
	cli := leafTemplate(3, ClientCertCN, x509.ExtKeyUsageClientAuth)
	if f.CertFile, f.KeyFile, err = f.writeLeaf("client", cli); err != nil {
		return nil, err
	}
	return f, nil
}

func leafTemplate(serial int64, cn string, usage ...x509.ExtKeyUsage) *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"etcdtest"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
	}
}

func writePEM(path, typ string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if data == nil {
		return errors.New("etcdtest: pem encoding failed")
	}
	return os.WriteFile(path, data, 0o600)
}
