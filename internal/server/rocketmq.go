package server

import (
	"context"
	"fmt"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware/logging"
	"github.com/go-kratos/kratos/v2/middleware/recovery"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/internal/service"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// NewRocketMQServer returns the RocketMQ transport server of server.rocketmq with every
// configured subscription registered on its handler.
func NewRocketMQServer(c *conf.Server, ep *cluster.Endpoint, events *service.OrderEvents, logger log.Logger) (*rocketmq.Server, error) {
	rc := c.GetRocketmq()
	opts, err := ep.Consumer.ServerOptions()
	if err != nil {
		return nil, fmt.Errorf("rocketmq server: %w", err)
	}
	opts = append(opts,
		rocketmq.WithMiddleware(recovery.Recovery(), logging.Server(logger)),
		rocketmq.WithEnableKeepAlive(rc.GetEnableKeepAlive()))
	if rc.GetGroup() != "" {
		opts = append(opts, rocketmq.WithGroupName(rc.GetGroup()))
	}
	srv := rocketmq.NewServer(rocketmq.DriverTypeV2, opts...)
	var subs []cluster.Subscription
	for i, cs := range rc.GetSubscriptions() {
		sub := cs.Subscription(rc.GetGroup())
		var err error
		switch cs.GetHandler() {
		case "order-created":
			err = rocketmq.RegisterSubscriber(srv, context.Background(), sub.Topic, sub.Group, events.OnOrderCreated, sub.Options()...)
		default:
			return nil, fmt.Errorf("config key server.rocketmq.subscriptions[%d].handler: unknown handler %q (known: order-created)", i, cs.GetHandler())
		}
		if err != nil {
			return nil, fmt.Errorf("subscribe %s to %s: %w", sub.Group, sub.Topic, err)
		}
		subs = append(subs, sub)
	}
	if err := ep.Consumer.RegisterLagMetrics(subs...); err != nil {
		return nil, err
	}
	return srv, nil
}
