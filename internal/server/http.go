package server

import (
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/transport/http"

	v1 "github.com/kratos-rocketmq/layout/api/order/v1"
	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/internal/service"
	"github.com/kratos-rocketmq/layout/internal/telemetry"
	"github.com/kratos-rocketmq/layout/pkg/health"
)

// readinessTimeout bounds all readiness checks of one /readyz request.
const readinessTimeout = 2 * time.Second

// NewHTTPServer returns the HTTP server: the order API, GET /healthz (liveness),
// GET /readyz (readiness: every health check must pass) and GET /metrics (Prometheus).
func NewHTTPServer(c *conf.Server, orders *service.OrderService, checks health.Checkers, tp *telemetry.Provider, logger log.Logger) (*http.Server, error) {
	mws, err := apiMiddleware(logger, tp)
	if err != nil {
		return nil, err
	}
	opts := []http.ServerOption{
		http.Middleware(mws...),
	}
	if c.GetHttp().GetNetwork() != "" {
		opts = append(opts, http.Network(c.GetHttp().GetNetwork()))
	}
	if c.GetHttp().GetAddr() != "" {
		opts = append(opts, http.Address(c.GetHttp().GetAddr()))
	}
	if c.GetHttp().GetTimeout() != nil {
		opts = append(opts, http.Timeout(c.GetHttp().GetTimeout().AsDuration()))
	}
	srv := http.NewServer(opts...)
	srv.Handle("/healthz", health.LivenessHandler())
	srv.Handle("/readyz", health.ReadinessHandler(checks, readinessTimeout))
	srv.Handle("/metrics", tp.Handler)
	v1.RegisterOrderServiceHTTPServer(srv, orders)
	return srv, nil
}
