package server

import (
	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/transport/grpc"

	v1 "github.com/kratos-rocketmq/layout/api/order/v1"
	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/internal/service"
	"github.com/kratos-rocketmq/rocketmq/telemetry"
)

// NewGRPCServer returns the gRPC server of the order API.
func NewGRPCServer(c *conf.Server, orders *service.OrderService, tp *telemetry.Provider, logger log.Logger) (*grpc.Server, error) {
	mws, err := apiMiddleware(logger, tp)
	if err != nil {
		return nil, err
	}
	opts := []grpc.ServerOption{
		grpc.Middleware(mws...),
	}
	if c.GetGrpc().GetNetwork() != "" {
		opts = append(opts, grpc.Network(c.GetGrpc().GetNetwork()))
	}
	if c.GetGrpc().GetAddr() != "" {
		opts = append(opts, grpc.Address(c.GetGrpc().GetAddr()))
	}
	if c.GetGrpc().GetTimeout() != nil {
		opts = append(opts, grpc.Timeout(c.GetGrpc().GetTimeout().AsDuration()))
	}
	srv := grpc.NewServer(opts...)
	v1.RegisterOrderServiceServer(srv, orders)
	return srv, nil
}
