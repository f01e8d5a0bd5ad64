package cluster

import (
	"fmt"
	"strings"

	"github.com/go-kratos/kratos/v2/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// Client is how one client of the service (its producer, its consumer) reaches RocketMQ:
// its resolved Settings (name servers filled in when the embedded broker runs) and what
// every client of the service shares (logger, telemetry). Its methods map the settings
// onto the driver, the transport server and the admin calls.
type Client struct {
	// Settings are the resolved settings: NameServers is set unless NameServerDomain is.
	Settings Settings
	logger   log.Logger
	meter    metric.MeterProvider
	tracer   trace.TracerProvider
	hints    Hints
}

// NameServers returns the name servers of the settings (the embedded broker's when it
// runs); none with a name server domain, whose list ResolveNameServers fetches, nor for
// driver "aliyun" on an endpoint of its own unless the settings name some.
func (c *Client) NameServers() []string { return c.Settings.NameServers }

// Driver returns the driver type of the client's publisher and subscriber: give it to
// transport/rocketmq.NewServer with ServerOptions.
func (c *Client) Driver() rmq.DriverType { return c.Settings.DriverType() }

// BrokerOptions returns the driver options of the connection: name servers (or domain;
// driver "aliyun": its HTTP endpoint; driver "v5": the proxies' gRPC endpoints),
// namespace, instance name, credentials, retry count, send timeout, codec, TLS,
// RocketMQ's message trace, the logger and the client log level, and the telemetry of
// WithTelemetry (spans only with Trace.Enabled). Add the group and what is specific to
// the client (transaction checker, ...).
func (c *Client) BrokerOptions() ([]broker.Option, error) {
	s := c.Settings
	level, err := parseClientLogLevel(s.ClientLogLevel)
	if err != nil {
		return nil, err
	}
	opts := []broker.Option{broker.WithLogger(c.logger), broker.WithClientLogLevel(level)}
	switch {
	case s.Driver == DriverAliyun:
		opts = append(opts, rmq.WithNameServer([]string{s.Endpoint})) // the driver's address is its HTTP endpoint
	case s.Driver == DriverV5:
		opts = append(opts, rmq.WithNameServer(s.ProxyEndpoints())) // a name server domain serves the admin calls only
	case s.NameServerDomain != "":
		opts = append(opts, rmq.WithNameServerDomain(s.NameServerDomain))
	default:
		opts = append(opts, rmq.WithNameServer(s.NameServers))
	}
	if s.Namespace != "" {
		opts = append(opts, rmq.WithNamespace(s.Namespace))
	}
	if s.InstanceName != "" {
		opts = append(opts, rmq.WithInstanceName(s.InstanceName))
	}
	if cr := s.Credentials; cr != nil && cr.AccessKey != "" {
		opts = append(opts, rmq.WithCredentials(cr.AccessKey, cr.SecretKey, cr.SecurityToken))
	}
	if s.RetryCount > 0 {
		opts = append(opts, rmq.WithRetryCount(s.RetryCount))
	}
	if s.SendTimeout > 0 {
		opts = append(opts, rmq.WithSendTimeout(s.SendTimeout))
	}
	if s.Codec != "" {
		opts = append(opts, broker.WithCodec(s.Codec))
	}
	cfg, err := s.TLS.Config()
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		opts = append(opts, broker.WithTLSConfig(cfg))
	}
	if c.meter != nil {
		opts = append(opts, broker.WithMeterProvider(c.meter))
	}
	if s.Trace != nil && s.Trace.Enabled && c.tracer != nil {
		opts = append(opts, broker.WithTracerProvider(c.tracer, ""))
	}
	if s.Trace != nil && s.Trace.MessageTrace {
		opts = append(opts, rmq.WithEnableTrace())
	}
	return opts, nil
}

// Connect returns a connected driver (publisher) of the client: BrokerOptions, then opts
// (the group, a transaction checker, ...). Disconnect it when done.
func (c *Client) Connect(opts ...broker.Option) (broker.Broker, error) {
	all, err := c.BrokerOptions()
	if err != nil {
		return nil, err
	}
	b, err := rmq.NewBroker(c.Settings.DriverType(), append(all, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := b.Connect(); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", b.Address(), err)
	}
	return b, nil
}

// ServerOptions returns the transport server's options of the connection (see
// BrokerOptions; the logger is the server's too). Add the group, middleware and
// keep-alive.
func (c *Client) ServerOptions() ([]rocketmq.ServerOption, error) {
	opts, err := c.BrokerOptions()
	if err != nil {
		return nil, err
	}
	return []rocketmq.ServerOption{rocketmq.WithLogger(c.logger), rocketmq.WithBrokerOptions(opts...)}, nil
}

// parseClientLogLevel reads a client log level ("" is warn).
func parseClientLogLevel(s string) (log.Level, error) {
	if s == "" {
		return log.LevelWarn, nil
	}
	level := log.ParseLevel(strings.ToUpper(s))
	if !strings.EqualFold(level.String(), s) {
		return level, fmt.Errorf("client log level %q: want debug, info, warn or error", s)
	}
	return level, nil
}
