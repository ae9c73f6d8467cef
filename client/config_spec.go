package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"time"

	"go.uber.org/zap"
)

// ConfigSpec is a client configuration as users write it (flags, the
// environment, a JSON or YAML file), with clientv3's field names and JSON
// keys; NewClientConfig turns it into a Config.
type ConfigSpec struct {
	Endpoints []string `json:"endpoints"`
	// RequestTimeout is for the caller to bound its calls with; Config
	// has no such field.
	RequestTimeout     time.Duration `json:"request-timeout"`
	DialTimeout        time.Duration `json:"dial-timeout"`
	KeepAliveTime      time.Duration `json:"keepalive-time"`
	KeepAliveTimeout   time.Duration `json:"keepalive-timeout"`
	MaxCallSendMsgSize int           `json:"max-request-bytes"`
	MaxCallRecvMsgSize int           `json:"max-recv-bytes"`
	Secure             *SecureConfig `json:"secure"`
	Auth               *AuthConfig   `json:"auth"`
}

// SecureConfig is the TLS part of a ConfigSpec: PEM files of the client's
// certificate and key and of the CA that signed the servers' certificates.
type SecureConfig struct {
	Cert       string `json:"cert"`
	Key        string `json:"key"`
	Cacert     string `json:"cacert"`
	ServerName string `json:"server-name"`

	// InsecureTransport, with no files and no ServerName, means no TLS.
	InsecureTransport bool `json:"insecure-transport"`
	// InsecureSkipVerify accepts any server certificate.
	InsecureSkipVerify bool `json:"insecure-skip-tls-verify"`
}

// AuthConfig is the authentication part of a ConfigSpec: a username and
// password, or a token.
type AuthConfig struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Token    string `json:"token"`
}

// Empty reports whether no credential is set.
func (cfg AuthConfig) Empty() bool {
	return cfg.Username == "" && cfg.Password == "" && cfg.Token == ""
}

// Clone returns a copy of cs that shares no memory with it; nil for nil.
func (cs *ConfigSpec) Clone() *ConfigSpec {
	if cs == nil {
		return nil
	}
	out := *cs
	out.Endpoints = slices.Clone(cs.Endpoints)
	if cs.Secure != nil {
		sec := *cs.Secure
		out.Secure = &sec
	}
	if cs.Auth != nil {
		auth := *cs.Auth
		out.Auth = &auth
	}
	return &out
}

// NewClientConfig builds the Config that confSpec describes, reading its
// TLS files. A Secure section with no files and no ServerName still means
// TLS (with the system's CAs) unless InsecureTransport is set. lg, when not
// nil, becomes Config.Logger.
func NewClientConfig(confSpec *ConfigSpec, lg *zap.Logger) (*Config, error) {
	if confSpec == nil {
		return nil, invalidArg("NewClientConfig: nil ConfigSpec")
	}
	tlsCfg, err := confSpec.Secure.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("etcdclient: NewClientConfig: %w", err)
	}
	cfg := &Config{
		Endpoints:            confSpec.Endpoints,
		DialTimeout:          confSpec.DialTimeout,
		DialKeepAliveTime:    confSpec.KeepAliveTime,
		DialKeepAliveTimeout: confSpec.KeepAliveTimeout,
		MaxCallSendMsgSize:   confSpec.MaxCallSendMsgSize,
		MaxCallRecvMsgSize:   confSpec.MaxCallRecvMsgSize,
		TLS:                  tlsCfg,
		Logger:               lg,
	}
	if a := confSpec.Auth; a != nil {
		cfg.Username, cfg.Password, cfg.Token = a.Username, a.Password, a.Token
	}
	return cfg, nil
}

// tlsConfig reads the files of sc; nil (no TLS) for a nil sc or an
// insecure transport with nothing to load.
func (sc *SecureConfig) tlsConfig() (*tls.Config, error) {
	if sc == nil {
		return nil, nil
	}
	files := sc.Cert != "" || sc.Key != "" || sc.Cacert != "" || sc.ServerName != ""
	if !files && sc.InsecureTransport && !sc.InsecureSkipVerify {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: sc.ServerName, InsecureSkipVerify: sc.InsecureSkipVerify}
	if (sc.Cert == "") != (sc.Key == "") {
		return nil, invalidArg("secure: cert %q and key %q go together", sc.Cert, sc.Key)
	}
	if sc.Cert != "" {
		pair, err := tls.LoadX509KeyPair(sc.Cert, sc.Key)
		if err != nil {
			return nil, fmt.Errorf("secure: load cert %s and key %s: %w", sc.Cert, sc.Key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if sc.Cacert != "" {
		pem, err := os.ReadFile(sc.Cacert)
		if err != nil {
			return nil, fmt.Errorf("secure: cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, invalidArg("secure: cacert %s holds no PEM certificate", sc.Cacert)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
