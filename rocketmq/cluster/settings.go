package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
)

// Defaults of the embedded broker's listeners: RocketMQ's own ports, on loopback.
const (
	DefaultEmbeddedNameServerAddr = "127.0.0.1:9876"
	DefaultEmbeddedBrokerAddr     = "127.0.0.1:10911"
	// DefaultEmbeddedHTTPAddr is where the embedded broker serves the Aliyun MQ HTTP API
	// when a client of driver "aliyun" uses it.
	DefaultEmbeddedHTTPAddr = "127.0.0.1:8082"
	// DefaultEmbeddedGRPCAddr is where the embedded broker serves the RocketMQ 5 gRPC
	// API (the proxy's port) when a client of driver "v5" uses it.
	DefaultEmbeddedGRPCAddr = "127.0.0.1:8081"
)

// Drivers of Settings.Driver.
const (
	// DriverV2 is rocketmq-client-go (the remoting protocol): the default.
	DriverV2 = "v2"
	// DriverAliyun is Aliyun's MQ HTTP API (Message Queue for Apache RocketMQ 4.x
	// instances; the embedded broker's HTTP endpoint).
	DriverAliyun = "aliyun"
	// DriverV5 is the library's client of RocketMQ 5's gRPC proxy API: publishing and
	// consuming go to Endpoint (the proxies), admin calls to the name servers, where a
	// 5.x cluster serves them.
	DriverV5 = "v5"
)

// Settings is how one client reaches RocketMQ. The zero value (or NameServers
// ["embedded"]) selects the embedded broker with its defaults. A nil pointer or a zero
// value means "not set": Inherit fills it from the other side of the service.
type Settings struct {
	// Driver is the client library of the connections: DriverV2 ("" too), DriverV5 or
	// DriverAliyun. Admin calls (topic creation, probes, consumer lag) use the remoting
	// protocol whatever the driver, where the cluster offers it (see Client).
	Driver string
	// Endpoint is the HTTP endpoint of driver "aliyun"
	// ("http://<id>.mqrest.<region>.aliyuncs.com"; Namespace is then the instance id),
	// or the RocketMQ 5 proxies' gRPC endpoints of driver "v5" ("host:8081", several
	// separated by ';'). Empty: the embedded broker's HTTP or gRPC endpoint.
	Endpoint string
	// NameServers are host:port addresses; empty or ["embedded"] selects the embedded
	// broker (unless driver "aliyun" names an Endpoint).
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
	// HTTPAddr is where it serves the Aliyun MQ HTTP API for clients of driver "aliyun"
	// (default DefaultEmbeddedHTTPAddr; port 0 picks a free one).
	HTTPAddr string
	// GRPCAddr is where it serves the RocketMQ 5 gRPC API for clients of driver "v5"
	// (default DefaultEmbeddedGRPCAddr; port 0 picks a free one).
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

// UsesEmbedded reports whether s selects the embedded broker: no name servers (or
// "embedded") and no name server domain, and not driver "aliyun" with an Endpoint.
func (s Settings) UsesEmbedded() bool {
	return IsEmbedded(s.NameServers) && s.NameServerDomain == "" && !s.aliyunRemote()
}

// aliyunRemote reports whether s is driver "aliyun" on an Endpoint of its own.
func (s Settings) aliyunRemote() bool { return s.Driver == DriverAliyun && s.Endpoint != "" }

// ProxyEndpoints returns the gRPC endpoints of driver "v5": Endpoint split at ';'.
func (s Settings) ProxyEndpoints() []string {
	var out []string
	for _, ep := range strings.Split(s.Endpoint, ";") {
		if ep = strings.TrimSpace(ep); ep != "" {
			out = append(out, ep)
		}
	}
	return out
}

// DriverType is the driver of the transport and broker/rocketmq for s.Driver.
func (s Settings) DriverType() rmq.DriverType {
	if s.Driver == "" {
		return rmq.DriverTypeV2
	}
	return rmq.DriverType(s.Driver)
}

// Qualified returns name (a topic or group) as the broker knows it in s's namespace:
// "ns%name", or name without a namespace.
func (s Settings) Qualified(name string) string {
	if s.Namespace == "" || name == "" {
		return name
	}
	return s.Namespace + "%" + name
}

// Inherit returns s with every connection setting it leaves unset taken from other: the
// driver and its endpoint, the name servers and their domain, namespace, instance name,
// credentials, TLS, trace, retry count, send timeout, codec, client log level and the
// embedded broker. This is how a service's producer and consumer share what is written
// once.
func (s Settings) Inherit(other Settings) Settings {
	if s.Driver == "" {
		s.Driver = other.Driver
	}
	if s.Endpoint == "" {
		s.Endpoint = other.Endpoint
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
