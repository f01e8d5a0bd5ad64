package broker

import (
	"context"
	"errors"
	"fmt"
)

// Broker is a connection to a message broker: one producer for every Publish and one
// consumer per subscription group. Connect must succeed before Publish, Subscribe and
// Request; Disconnect shuts everything down.
type Broker interface {
	// Name names the driver, e.g. "rocketmq-client-go/v2".
	Name() string
	// Options returns the options the broker was built and initialised with.
	Options() Options
	// Address is the first address the broker dials (for logs and endpoints).
	Address() string
	// Init applies more options; it fails on a configuration the driver cannot use.
	Init(...Option) error
	// Connect starts the producer; it is a no-op when already connected.
	Connect() error
	// Disconnect shuts down consumers and the producer without waiting for in-flight
	// handlers (see Drainer for a graceful stop).
	Disconnect() error
	// Publish encodes msg with the codec (raw []byte and string bodies are sent as they
	// are) and sends it to topic using ctx for the send.
	Publish(ctx context.Context, topic string, msg Any, opts ...PublishOption) error
	// Subscribe starts delivering messages of topic to handler; binder returns a fresh
	// value to decode each body into (nil: the handler gets the raw []byte body).
	Subscribe(topic string, handler Handler, binder Binder, opts ...SubscribeOption) (Subscriber, error)
	// Request publishes msg and waits for the reply (see Reply); the result is the reply
	// body decoded with the request's binder, or its raw []byte.
	Request(ctx context.Context, topic string, msg Any, opts ...RequestOption) (Any, error)
}

// Drainer is implemented by brokers that can stop gracefully: Drain stops fetching new
// messages and waits until every running handler has returned. When ctx is done first
// it cancels the handlers' contexts and returns ctx.Err(); messages whose handler had
// not finished are not acknowledged, so the broker delivers them again later.
// Call Disconnect after Drain.
type Drainer interface {
	Drain(ctx context.Context) error
}

// Replier answers a request message; drivers put one into a handler's context when the
// message being handled is a request (see Reply).
type Replier interface {
	Reply(ctx context.Context, msg Any, opts ...PublishOption) error
}

// ErrDeadLetter, wrapped into a handler's error (fmt.Errorf("order %s: %w", id,
// broker.ErrDeadLetter)), sends the message to the dead-letter queue at once instead of
// redelivering it: for messages no retry can fix, such as a payload version the handler
// does not know or a reference to something that does not exist.
var ErrDeadLetter = errors.New("broker: dead-letter this message")

// ErrNotRequest is returned by Reply when the message being handled expects no reply.
var ErrNotRequest = errors.New("broker: the message being handled is not a request")

type replierKey struct{}

// NewReplierContext returns a copy of ctx that carries r; drivers call it.
func NewReplierContext(ctx context.Context, r Replier) context.Context {
	return context.WithValue(ctx, replierKey{}, r)
}

// Reply sends msg as the reply to the request being handled in ctx (a handler's ctx).
func Reply(ctx context.Context, msg Any, opts ...PublishOption) error {
	r, ok := ctx.Value(replierKey{}).(Replier)
	if !ok {
		return ErrNotRequest
	}
	return r.Reply(ctx, msg, opts...)
}

// Subscribe subscribes a typed handler: each body is decoded into a new T and handed to
// handler with the topic and headers.
func Subscribe[T any](b Broker, topic string, handler func(context.Context, string, Headers, *T) error, opts ...SubscribeOption) (Subscriber, error) {
	return b.Subscribe(topic, TypedHandler(handler), NewBinder[T](), opts...)
}

// NewBinder returns a Binder that allocates a new T for every message.
func NewBinder[T any]() Binder {
	return func() Any { return new(T) }
}

// TypedHandler adapts a typed handler to a Handler; it fails (so the message is retried)
// when the event body is not a *T, which only happens when the binder does not match.
func TypedHandler[T any](handler func(context.Context, string, Headers, *T) error) Handler {
	return func(ctx context.Context, evt Event) error {
		m := evt.Message()
		body, ok := m.Body.(*T)
		if !ok {
			return fmt.Errorf("broker: body of %s is %T, want %T", evt.Topic(), m.Body, body)
		}
		return handler(ctx, evt.Topic(), m.Headers, body)
	}
}
