package rocketmq

import (
	"context"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// DefaultNameServer is dialled when no name server is configured.
const DefaultNameServer = "127.0.0.1:9876"

// settings are the driver-specific broker options, kept in broker.Options.Driver.
type settings struct {
	nameServerDomain string
	accessKey        string
	secretKey        string
	securityToken    string
	namespace        string
	instanceName     string
	groupName        string
	retryCount       int
	enableTrace      bool
	sendTimeout      time.Duration
	txChecker        broker.TransactionChecker
	txTopics         []string
	receivers        int           // v5: concurrent receives per subscription
	longPolling      time.Duration // v5: long polling of a receive
}

func driverSettings(o *broker.Options) *settings {
	s, ok := o.Driver.(*settings)
	if !ok {
		s = &settings{}
		o.Driver = s
	}
	return s
}

func driverOption(f func(*settings)) broker.Option {
	return func(o *broker.Options) { f(driverSettings(o)) }
}

// WithNameServer sets the name server addresses ("host:port"); for DriverTypeV5 they
// are the RocketMQ 5 proxies' gRPC endpoints (port 8081 by default), not name servers.
func WithNameServer(addrs []string) broker.Option {
	return broker.WithAddress(addrs...)
}

// WithNameServerDomain resolves name servers over HTTP from this URL instead of a fixed list.
func WithNameServerDomain(url string) broker.Option {
	return driverOption(func(s *settings) { s.nameServerDomain = url })
}

// WithCredentials sets the ACL credentials (securityToken may be empty).
func WithCredentials(accessKey, secretKey, securityToken string) broker.Option {
	return driverOption(func(s *settings) {
		s.accessKey, s.secretKey, s.securityToken = accessKey, secretKey, securityToken
	})
}

// WithNamespace prefixes topics and groups with "ns%" on the wire; handlers see plain names.
func WithNamespace(ns string) broker.Option {
	return driverOption(func(s *settings) { s.namespace = ns })
}

// WithInstanceName sets the client instance name. Brokers with the same instance name
// share one client connection (the client caches instances process-wide); by default
// each Broker gets a unique one.
func WithInstanceName(name string) broker.Option {
	return driverOption(func(s *settings) { s.instanceName = name })
}

// WithGroupName sets the producer group, which is also the consumer group of
// subscriptions that name none.
func WithGroupName(name string) broker.Option {
	return driverOption(func(s *settings) { s.groupName = name })
}

// WithRetryCount sets how often the client retries a failed send (client default 2).
func WithRetryCount(n int) broker.Option {
	return driverOption(func(s *settings) { s.retryCount = n })
}

// WithEnableTrace turns on RocketMQ's own message trace (the broker's trace topic);
// independent of OpenTelemetry tracing.
func WithEnableTrace() broker.Option {
	return driverOption(func(s *settings) { s.enableTrace = true })
}

// WithSendTimeout bounds one send attempt when ctx has no earlier deadline (client default 3s).
func WithSendTimeout(d time.Duration) broker.Option {
	return driverOption(func(s *settings) { s.sendTimeout = d })
}

// WithTransactionChecker answers the broker's check-back for half messages whose local
// transaction outcome it never learnt (the executor returned TransactionUnknown, or the
// process died before committing). With a checker, Connect starts the transactional
// producer at once, and the plain producer uses the group name plus "-nontx": the broker
// sends check-backs to any live producer of the group, and rocketmq-client-go's plain
// producer would swallow them (it never reads its check-back channel).
func WithTransactionChecker(c broker.TransactionChecker) broker.Option {
	return driverOption(func(s *settings) { s.txChecker = c })
}

// WithTransactionTopics names the topics this broker publishes transactional messages to.
// After starting the transactional producer, Connect sends one half message to each and
// rolls it back at once: rocketmq-client-go heartbeats only to brokers it learnt from a
// route, so without this a restarted process could not answer the check-backs of half
// messages its predecessor left until it had published something itself. A failed probe
// is logged, not returned.
func WithTransactionTopics(topics ...string) broker.Option {
	return driverOption(func(s *settings) { s.txTopics = append(s.txTopics, topics...) })
}

// WithLoggerLevel sets the lowest level of the client library's logs to pass on.
func WithLoggerLevel(l log.Level) broker.Option {
	return broker.WithClientLogLevel(l)
}

// WithTag sets the message tag (consumers filter on it).
func WithTag(tag string) broker.PublishOption {
	return func(o *broker.PublishOptions) { o.Tags = tag }
}

// WithKeys sets the message keys (indexed by the broker for lookup).
func WithKeys(keys []string) broker.PublishOption {
	return func(o *broker.PublishOptions) { o.Keys = keys }
}

// WithShardingKey sends every message with the same key to the same queue, so an
// orderly subscriber receives them in publish order.
func WithShardingKey(key string) broker.PublishOption {
	return func(o *broker.PublishOptions) { o.ShardingKey = key }
}

// WithDelayTimeLevel delays delivery by a broker delay level (1=1s 2=5s 3=10s 4=30s 5=1m ...).
// Transactional messages and batches cannot be delayed: Publish refuses them.
func WithDelayTimeLevel(level int) broker.PublishOption {
	return func(o *broker.PublishOptions) { o.DelayLevel = level }
}

// WithProperties adds user properties to the message (handlers see them as headers).
func WithProperties(p map[string]string) broker.PublishOption {
	return broker.WithHeaders(p)
}

// WithAsync sends without waiting; cb receives the result on a client goroutine.
func WithAsync(cb func(ctx context.Context, res *broker.PublishResult, err error)) broker.PublishOption {
	return func(o *broker.PublishOptions) { o.Async = cb }
}

// WithOneway sends without waiting for the broker's answer (no result, no error from the broker).
func WithOneway() broker.PublishOption {
	return func(o *broker.PublishOptions) { o.Oneway = true }
}

// WithTransaction publishes a transactional (half) message and runs exec as its local
// transaction: commit makes it visible, rollback discards it, unknown leaves the broker
// to ask the TransactionChecker later.
func WithTransaction(exec broker.TransactionExecutor) broker.PublishOption {
	return func(o *broker.PublishOptions) { o.Transaction = exec }
}

// MessageModel is the consumption model of a subscription.
type MessageModel string

const (
	// MessageModelClustering shares the messages of a topic among the group's consumers.
	MessageModelClustering MessageModel = "Clustering"
	// MessageModelBroadCasting delivers every message to every consumer of the group.
	MessageModelBroadCasting MessageModel = "BroadCasting"
)

// WithConsumerModel selects clustering (default) or broadcasting.
func WithConsumerModel(m MessageModel) broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.Broadcast = m == MessageModelBroadCasting }
}

