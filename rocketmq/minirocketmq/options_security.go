package minirocketmq

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
)

type securityConfig struct {
	acl     *acl.Validator
	tls     *tls.Config
	tlsMode TLSMode
}

// WithACL turns access control on (aclEnable): every request arriving at
// the broker listener is checked by v (package acl: signature, white
// addresses, admin codes, topic and group permissions) before its handler
// runs; a refused one gets the real broker's SYSTEM_ERROR and remark and
// changes nothing. On the name server listener, requests that change
// something (DELETE_TOPIC_IN_NAMESRV) need an admin account's signature;
// queries are not checked, as on the real name server. Load v from a
// plain_acl.yml with acl.Load.
func WithACL(v *acl.Validator) Option { return func(c *config) { c.security.acl = v } }

// TLSMode says how the listeners treat TLS when WithTLS is given (the real
// broker's tls.server.mode).
type TLSMode int

const (
	// TLSEnforcing (the default) serves TLS only: a plain client's first
	// frame fails the handshake and its connection is closed.
	TLSEnforcing TLSMode = iota
	// TLSPermissive serves TLS and plain connections on the same ports,
	// told apart by their first byte (a TLS handshake record starts with
	// 0x16, a remoting frame's length with 0x00), as the real broker's
	// permissive mode does.
	TLSPermissive
)

// String returns "enforcing" or "permissive".
func (m TLSMode) String() string {
	if m == TLSPermissive {
		return "permissive"
	}
	return "enforcing"
}

// ParseTLSMode reads "enforcing" or "permissive" (case-insensitive).
func ParseTLSMode(s string) (TLSMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "enforcing":
		return TLSEnforcing, nil
	case "permissive":
		return TLSPermissive, nil
	}
	return TLSEnforcing, fmt.Errorf("minirocketmq: TLS mode %q: want enforcing or permissive", s)
}

// WithTLS makes the name server and the broker listeners serve TLS with cfg
// (its certificate; ClientAuth and ClientCAs to verify client
// certificates). See LoadTLSConfig and WithTLSMode. Note that the Go client
// cannot present a client certificate and does not verify the server's
// (rocketmq-client-go v2 dials with InsecureSkipVerify).
func WithTLS(cfg *tls.Config) Option { return func(c *config) { c.security.tls = cfg } }

// WithTLSMode sets how WithTLS listeners treat plain clients (default
// TLSEnforcing: refused).
func WithTLSMode(m TLSMode) Option { return func(c *config) { c.security.tlsMode = m } }

// LoadTLSConfig builds a server TLS configuration from PEM files: the
// certificate (chain) and its key, and optionally the CAs whose client
// certificates are required and verified (clientCAFile empty: clients
// need none).
func LoadTLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("minirocketmq: TLS needs both a certificate and a key file")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("minirocketmq: load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("minirocketmq: read client CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("minirocketmq: client CA file %s holds no PEM certificate", clientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
