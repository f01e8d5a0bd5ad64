// Package server builds the transports of the application from configuration: HTTP (the
// order API, health and readiness), gRPC, and the RocketMQ subscriber.
package server

import (
	"github.com/google/wire"

	"github.com/kratos-rocketmq/rocketmq/telemetry"
)

// ProviderSet is server providers.
var ProviderSet = wire.NewSet(NewTelemetry, NewHTTPServer, NewGRPCServer, NewRocketMQServer)

// NewTelemetry returns the service's OpenTelemetry providers (Prometheus on /metrics,
// spans for logs and messages); pass telemetry.WithSpanExporter here to ship spans.
func NewTelemetry() (*telemetry.Provider, func(), error) { return telemetry.NewProvider() }
