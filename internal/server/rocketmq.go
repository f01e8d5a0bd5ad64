package server

import (
	"fmt"
	"strings"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware/logging"
	"github.com/go-kratos/kratos/v2/middleware/recovery"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/internal/service"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// NewRocketMQServer returns the RocketMQ transport server with every handler of the
// service subscribed: the subscriptions server.rocketmq lists and, for each handler none
// of them names, its default one (conf.RocketMQServer.HandlerSubscriptions). A
// subscription without a tag or SQL filter takes the events its handler decodes (the
// handler's event name is their tag). A handler name the service does not have stops
// the start, naming the key.
func NewRocketMQServer(c *conf.Server, d *conf.Data, ep *cluster.Endpoint, handlers service.Handlers, logger log.Logger) (*rocketmq.Server, error) {
	rc := c.GetRocketmq()
	opts, err := ep.Consumer.ServerOptions()
	if err != nil {
		return nil, fmt.Errorf("rocketmq server: %w", err)
	}
	opts = append(opts,
		rocketmq.WithMiddleware(recovery.Recovery(), logging.Server(logger)),
		rocketmq.WithEnableKeepAlive(rc.GetEnableKeepAlive()))
	srv := rocketmq.NewServer(ep.Consumer.Driver(), opts...)
	var subs []cluster.Subscription
	for i, cs := range rc.HandlerSubscriptions(d.GetRocketmq().GetProducer().GetTopic(), handlers.Names()) {
		h, ok := handlers[cs.GetHandler()]
		if !ok { // only a listed subscription can name an unknown handler
			return nil, fmt.Errorf("config key server.rocketmq.subscriptions[%d].handler: unknown handler %q (known: %s)",
				i, cs.GetHandler(), strings.Join(handlers.Names(), ", "))
		}
		sub := cs.Cluster()
		if sub.TagExpression == "" && sub.SQLExpression == "" {
			sub.TagExpression = h.Event
		}
		if err := h.Register(srv, sub.Topic, sub.Group, sub.Options()...); err != nil {
			return nil, fmt.Errorf("subscribe handler %s (group %s) to %s: %w", cs.GetHandler(), sub.Group, sub.Topic, err)
		}
		subs = append(subs, sub)
	}
	if err := ep.Consumer.RegisterLagMetrics(subs...); err != nil {
		return nil, err
	}
	return srv, nil
}
