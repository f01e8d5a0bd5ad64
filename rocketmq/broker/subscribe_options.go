package broker

import (
	"context"
	"time"
)

// FilterType says how SubscribeOptions.Filter is read.
type FilterType int

const (
	// FilterTag matches tags: "*", "a", "a || b".
	FilterTag FilterType = iota
	// FilterSQL92 is a SQL92 expression over message properties (the broker must enable it).
	FilterSQL92
)

// ConsumeFrom says where a new consumer group starts reading. RocketMQ 4.x brokers (and
// the embedded one) answer a new group's offset query with 0 while a queue's first
// message is still in memory, so on a young queue every setting starts at the
// beginning; the setting decides only once old messages have been swapped out.
type ConsumeFrom int

const (
	// ConsumeFromLast starts at the end of each queue (RocketMQ's default).
	ConsumeFromLast ConsumeFrom = iota
	// ConsumeFromFirst starts at the beginning of each queue.
	ConsumeFromFirst
	// ConsumeFromTimestamp starts at SubscribeOptions.ConsumeTimestamp.
	ConsumeFromTimestamp
)

// SubscribeOptions describe one subscription.
type SubscribeOptions struct {
	// AutoAck acknowledges a message when its handler returns nil (default true).
	AutoAck bool
	// Queue is the consumer group.
	Queue string
	// Context is the parent of every handler context: its values reach handlers; its
	// cancellation does not (handlers are cancelled only by a forced stop).
	Context context.Context

	// FilterType and Filter select messages on the broker (default: all tags).
	FilterType FilterType
	Filter     string
	// Broadcast delivers every message to every consumer of the group instead of
	// sharing them; failed broadcast messages are not retried (RocketMQ semantics).
	Broadcast bool
	// Orderly delivers the messages of one queue one at a time, in order; a failure
	// suspends the queue and retries the same message.
	Orderly bool
	// Concurrency is the number of handlers running at once (default 20).
	Concurrency int
	// MaxReconsumeTimes is how often a failed message is redelivered before it goes to
	// the dead-letter queue (0: the driver's default, 16 for RocketMQ).
	MaxReconsumeTimes int
	// RetryDelayLevel is the delay level of a redelivery (0: the broker's back-off).
	RetryDelayLevel int
	// SuspendInterval is how long an orderly queue pauses after a failure (default 1s).
	SuspendInterval time.Duration
	// ConsumeTimeout is how long a handler may run before its message is handed back
	// for redelivery (0: the driver's default, 15 minutes for RocketMQ). The late
	// handler is not interrupted, so the message can be handled twice: handlers must be
	// idempotent. Orderly subscriptions ignore it.
	ConsumeTimeout time.Duration
	// ConsumeFrom and ConsumeTimestamp say where a new group starts.
	ConsumeFrom      ConsumeFrom
	ConsumeTimestamp time.Time
	// Middlewares wrap the handler, first one outermost.
	Middlewares []MiddlewareFunc
}

// SubscribeOption changes SubscribeOptions.
type SubscribeOption func(*SubscribeOptions)

// Apply runs opts on o in order.
func (o *SubscribeOptions) Apply(opts ...SubscribeOption) {
	for _, opt := range opts {
		opt(o)
	}
}

// NewSubscribeOptions returns the defaults (auto-ack, background context) with opts applied.
func NewSubscribeOptions(opts ...SubscribeOption) SubscribeOptions {
	o := SubscribeOptions{AutoAck: true, Context: context.Background()}
	o.Apply(opts...)
	return o
}

// DisableAutoAck makes handlers call Event.Ack; an unacknowledged message is redelivered.
func DisableAutoAck() SubscribeOption {
	return func(o *SubscribeOptions) { o.AutoAck = false }
}

// WithQueueName sets the consumer group.
func WithQueueName(name string) SubscribeOption {
	return func(o *SubscribeOptions) { o.Queue = name }
}

// WithSubscribeContext sets the parent of handler contexts (values only, see SubscribeOptions.Context).
func WithSubscribeContext(ctx context.Context) SubscribeOption {
	return func(o *SubscribeOptions) {
		if ctx != nil {
			o.Context = ctx
		}
	}
}

// WithSubscribeMiddleware wraps the handler with mws.
func WithSubscribeMiddleware(mws ...MiddlewareFunc) SubscribeOption {
	return func(o *SubscribeOptions) { o.Middlewares = append(o.Middlewares, mws...) }
}
