package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"
)

// Defaults of the embedded broker's listeners: RocketMQ's own ports, on loopback (the
// gRPC one, the 5.x proxy's, only when a side's driver is DriverV5).
const (
	DefaultEmbeddedNameServerAddr = "127.0.0.1:9876"
	DefaultEmbeddedBrokerAddr     = "127.0.0.1:10911"
	DefaultEmbeddedGRPCAddr       = "127.0.0.1:8081"
)

// Drivers Settings.Driver names.
const (
	// DriverV2 is rocketmq-client-go/v2 over the remoting protocol (RocketMQ 4.x and
	// 5.x brokers, through their name servers); the default.
	DriverV2 = "v2"
	// DriverV5 is the library's client of RocketMQ 5's gRPC proxy API: publishing and
	// consuming go to ProxyEndpoints, while admin calls (topic creation, readiness,
	// consumer lag) stay on the name servers, as a 5.x cluster serves them there.
	DriverV5 = "v5"
)

// Settings is how one client reaches RocketMQ. The zero value (or NameServers
// ["embedded"]) selects the embedded broker with its defaults. A nil pointer or a zero
// value means "not set": Inherit fills it from the other side of the service.
type Settings struct {
	// Driver is the client library: DriverV2 ("" means it) or DriverV5.
	Driver string
	// ProxyEndpoints are the RocketMQ 5 proxies' gRPC endpoints (host:port, 8081 by
	// default) that DriverV5 publishes and consumes through; with the embedded broker
	// they are its gRPC endpoint, which Open then starts.
	ProxyEndpoints []string
	// NameServers are host:port addresses; empty or ["embedded"] selects the embedded
	// broker.
	NameServers []string
	// NameServerDomain is an HTTP endpoint that returns the name server list (instead of
	// NameServers).
	NameServerDomain string
	// Namespace prefixes topics and groups ("ns%topic"), to share a cluster.
	Namespace string
	// InstanceName names the client instance (default: the client's own).
	InstanceName string
	// Credentials of RocketMQ's ACL; nil: no ACL.
	Credentials *Credentials
	// TLS to the name servers and brokers; nil or Enabled false: plain TCP.
	TLS *TLS
	// Trace says what is traced; nil: nothing.
	Trace *Trace
	// RetryCount is how often a failed send is retried on another queue (0: the
	// client's default, 2).
	RetryCount int
	// SendTimeout bounds one send (0: the client's default, 3s).
	SendTimeout time.Duration
	// Codec encodes published values and decodes delivered bodies: "json" (default),
	// "proto" or any Kratos encoding name.
	Codec string
	// ClientLogLevel is the lowest level of the client library's own log lines passed on:
	// debug, info, warn or error ("": warn).
	ClientLogLevel string
	// Embedded configures the broker Open starts when NameServers selects it; nil: the
	// defaults.
	Embedded *Embedded
}

// Credentials are the access key pair (and optional security token) of RocketMQ's ACL.
type Credentials struct {
	AccessKey, SecretKey, SecurityToken string
}

// TLS configures TLS to the cluster.
type TLS struct {
	Enabled bool
	// InsecureSkipVerify skips the verification of the server certificate (testing only).
	InsecureSkipVerify bool
	// CAFile is a PEM bundle of the CAs that sign the server certificates (default: the
	// system's).
	CAFile string
	// CertFile and KeyFile are the client certificate and key (PEM), for mutual TLS.
	CertFile, KeyFile string
	// ServerName is the name the server certificate must carry (default: the host dialled).
	ServerName string
}

// Trace says what a client traces.
type Trace struct {
	// Enabled records OpenTelemetry spans and carries the trace context in message
	// properties (with the tracer provider of WithTelemetry).
	Enabled bool
	// MessageTrace also sends RocketMQ's own message trace to RMQ_SYS_TRACE_TOPIC.
	MessageTrace bool
}

// Embedded configures the in-process broker.
type Embedded struct {
	// NameServerAddr and BrokerAddr are the listen addresses (defaults
	// DefaultEmbeddedNameServerAddr, DefaultEmbeddedBrokerAddr; port 0 picks a free one).
	NameServerAddr, BrokerAddr string
	// GRPCAddr is the listen address of the RocketMQ 5 gRPC endpoint, served when a side
	// uses DriverV5 (default DefaultEmbeddedGRPCAddr).
	GRPCAddr string
	// DataDir is the directory of the durable store; "" keeps messages in memory.
	DataDir string
	// TransactionCheckInterval is how often the broker asks about unresolved
	// transactions (0: the broker's default, 60s; the first check comes after at most 6s).
	TransactionCheckInterval time.Duration
}

// IsEmbedded reports whether nameServers select the embedded broker: none at all, or the
// single word "embedded" (also written embedded://).
func IsEmbedded(nameServers []string) bool {
	switch len(nameServers) {
	case 0:
		return true
	case 1:
		return strings.TrimSuffix(strings.TrimSpace(nameServers[0]), "://") == "embedded"
	}
	return false
}

// UsesEmbedded reports whether s selects the embedded broker.
func (s Settings) UsesEmbedded() bool { return IsEmbedded(s.NameServers) && s.NameServerDomain == "" }

// UsesV5 reports whether s selects DriverV5.
func (s Settings) UsesV5() bool { return s.Driver == DriverV5 }

// Qualified returns name (a topic or group) as the broker knows it in s's namespace:
// "ns%name", or name without a namespace.
func (s Settings) Qualified(name string) string {
	if s.Namespace == "" || name == "" {
		return name
	}
	return s.Namespace + "%" + name
}

// Inherit returns s with every connection setting it leaves unset taken from other: the
// driver and proxy endpoints, the name servers and their domain, namespace, instance
// name, credentials, TLS, trace, retry count, send timeout, codec, client log level and
// the embedded broker. This is how a service's producer and consumer share what is
// written once.
func (s Settings) Inherit(other Settings) Settings {
	if s.Driver == "" {
		s.Driver = other.Driver
	}
	if len(s.ProxyEndpoints) == 0 {
		s.ProxyEndpoints = append([]string(nil), other.ProxyEndpoints...)
	}
	if len(s.NameServers) == 0 && s.NameServerDomain == "" {
		s.NameServers = append([]string(nil), other.NameServers...)
		s.NameServerDomain = other.NameServerDomain
	}
	if s.Namespace == "" {
		s.Namespace = other.Namespace
	}
	if s.InstanceName == "" {
		s.InstanceName = other.InstanceName
	}
	s.Credentials = inheritPtr(s.Credentials, other.Credentials)
	s.TLS = inheritPtr(s.TLS, other.TLS)
	s.Trace = inheritPtr(s.Trace, other.Trace)
	s.Embedded = inheritPtr(s.Embedded, other.Embedded)
	if s.RetryCount == 0 {
		s.RetryCount = other.RetryCount
	}
	if s.SendTimeout == 0 {
		s.SendTimeout = other.SendTimeout
	}
	if s.Codec == "" {
		s.Codec = other.Codec
	}
	if s.ClientLogLevel == "" {
		s.ClientLogLevel = other.ClientLogLevel
	}
	return s
}

// inheritPtr returns a copy of own, or of other when own is nil (never a shared pointer).
func inheritPtr[T any](own, other *T) *T {
	if own == nil {
		own = other
	}
	if own == nil {
		return nil
	}
	c := *own
	return &c
}

// Config builds the client TLS configuration (nil when t is nil or not enabled).
func (t *TLS) Config() (*tls.Config, error) {
	if t == nil || !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // an explicit, documented opt-in
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca_file %s: no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
