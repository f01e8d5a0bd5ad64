package server

import (
	"context"
	"fmt"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware/logging"
	"github.com/go-kratos/kratos/v2/middleware/recovery"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/internal/mq"
	"github.com/kratos-rocketmq/layout/internal/service"
	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/telemetry"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// ensureTopicsTimeout bounds the creation of missing topics at start.
const ensureTopicsTimeout = 30 * time.Second

// NewRocketMQServer returns the RocketMQ transport server of server.rocketmq with every
// configured subscription registered on its handler.
func NewRocketMQServer(ep *mq.Endpoint, events *service.OrderEvents, tp *telemetry.Provider, logger log.Logger) (*rocketmq.Server, error) {
	c := ep.Consumer
	// Push consumers refuse topics without a route: create missing ones first.
	ctx, cancel := context.WithTimeout(context.Background(), ensureTopicsTimeout)
	defer cancel()
	if err := ep.EnsureTopics(ctx); err != nil {
		return nil, err
	}
	opts := []rocketmq.ServerOption{
		rocketmq.WithNameServer(c.GetNameServers()),
		rocketmq.WithLogger(logger),
		rocketmq.WithMiddleware(recovery.Recovery(), logging.Server(logger)),
		rocketmq.WithEnableKeepAlive(c.GetEnableKeepAlive()),
		rocketmq.WithMeterProvider(tp),
	}
	if err := mq.RegisterLagMetrics(tp, ep); err != nil {
		return nil, err
	}
	if c.GetNameServerDomain() != "" {
		opts = append(opts, rocketmq.WithNameServerDomain(c.GetNameServerDomain()))
	}
	if c.GetNamespace() != "" {
		opts = append(opts, rocketmq.WithNamespace(c.GetNamespace()))
	}
	if c.GetGroup() != "" {
		opts = append(opts, rocketmq.WithGroupName(c.GetGroup()))
	}
	if c.GetInstanceName() != "" {
		opts = append(opts, rocketmq.WithInstanceName(c.GetInstanceName()))
	}
	if cr := c.GetCredentials(); cr.GetAccessKey() != "" {
		opts = append(opts, rocketmq.WithCredentials(cr.GetAccessKey(), cr.GetSecretKey(), cr.GetSecurityToken()))
	}
	if c.GetRetryCount() > 0 {
		opts = append(opts, rocketmq.WithRetryCount(int(c.GetRetryCount())))
	}
	if c.GetCodec() != "" {
		opts = append(opts, rocketmq.WithCodec(c.GetCodec()))
	}
	if c.GetTls().GetEnabled() {
		cfg, err := mq.TLSConfig(c.GetTls())
		if err != nil {
			return nil, err
		}
		opts = append(opts, rocketmq.WithTLSConfig(cfg))
	}
	if c.GetTrace().GetEnabled() {
		opts = append(opts, rocketmq.WithTracerProvider(tp.Tracer, ""))
	}
	if c.GetTrace().GetMessageTrace() {
		opts = append(opts, rocketmq.WithEnableTrace())
	}
	srv := rocketmq.NewServer(rocketmq.DriverTypeV2, opts...)

	for i, sub := range c.GetSubscriptions() {
		group := sub.GetGroup()
		if group == "" {
			group = c.GetGroup()
		}
		subOpts, err := subscribeOptions(sub)
		if err != nil {
			return nil, fmt.Errorf("config key server.rocketmq.subscriptions[%d]: %w", i, err)
		}
		switch sub.GetHandler() {
		case "order-created":
			err = rocketmq.RegisterSubscriber(srv, context.Background(), sub.GetTopic(), group, events.OnOrderCreated, subOpts...)
		default:
			return nil, fmt.Errorf("config key server.rocketmq.subscriptions[%d].handler: unknown handler %q (known: order-created)", i, sub.GetHandler())
		}
		if err != nil {
			return nil, fmt.Errorf("subscribe %s to %s: %w", group, sub.GetTopic(), err)
		}
	}
	return srv, nil
}

// subscribeOptions maps one configured subscription to broker options.
func subscribeOptions(s *conf.RocketMQ_Subscription) ([]broker.SubscribeOption, error) {
	var opts []broker.SubscribeOption
	switch {
	case s.GetSqlExpression() != "":
		opts = append(opts, rmq.WithSQLSelector(s.GetSqlExpression()))
	case s.GetTagExpression() != "":
		opts = append(opts, rmq.WithTagSelector(s.GetTagExpression()))
	}
	if s.GetConsumeMode() == conf.ConsumeMode_BROADCASTING {
		opts = append(opts, rmq.WithConsumerModel(rmq.MessageModelBroadCasting))
	}
	if s.GetOrderly() {
		opts = append(opts, rmq.WithOrderly())
	}
	if n := s.GetMaxReconsumeTimes(); n > 0 {
		opts = append(opts, rmq.WithMaxReconsumeTimes(int(n)))
	}
	if n := s.GetConcurrency(); n > 0 {
		opts = append(opts, rmq.WithConcurrency(int(n)))
	}
	switch s.GetConsumeFrom() {
	case conf.ConsumeFrom_FIRST_OFFSET:
		opts = append(opts, rmq.WithConsumeFromFirst())
	case conf.ConsumeFrom_LAST_OFFSET:
		opts = append(opts, rmq.WithConsumeFromLast())
	case conf.ConsumeFrom_TIMESTAMP:
		ts, err := time.Parse(time.RFC3339, s.GetConsumeTimestamp())
		if err != nil {
			return nil, fmt.Errorf("consume_timestamp: %w", err)
		}
		opts = append(opts, rmq.WithConsumeFromTimestamp(ts))
	}
	return opts, nil
}