// WithTagSelector filters on tags: "*", "a", "a || b".
func WithTagSelector(expr string) broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.FilterType, o.Filter = broker.FilterTag, expr }
}

// WithSQLSelector filters with a SQL92 expression over properties (broker needs enablePropertyFilter).
func WithSQLSelector(expr string) broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.FilterType, o.Filter = broker.FilterSQL92, expr }
}

// WithOrderly delivers each queue's messages one at a time in queue order.
func WithOrderly() broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.Orderly = true }
}

// WithConcurrency sets how many handlers of the group run at once (default 20).
func WithConcurrency(n int) broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.Concurrency = n }
}

// WithMaxReconsumeTimes sets the redeliveries before the dead-letter queue (default 16).
func WithMaxReconsumeTimes(n int) broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.MaxReconsumeTimes = n }
}

// WithRetryDelayLevel sets the delay level of every redelivery (default: the broker's
// growing back-off, 10s, 30s, 1m, ...). Clustering subscriptions only: orderly and
// broadcast ones retry in the process (WithSuspendInterval), and Subscribe refuses it.
func WithRetryDelayLevel(level int) broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.RetryDelayLevel = level }
}

// WithSuspendInterval sets the pause of an orderly queue, or between the in-process
// retries of a broadcast message, after a failure (default 1s). Subscribe refuses it
// on a clustering subscription, which the broker redelivers (WithRetryDelayLevel).
func WithSuspendInterval(d time.Duration) broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.SuspendInterval = d }
}

// WithConsumeTimeout sets how long a handler may run before the client hands its
// message back to the broker for redelivery (default 15 minutes; checked every d, so a
// message comes back between d and 2d after its handler started). The late handler is
// not interrupted. Per group; Subscribe refuses it on an orderly subscription, for
// which the client has no timeout.
func WithConsumeTimeout(d time.Duration) broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.ConsumeTimeout = d }
}

// WithConsumeFromFirst makes a new group start at the beginning of each queue.
func WithConsumeFromFirst() broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.ConsumeFrom = broker.ConsumeFromFirst }
}

// WithConsumeFromLast makes a new group start at the end of each queue (default).
func WithConsumeFromLast() broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) { o.ConsumeFrom = broker.ConsumeFromLast }
}

// WithConsumeFromTimestamp makes a new group start at the first message stored at or after t.
func WithConsumeFromTimestamp(t time.Time) broker.SubscribeOption {
	return func(o *broker.SubscribeOptions) {
		o.ConsumeFrom, o.ConsumeTimestamp = broker.ConsumeFromTimestamp, t
	}
}
