// Package rocketmq is a Kratos transport.Server that consumes RocketMQ topics, with the
// public API of tx7do/kratos-transport's transport/rocketmq (v1.2.18) and the delivery
// guarantees that package lacks.
//
//	srv := rocketmq.NewServer(rocketmq.DriverTypeV2,
//		rocketmq.WithNameServer([]string{"127.0.0.1:9876"}),
//		rocketmq.WithCodec("json"),
//		rocketmq.WithMiddleware(recovery.Recovery(), tracing.Server(), logging.Server(logger)),
//	)
//	err := rocketmq.RegisterSubscriber(srv, ctx, "orders", "billing",
//		func(ctx context.Context, topic string, h broker.Headers, ev *OrderCreated) error {
//			tr, _ := transport.FromServerContext(ctx) // *rocketmq.Transport, Operation() == "orders"
//			return bill(ctx, ev)                      // an error: redelivered, then DLQ
//		})
//	app := kratos.New(kratos.Server(httpSrv, srv))
//
// Subscriptions registered before Start are made by Start, which returns every error;
// later ones are made at once. Each message gets a Transport in its context (operation =
// topic, request headers = message properties plus topic, tags, keys, message id and
// reconsume times) and runs through the middleware before the handler. Stop stops
// fetching, waits for running handlers until its context is done, and then disconnects.
// The Server embeds the broker, so srv.Publish sends with the same connection.
package rocketmq
