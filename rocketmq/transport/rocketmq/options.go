package rocketmq

import (
	"crypto/tls"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
)

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithBrokerOptions passes options to the broker driver as they are.
func WithBrokerOptions(opts ...broker.Option) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, opts...) }
}

// WithTLSConfig asks for TLS; the v2 driver accepts only a config that says
// InsecureSkipVerify, as its client cannot verify certificates (see rmq.ErrTLSUnsupported).
func WithTLSConfig(c *tls.Config) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, broker.WithTLSConfig(c)) }
}

// WithEnableKeepAlive serves a small HTTP health endpoint whose URL Endpoint returns
// (default on), so Kratos registries can register the consumer.
func WithEnableKeepAlive(enable bool) ServerOption {
	return func(s *Server) { s.keepAlive = enable }
}

// WithKeepAliveAddress sets the keep-alive listen address (default ":0").
func WithKeepAliveAddress(addr string) ServerOption {
	return func(s *Server) { s.keepAliveAddr = addr }
}

// WithEnableTrace turns on RocketMQ's own message trace (not OpenTelemetry).
func WithEnableTrace() ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, rmq.WithEnableTrace()) }
}

// WithNameServer sets the name server addresses.
func WithNameServer(addrs []string) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, rmq.WithNameServer(addrs)) }
}

// WithNameServerDomain resolves the name servers over HTTP from uri.
func WithNameServerDomain(uri string) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, rmq.WithNameServerDomain(uri)) }
}

// WithCredentials sets the ACL credentials.
func WithCredentials(accessKey, secretKey, securityToken string) ServerOption {
	return func(s *Server) {
		s.brokerOpts = append(s.brokerOpts, rmq.WithCredentials(accessKey, secretKey, securityToken))
	}
}

// WithNamespace sets the namespace of topics and groups.
func WithNamespace(ns string) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, rmq.WithNamespace(ns)) }
}

// WithInstanceName sets the client instance name.
func WithInstanceName(name string) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, rmq.WithInstanceName(name)) }
}

// WithGroupName sets the producer group and the default consumer group.
func WithGroupName(name string) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, rmq.WithGroupName(name)) }
}

// WithRetryCount sets how often the client retries a failed send.
func WithRetryCount(count int) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, rmq.WithRetryCount(count)) }
}

// WithCodec selects the Kratos codec ("json" default, "proto"); an unknown name fails Start.
func WithCodec(c string) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, broker.WithCodec(c)) }
}

// WithGlobalTracerProvider traces with otel's global tracer provider.
func WithGlobalTracerProvider() ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, broker.WithGlobalTracerProvider()) }
}

// WithGlobalPropagator propagates trace context with otel's global propagator.
func WithGlobalPropagator() ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, broker.WithGlobalPropagator()) }
}

// WithTracerProvider traces with provider under tracerName.
func WithTracerProvider(provider trace.TracerProvider, tracerName string) ServerOption {
	return func(s *Server) {
		s.brokerOpts = append(s.brokerOpts, broker.WithTracerProvider(provider, tracerName))
	}
}

// WithPropagator sets how trace context travels in message properties.
func WithPropagator(propagators propagation.TextMapPropagator) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, broker.WithPropagator(propagators)) }
}

// WithMeterProvider records consume and publish metrics with provider.
func WithMeterProvider(provider metric.MeterProvider) ServerOption {
	return func(s *Server) { s.brokerOpts = append(s.brokerOpts, broker.WithMeterProvider(provider)) }
}

// WithMiddleware runs Kratos middleware around every handler (first one outermost);
// use middleware/selector to pick topics (Operation is the topic).
func WithMiddleware(m ...middleware.Middleware) ServerOption {
	return func(s *Server) { s.middleware = append(s.middleware, m...) }
}

// WithLogger sets the logger of the server, the broker and the client library.
func WithLogger(l log.Logger) ServerOption {
	return func(s *Server) {
		s.logger = l
		s.brokerOpts = append(s.brokerOpts, broker.WithLogger(l))
	}
}
