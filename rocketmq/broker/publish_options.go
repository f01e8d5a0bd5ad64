package broker

import (
	"context"
	"time"
)

// PublishOptions describe how one message is sent. Drivers read the fields they support
// and reject the ones they do not.
type PublishOptions struct {
	// Headers become message properties (user properties, not the driver's own).
	Headers Headers
	// Tags is the RocketMQ tag: a label consumers filter on.
	Tags string
	// Keys index the message for lookup (RocketMQ KEYS).
	Keys []string
	// ShardingKey routes every message with the same key to the same queue, so an
	// orderly subscriber sees them in publish order.
	ShardingKey string
	// DelayLevel delays delivery by the broker's delay level (RocketMQ 1=1s, 2=5s, 3=10s, ...).
	DelayLevel int
	// DeliveryTime, when not zero, delivers the message at that time (RocketMQ 5's
	// delivery timestamp); drivers without timed delivery refuse it.
	DeliveryTime time.Time
	// Async sends without waiting; the callback gets the result (on a client goroutine).
	Async func(ctx context.Context, res *PublishResult, err error)
	// Oneway sends without waiting for, or learning, the broker's answer.
	Oneway bool
	// Transaction sends a half message, runs the function, and commits or rolls back by
	// its answer (see TransactionState); the broker asks the broker's TransactionChecker
	// later when the answer was unknown.
	Transaction TransactionExecutor
	// Result, when not nil, receives the result of a synchronous send.
	Result *PublishResult
}

// PublishOption changes PublishOptions.
type PublishOption func(*PublishOptions)

// Apply runs opts on o in order.
func (o *PublishOptions) Apply(opts ...PublishOption) {
	for _, opt := range opts {
		opt(o)
	}
}

// NewPublishOptions returns PublishOptions with opts applied.
func NewPublishOptions(opts ...PublishOption) PublishOptions {
	var o PublishOptions
	o.Apply(opts...)
	return o
}

// WithHeaders adds user properties to the published message.
func WithHeaders(h Headers) PublishOption {
	return func(o *PublishOptions) {
		if o.Headers == nil {
			o.Headers = make(Headers, len(h))
		}
		for k, v := range h {
			o.Headers[k] = v
		}
	}
}

// WithDeliveryTime delivers the message at t (RocketMQ 5 timed messages); drivers
// without timed delivery make Publish fail rather than deliver it at once.
func WithDeliveryTime(t time.Time) PublishOption {
	return func(o *PublishOptions) { o.DeliveryTime = t }
}

// WithPublishResult makes a synchronous Publish fill dst with the broker's answer.
func WithPublishResult(dst *PublishResult) PublishOption {
	return func(o *PublishOptions) { o.Result = dst }
}

// TransactionState is the outcome of a local transaction.
type TransactionState int

const (
	// TransactionUnknown leaves the half message pending; the broker asks the checker later.
	TransactionUnknown TransactionState = iota
	// TransactionCommit makes the message visible to consumers.
	TransactionCommit
	// TransactionRollback discards the message.
	TransactionRollback
)

// String names the state.
func (s TransactionState) String() string {
	switch s {
	case TransactionCommit:
		return "commit"
	case TransactionRollback:
		return "rollback"
	default:
		return "unknown"
	}
}

// TransactionExecutor runs the local transaction that belongs to a half message. msg
// carries the headers and raw body that were sent.
type TransactionExecutor func(ctx context.Context, msg *Message) TransactionState

// TransactionChecker answers the broker's check-back for a half message whose outcome
// was unknown (the process died, or the executor returned TransactionUnknown).
type TransactionChecker func(ctx context.Context, msg *Message) TransactionState

// RequestOptions describe a request-reply exchange.
type RequestOptions struct {
	// Timeout bounds the wait for the reply (default 3s; ctx's deadline also applies).
	Timeout time.Duration
	// Binder decodes the reply body; nil returns the raw []byte.
	Binder Binder
	// Publish are options for the request message (tags, keys, headers).
	Publish []PublishOption
}

// RequestOption changes RequestOptions.
type RequestOption func(*RequestOptions)

// Apply runs opts on o in order.
func (o *RequestOptions) Apply(opts ...RequestOption) {
	for _, opt := range opts {
		opt(o)
	}
}

// NewRequestOptions returns RequestOptions (3s timeout) with opts applied.
func NewRequestOptions(opts ...RequestOption) RequestOptions {
	o := RequestOptions{Timeout: 3 * time.Second}
	o.Apply(opts...)
	return o
}

// WithRequestTimeout bounds the wait for the reply.
func WithRequestTimeout(d time.Duration) RequestOption {
	return func(o *RequestOptions) { o.Timeout = d }
}

// WithReplyBinder decodes the reply into the binder's value.
func WithReplyBinder(b Binder) RequestOption {
	return func(o *RequestOptions) { o.Binder = b }
}

// WithRequestPublishOptions applies publish options (tags, keys, headers) to the request.
func WithRequestPublishOptions(opts ...PublishOption) RequestOption {
	return func(o *RequestOptions) { o.Publish = append(o.Publish, opts...) }
}
