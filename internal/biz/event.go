package biz

import (
	"context"
	"errors"
	"time"
)

// Event is a domain event: a fact that happened, published to other parts of the system.
type Event interface {
	// EventName is the stable name of the event type (also its RocketMQ tag).
	EventName() string
	// EventVersion is the schema version of the payload; consumers reject versions they do
	// not know.
	EventVersion() int
	// EventKey is the unique id of this event (consumers deduplicate on it).
	EventKey() string
	// AggregateID identifies the aggregate the event is about (the message's business key
	// and sharding key, so one order's events stay in order).
	AggregateID() string
}

// Event names (RocketMQ tags).
const (
	EventOrderCreated   = "OrderCreated"
	EventOrderConfirmed = "OrderConfirmed"
)

// OrderCreated is published when an order is stored.
type OrderCreated struct {
	// EventID is unique per event; consumers deduplicate on it.
	EventID    string    `json:"event_id"`
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	TotalCents int64     `json:"total_cents"`
	Items      int       `json:"items"`
	OccurredAt time.Time `json:"occurred_at"`
	Version    int       `json:"version"`
}

// EventName implements Event.
func (OrderCreated) EventName() string { return EventOrderCreated }

// EventVersion implements Event.
func (e OrderCreated) EventVersion() int { return e.Version }

// EventKey implements Event.
func (e OrderCreated) EventKey() string { return e.EventID }

// AggregateID implements Event.
func (e OrderCreated) AggregateID() string { return e.OrderID }

// OrderConfirmed is published when the OrderCreated consumer has confirmed an order.
type OrderConfirmed struct {
	EventID    string    `json:"event_id"`
	OrderID    string    `json:"order_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Version    int       `json:"version"`
}

// EventName implements Event.
func (OrderConfirmed) EventName() string { return EventOrderConfirmed }

// EventVersion implements Event.
func (e OrderConfirmed) EventVersion() int { return e.Version }

// EventKey implements Event.
func (e OrderConfirmed) EventKey() string { return e.EventID }

// AggregateID implements Event.
func (e OrderConfirmed) AggregateID() string { return e.OrderID }

// Current payload versions.
const (
	OrderCreatedVersion   = 1
	OrderConfirmedVersion = 1
)

// ErrAlreadyProcessed is returned by a local transaction that found its work already done
// (a redelivered event): the transaction changes nothing and publishes nothing.
var ErrAlreadyProcessed = errors.New("event already processed")

// EventPublisher publishes domain events.
type EventPublisher interface {
	// PublishInTx publishes e if and only if the local transaction tx commits: e is sent
	// as a transactional (half) message, then tx runs in a database transaction (the
	// repository methods it calls with its ctx join it) that also records e's id, and the
	// message is committed or rolled back by that transaction's result. If the process
	// dies in between, the broker asks back and the publisher answers from the recorded
	// ids, for every event type alike. tx's error is returned as is.
	PublishInTx(ctx context.Context, e Event, tx func(ctx context.Context) error) error
}
