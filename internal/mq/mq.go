// Package mq connects the application to RocketMQ: it resolves the connection settings of
// the producing (data.rocketmq) and consuming (server.rocketmq) sides, starts the embedded
// broker (pkg/minirocketmq) when the configuration names no cluster, and probes name
// servers and brokers for readiness and for `app doctor`.
package mq

import "github.com/google/wire"

// ProviderSet is mq providers.
var ProviderSet = wire.NewSet(NewEndpoint, NewHealthChecker)
