// Package rocketmq holds the broker drivers for Apache RocketMQ: DriverTypeV2 (Broker)
// on the official github.com/apache/rocketmq-client-go/v2 client (remoting protocol,
// RocketMQ 4.x and 5.x brokers); DriverTypeV5 (V5Broker), our own client of the
// RocketMQ 5 proxy's gRPC API (section "RocketMQ 5" below); and DriverTypeAliyun
// (AliyunBroker), a client of the HTTP API of Aliyun's Message Queue for Apache
// RocketMQ (see aliyun_broker.go and aliyun_consumer.go for what differs). What comes
// first is about the v2 driver.
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
//
// # RocketMQ 5 (DriverTypeV5, V5Broker)
//
//	b, err := rocketmq.NewBroker(rocketmq.DriverTypeV5,
//		rocketmq.WithNameServer([]string{"proxy:8081"})) // the proxy's gRPC endpoint, not a name server
//
// The client speaks the 5.x proxy's gRPC API (package protocol/v2) the way the official
// SDKs do (apache/rocketmq-clients): one client id for the producer and one per
// consumer group; each keeps a Telemetry stream open that carries its settings (sent on
// connect and whenever they change) and the server's answer, which the client applies
// (producer: send attempts, message type validation; consumer: FIFO, max delivery
// attempts, back-off, batch size, long polling); Heartbeat every 10 s;
// NotifyClientTermination on Disconnect. Several endpoints are balanced round-robin;
// every call goes through them (RocketMQ 5 proxies are stateless and routes name the
// proxies), so the endpoints in routes and assignments are not dialled separately.
// Credentials sign every call with the v5 signature (HMAC-SHA1 of x-mq-date-time);
// WithNamespace sets the resources' namespace; TLS verifies the proxy's certificate
// with the given tls.Config (system roots with broker.WithEnableSecure alone).
//
// Publishing: the topic's route is queried on its first use (RocketMQ 5 proxies do not
// create topics: TOPIC_NOT_FOUND); tags, keys and properties map one to one;
// WithShardingKey (alias WithMessageGroup) is the message group of a FIFO message,
// WithDelayTimeLevel (RocketMQ's level durations) and broker.WithDeliveryTime the
// delivery timestamp of a DELAY message, WithTransaction a TRANSACTION message. A
// message has one type, and the topic must accept it (its message.type attribute; the
// driver checks the route first when the server validates types). Async and oneway
// sends wait for the answer on a goroutine of their own. Transactions: the local
// executor runs after the half message is stored, commit and rollback are
// EndTransaction; the server's RecoverOrphanedTransactionCommand (on the producer's
// stream) goes to the TransactionChecker, whose answer is an EndTransaction.
//
// Subscribing is push-style delivery over ReceiveMessage and AckMessage: each
// subscription keeps WithReceivers long-polling receives in flight, handlers run on up
// to WithConcurrency goroutines per group, messages are received invisible for the
// subscription's ConsumeTimeout (WithInvisibleDuration) or auto-renewed while the
// process lives. Outcomes (v5_delivery.go): success is an ack (batched); a failure is
// ChangeInvisibleDuration to the back-off (WithRetryDelayLevel, else the server's retry
// policy), so the server delivers the message again with the attempt + 1; the last
// attempt (the server's max attempts, lowered by WithMaxReconsumeTimes), an error
// wrapping broker.ErrDeadLetter and an undecodable body are forwarded to %DLQ%<group>
// with ForwardMessageToDeadLetterQueue at once. That is the proxy's own RPC, and what
// the official clients do for FIFO messages; the server's rule (a message whose last
// delivery expires goes to the DLQ) remains the backstop. FIFO groups (the server says
// so: a subscription group with consumeMessageOrderly) may receive several messages of
// one message group in a batch (the broker's orderly pop hands out a run of a queue's
// messages and holds the rest until all are settled); the driver handles each message
// group's messages one at a time, in order (different groups concurrently), and
// retries a failed one in place after the back-off, so the group keeps its order. Drain stops receiving, gives back what was received and not
// started (without counting an attempt), and waits for running handlers.
//
// What the gRPC API cannot do is refused with an error naming the option
// (ErrV5Unsupported): Request (request-reply), WithConsumerModel(BroadCasting),
// WithConsumeFromTimestamp, WithEnableTrace, WithNameServerDomain; WithOrderly on a
// group the server does not declare FIFO. A new group starts where the server says
// (the proxy: at the end of a queue, at its beginning while its first message is
// still in memory), whatever WithConsumeFromFirst/Last say.
package rocketmq
