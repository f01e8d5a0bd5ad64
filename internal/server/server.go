// Package server builds the transports of the application from configuration: HTTP (the
// order API, health and readiness), gRPC, and the RocketMQ subscriber.
package server

import "github.com/google/wire"

// ProviderSet is server providers.
var ProviderSet = wire.NewSet(NewHTTPServer, NewGRPCServer, NewRocketMQServer)
