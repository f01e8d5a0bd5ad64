package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// NewEventHandlers returns the service's event handlers by the name a subscription in
// configs/config.yaml gives (server.rocketmq.subscriptions[].handler). Adding a handler
// is one line here; its event type decides the payload and the default tag filter.
func NewEventHandlers(orders *biz.OrderUsecase) Handlers {
	return Handlers{
		"order-created":   On(orders.Confirm),
		"order-confirmed": On(orders.Notify),
	}
}

// Handlers are event handlers by name.
type Handlers map[string]Handler

// Names lists the handler names, sorted.
func (hs Handlers) Names() []string {
	names := make([]string, 0, len(hs))
	for n := range hs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Handler is the handler of one event type.
type Handler struct {
	// Event is the name of the event type the handler takes (biz.Event.EventName); the
	// publisher tags every event with its name, so it is also the tag a subscription
	// filters on unless it says otherwise.
	Event    string
	register func(srv *rocketmq.Server, topic, group string, opts ...broker.SubscribeOption) error
}

// Register subscribes the handler to topic as a consumer of group on srv.
func (h Handler) Register(srv *rocketmq.Server, topic, group string, opts ...broker.SubscribeOption) error {
	return h.register(srv, topic, group, opts...)
}

// On returns the handler of the events of type E that calls handle with each decoded
// event. A redelivered event must change nothing (the use cases deduplicate); an error
// hands the message back for redelivery, and an event handle finds unprocessable
// (biz.ErrUnprocessable) goes to the dead-letter queue at once.
func On[E biz.Event](handle func(ctx context.Context, ev *E) error) Handler {
	var zero E
	h := transportHandler(handle)
	return Handler{
		Event: zero.EventName(),
		register: func(srv *rocketmq.Server, topic, group string, opts ...broker.SubscribeOption) error {
			return rocketmq.RegisterSubscriber(srv, context.Background(), topic, group, h, opts...)
		},
	}
}

// transportHandler adapts handle to the transport's handler: an event handle finds
// unprocessable is a dead letter; any other error asks for redelivery.
func transportHandler[E any](handle func(ctx context.Context, ev *E) error) func(context.Context, string, broker.Headers, *E) error {
	return func(ctx context.Context, _ string, _ broker.Headers, ev *E) error {
		err := handle(ctx, ev)
		if errors.Is(err, biz.ErrUnprocessable) {
			return fmt.Errorf("%w: %w", broker.ErrDeadLetter, err)
		}
		return err
	}
}
