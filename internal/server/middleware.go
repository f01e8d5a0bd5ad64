package server

import (
	"context"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/middleware/logging"
	"github.com/go-kratos/kratos/v2/middleware/recovery"
	"github.com/go-kratos/kratos/v2/middleware/tracing"

	v1 "github.com/kratos-rocketmq/layout/api/order/v1"
	"github.com/kratos-rocketmq/rocketmq/telemetry"
)

// apiMiddleware is the chain of the HTTP and gRPC API: recovery first so a panic anywhere
// becomes a 500, then tracing, metrics (requests by operation and code, latency),
// logging, and request validation.
func apiMiddleware(logger log.Logger, tp *telemetry.Provider) ([]middleware.Middleware, error) {
	metrics, err := tp.ServerMetrics()
	if err != nil {
		return nil, err
	}
	return []middleware.Middleware{
		recovery.Recovery(),
		tracing.Server(tracing.WithTracerProvider(tp.Tracer)),
		metrics,
		logging.Server(logger),
		validate(),
	}, nil
}

// validate rejects requests whose Validate method (generated from the validate rules of the
// .proto files) fails, with a 400 whose reason is INVALID_ARGUMENT.
func validate() middleware.Middleware {
	type validator interface{ Validate() error }
	return func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			if v, ok := req.(validator); ok {
				if err := v.Validate(); err != nil {
					return nil, v1.ErrorInvalidArgument("%v", err).WithCause(err)
				}
			}
			return next(ctx, req)
		}
	}
}
