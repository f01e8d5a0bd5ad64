// Package rocketmq is the broker driver for Apache RocketMQ on the official
// github.com/apache/rocketmq-client-go/v2 client (DriverTypeV2, Broker), and for the
// HTTP API of Aliyun's Message Queue for Apache RocketMQ on a client of its own
// (DriverTypeAliyun, AliyunBroker: see aliyun_broker.go and aliyun_consumer.go for
// what differs). What follows is about the v2 driver.
//
//	b, err := rocketmq.NewBroker(rocketmq.DriverTypeV2,
//		rocketmq.WithNameServer([]string{"127.0.0.1:9876"}),
//		rocketmq.WithGroupName("order-service"))   // producer group and default consumer group
//	if err != nil { ... }                          // unknown driver or bad option
//	if err := b.Connect(); err != nil { ... }      // starts the one producer
//	defer b.Disconnect()
//	err = b.Publish(ctx, "orders", ev, rocketmq.WithTag("created"), rocketmq.WithKeys([]string{id}))
//	sub, err := broker.Subscribe(b, "orders", handle, broker.WithQueueName("billing"),
//		rocketmq.WithMaxReconsumeTimes(5))
//
// # Structure
//
// One Broker owns one client instance (a unique instance name unless WithInstanceName
// sets one): one producer, started by Connect, sends everything; a second, transactional
// producer is started on the first transactional publish (or on Connect when a
// TransactionChecker is configured), because the client routes check-backs only to the
// producer that created its client instance. Consumers are push consumers, one per
// consumer group; every topic subscribed in a group is a subscription of that consumer,
// so the registry is keyed by (group, topic). RocketMQ requires all members of a group to
// subscribe the same topics, so adding a topic to a running group restarts that group's
// consumer (messages in flight at that moment are delivered again).
//
// # Delivery semantics
//
// A handler that returns nil acknowledges its message. An error or a panic returns
// ConsumeRetryLater (orderly: suspends the queue), so the broker redelivers through
// %RETRY%<group> and, after MaxReconsumeTimes, moves the message to %DLQ%<group>. A body
// the codec cannot decode is sent to the DLQ at once (delay level -1) with an error log
// naming topic, message id and cause. Broadcast subscriptions retry a failed handler in
// process (the broker has no retry for them) and log the message as dropped at the end.
//
// Drain (broker.Drainer) pauses fetching, parks deliveries that have not started, and
// waits for running handlers; Disconnect then shuts the consumers down (parked messages
// stay unacknowledged and come again) and the producers.
//
// # Client quirks handled here
//
//   - rlog is one unsynchronised global: see logger.go.
//   - The client's TLS (WithTls) is one switch for the whole process and dials with
//     InsecureSkipVerify, without a client certificate. Init therefore accepts a
//     tls.Config only when it says InsecureSkipVerify itself and has no client
//     certificate (ErrTLSUnsupported otherwise: never silently weakened), and Connect
//     refuses to mix TLS and plain drivers in one process (ErrTLSMixed).
//   - Consumed topics carry the namespace ("ns%topic") and retries the retry topic;
//     handlers see the plain topic.
package rocketmq
