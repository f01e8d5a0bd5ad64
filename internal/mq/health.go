package mq

import (
	"context"

	"github.com/kratos-rocketmq/layout/pkg/health"
)

// HealthChecker is the readiness check of the RocketMQ connection (a distinct type so
// dependency injection can tell it apart).
type HealthChecker health.Checker

// NewHealthChecker returns a check that passes when a name server answers and every
// broker address it hands out accepts connections.
func NewHealthChecker(ep *Endpoint) HealthChecker {
	return health.CheckFunc("rocketmq", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return Probe(ctx, ep.NameServers(), nil).Err()
	})
}
