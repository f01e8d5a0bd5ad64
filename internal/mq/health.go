package mq

import (
	"context"
	"time"

	"github.com/kratos-rocketmq/rocketmq/admin"
	"github.com/kratos-rocketmq/rocketmq/health"
)

// probeTimeout bounds one readiness probe.
const probeTimeout = 2 * time.Second

// HealthChecker is the readiness check of the RocketMQ connection (a distinct type so
// dependency injection can tell it apart).
type HealthChecker health.Checker

// NewHealthChecker returns a check that passes when a name server answers and every
// broker address it hands out accepts connections.
func NewHealthChecker(ep *Endpoint) HealthChecker {
	return health.CheckFunc("rocketmq", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return admin.Probe(ctx, ep.NameServers(), nil).Err()
	})
}
