// Package broker is a neutral messaging API: publish a value to a topic, subscribe a
// handler to a topic, and let a driver (broker/rocketmq) map that onto a real client.
// Its shape is the one users know from tx7do/kratos-transport's broker package.
//
// Publish with a codec-encoded body and driver options:
//
//	b, err := rocketmq.NewBroker(rocketmq.DriverTypeV2, rocketmq.WithNameServer([]string{addr}))
//	if err != nil { ... }
//	if err := b.Init(); err != nil { ... }
//	if err := b.Connect(); err != nil { ... }        // starts the one producer
//	defer b.Disconnect()
//	err = b.Publish(ctx, "orders", &OrderCreated{ID: 1}, rocketmq.WithTag("created"))
//
// Subscribe a typed handler; returning an error hands the message back for redelivery:
//
//	_, err = broker.Subscribe(b, "orders", func(ctx context.Context, topic string, h broker.Headers, ev *OrderCreated) error {
//		return confirm(ctx, ev)
//	}, broker.WithQueueName("order-service"))
//
// Semantics every driver keeps: a handler that returns nil acknowledges the message; an
// error or a panic hands it back for retry and, after the subscription's maximum
// reconsume times, to the dead-letter queue; a body the codec cannot decode goes to the
// dead-letter queue at once. Brokers that implement [Drainer] let a server stop fetching
// and wait for in-flight handlers before Disconnect.
package broker
