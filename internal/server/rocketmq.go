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

// NewRocketMQServer returns the RocketMQ transport server of server.rocketmq with every
// subscription registered on its handler. A subscription without a tag or SQL filter
// takes the events its handler decodes (the handler's event name is their tag). A
// handler name the service does not have stops the start, naming the key; a handler no
// subscription names is logged as a warning.
func NewRocketMQServer(c *conf.Server, ep *cluster.Endpoint, handlers service.Handlers, logger log.Logger) (*rocketmq.Server, error) {
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
	srv := rocketmq.NewServer(ep.Consumer.Driver(), opts...)
	var subs []cluster.Subscription
	used := map[string]bool{}
	for i, cs := range rc.GetSubscriptions() {
		h, ok := handlers[cs.GetHandler()]
		if !ok {
			return nil, fmt.Errorf("config key server.rocketmq.subscriptions[%d].handler: unknown handler %q (known: %s)",
				i, cs.GetHandler(), strings.Join(handlers.Names(), ", "))
		}
		used[cs.GetHandler()] = true
		sub := cs.Subscription(rc.GetGroup())
		if sub.TagExpression == "" && sub.SQLExpression == "" {
			sub.TagExpression = h.Event
		}
		if err := h.Register(srv, sub.Topic, sub.Group, sub.Options()...); err != nil {
			return nil, fmt.Errorf("config key server.rocketmq.subscriptions[%d]: subscribe %s to %s: %w", i, sub.Group, sub.Topic, err)
		}
		subs = append(subs, sub)
	}
	for _, name := range handlers.Names() {
		if !used[name] {
			log.NewHelper(logger).Warnw("msg", "event handler has no subscription in server.rocketmq.subscriptions: its events are not consumed",
				"handler", name, "event", handlers[name].Event)
		}
	}
	if err := ep.Consumer.RegisterLagMetrics(subs...); err != nil {
		return nil, err
	}
	return srv, nil
}
