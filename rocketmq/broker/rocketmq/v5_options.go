package rocketmq

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// Defaults of the v5 driver's consumers.
const (
	// DefaultV5Receivers is the number of ReceiveMessage calls a subscription keeps in
	// flight (WithReceivers).
	DefaultV5Receivers = 2
	// maxV5Receivers bounds WithReceivers.
	maxV5Receivers = 64
)

// WithReceivers sets how many ReceiveMessage calls each subscription of the v5 driver
// keeps in flight (default 2; at most 64). A group holds at most its handlers
// (WithConcurrency) plus one batch (the server's, 32 on the proxy) per receiver of
// messages received and not yet settled; a receive asks for as many as that leaves
// room for. Ignored by the v2 driver, whose client pulls on its own schedule.
func WithReceivers(n int) broker.Option {
	return driverOption(func(s *settings) { s.receivers = n })
}

// WithLongPollingTimeout sets how long a receive of the v5 driver waits at the server
// for messages when none are there (default: what the server's settings say, 20 s on
// the proxy; the proxy clamps it to 5..20 s). Ignored by the v2 driver.
func WithLongPollingTimeout(d time.Duration) broker.Option {
	return driverOption(func(s *settings) { s.longPolling = d })
}

// WithMessageGroup puts the message in a RocketMQ 5 message group: consumers of a FIFO
// group get the messages of one group one at a time, in publish order. The same field
// as WithShardingKey (with the v2 driver it picks the queue); the topic must accept
// FIFO messages (message.type FIFO or MIXED).
func WithMessageGroup(group string) broker.PublishOption {
	return func(o *broker.PublishOptions) { o.ShardingKey = group }
}

// WithDeliveryTimestamp delivers the message at t (a RocketMQ 5 timed message; the
// topic must accept DELAY messages; at most 24 h ahead on the proxy). The v2 driver
// refuses it: the remoting client has delay levels only.
func WithDeliveryTimestamp(t time.Time) broker.PublishOption {
	return broker.WithDeliveryTime(t)
}

// WithInvisibleDuration makes the v5 driver receive messages invisible for d: a message
// whose handler has not finished d after it was received is delivered again (to any
// consumer of the group). It is the subscription's ConsumeTimeout (WithConsumeTimeout
// sets the same field); the proxy accepts 10 s .. 12 h. Without it, the v5 driver
// receives with auto-renewal: messages stay invisible while this process is alive and
// come back at once when it says goodbye or after the server's client expiry when it
// dies.
func WithInvisibleDuration(d time.Duration) broker.SubscribeOption {
	return WithConsumeTimeout(d)
}
