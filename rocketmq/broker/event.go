package broker

import "context"

// Event is one message handed to a Handler.
type Event interface {
	// Topic is the topic the message was published to (namespace and retry topics removed).
	Topic() string
	// Message is the delivered message with decoded body.
	Message() *Message
	// RawMessage is the driver's message (*primitive.MessageExt for RocketMQ).
	RawMessage() any
	// Ack acknowledges the message; needed only with DisableAutoAck, where a handler that
	// returns nil without calling Ack has the message delivered again.
	Ack() error
	// Error is the error the delivery failed with, if any.
	Error() error
}

// Handler handles one event; a non-nil error hands the message back for redelivery.
type Handler func(ctx context.Context, evt Event) error

// MiddlewareFunc wraps a Handler (logging, metrics, ...).
type MiddlewareFunc func(Handler) Handler

// Chain wraps h with mws so that mws[0] runs first.
func Chain(h Handler, mws ...MiddlewareFunc) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		if mws[i] != nil {
			h = mws[i](h)
		}
	}
	return h
}
