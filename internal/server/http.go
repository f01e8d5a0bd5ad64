package server

import (
	stdhttp "net/http"
	"time"

	"github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/transport/http"

	v1 "github.com/kratos-rocketmq/layout/api/order/v1"
	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/internal/service"
	"github.com/kratos-rocketmq/rocketmq/health"
	"github.com/kratos-rocketmq/rocketmq/telemetry"
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
		// Unknown paths and methods answer with a Kratos error body like every other
		// client error (the router's defaults are plain-text "404 page not found").
		http.NotFoundHandler(routeError(errors.NotFound("NOT_FOUND", "no route"))),
		http.MethodNotAllowedHandler(routeError(errors.New(stdhttp.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed"))),
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

// routeError answers a request no route takes with e, naming the method and path.
func routeError(e *errors.Error) stdhttp.Handler {
	return stdhttp.HandlerFunc(func(w stdhttp.ResponseWriter, r *stdhttp.Request) {
		http.DefaultErrorEncoder(w, r, errors.New(int(e.Code), e.Reason, e.Message+": "+r.Method+" "+r.URL.Path))
	})
}
