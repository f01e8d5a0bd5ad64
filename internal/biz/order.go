package biz

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/google/uuid"

	v1 "github.com/kratos-rocketmq/layout/api/order/v1"
)

// Status is where an order is in its life cycle.
type Status int

// Order statuses.
const (
	StatusPending   Status = 1 // stored, OrderCreated published, not yet processed
	StatusConfirmed Status = 2 // the OrderCreated consumer has processed it
)

// String returns the status name used by the API and the database.
func (s Status) String() string {
	switch s {
	case StatusPending:
		return "PENDING"
	case StatusConfirmed:
		return "CONFIRMED"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Limits enforced by the use case (the API validates the same bounds).
const (
	MaxItems      = 100
	MaxQuantity   = 10000
	MaxIDLength   = 64
	DefaultPage   = 20
	MaxPage       = 100
	maxTotalCents = 1 << 62
)

// Item is one line of an order.
type Item struct {
	SKU            string
	Quantity       int32
	UnitPriceCents int64
}

// Order is the aggregate.
type Order struct {
	ID         string
	CustomerID string
	Items      []Item
	TotalCents int64
	Status     Status
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// NotifiedAt is when the customer was told the order is confirmed (zero: not yet).
	NotifiedAt time.Time
}

// ErrNotFound is returned by OrderRepo when no order has the id.
var ErrNotFound = errors.New("order not found")

// ErrUnprocessable marks an event that can never be processed (unknown version, missing
// fields, an order that does not exist): redelivering it is pointless, so the subscriber
// sends it to the dead-letter queue at once.
var ErrUnprocessable = errors.New("unprocessable event")

// OrderRepo stores orders.
type OrderRepo interface {
	// Save inserts a new order.
	Save(ctx context.Context, o *Order) error
	// Confirm marks a PENDING order CONFIRMED at at and records dedupKey as processed, in
	// one database transaction (the one of ctx, when EventPublisher.PublishInTx runs it).
	// It returns ErrAlreadyProcessed when dedupKey was recorded before or the order is
	// confirmed already (nothing changes), ErrNotFound when there is no such order.
	Confirm(ctx context.Context, dedupKey, orderID string, at time.Time) error
	// MarkNotified records that the customer of an order was notified at at, and dedupKey
	// as processed, in one database transaction. It returns ErrAlreadyProcessed when
	// dedupKey was recorded before or the order was notified already, ErrNotFound when
	// there is no such order.
	MarkNotified(ctx context.Context, dedupKey, orderID string, at time.Time) error
	// Get returns the order with id, or ErrNotFound.
	Get(ctx context.Context, id string) (*Order, error)
	// List returns up to limit orders with an id lower than before ("" for the newest),
	// newest first.
	List(ctx context.Context, before string, limit int) ([]*Order, error)
}

// OrderUsecase holds the order use cases.
type OrderUsecase struct {
	repo   OrderRepo
	events EventPublisher
	log    *log.Helper
	now    func() time.Time
}

// NewOrderUsecase returns the order use cases on repo, publishing through events.
func NewOrderUsecase(repo OrderRepo, events EventPublisher, logger log.Logger) *OrderUsecase {
	return &OrderUsecase{repo: repo, events: events, log: log.NewHelper(log.With(logger, "module", "biz/order")), now: time.Now}
}

// Create validates a new order, stores it PENDING and publishes OrderCreated, atomically:
// the event is delivered if and only if the order row is committed.
func (uc *OrderUsecase) Create(ctx context.Context, customerID string, items []Item) (*Order, error) {
	o, err := uc.newOrder(customerID, items)
	if err != nil {
		return nil, err
	}
	eventID, err := uuid.NewV7()
	if err != nil {
		return nil, v1.ErrorUnavailable("generate event id: %v", err).WithCause(err)
	}
	ev := OrderCreated{
		EventID: eventID.String(), OrderID: o.ID, CustomerID: o.CustomerID, TotalCents: o.TotalCents,
		Items: len(o.Items), OccurredAt: o.CreatedAt, Version: OrderCreatedVersion,
	}
	if err := uc.events.PublishInTx(ctx, ev, func(ctx context.Context) error { return uc.repo.Save(ctx, o) }); err != nil {
		return nil, v1.ErrorUnavailable("create order: %v", err).WithCause(err)
	}
	uc.log.WithContext(ctx).Infow("msg", "order created", "order_id", o.ID, "event_id", ev.EventID, "total_cents", o.TotalCents)
	return o, nil
}

// Confirm handles OrderCreated: it marks the order CONFIRMED and publishes OrderConfirmed,
// at most once per event however often the event is delivered (dedup on the event id in
// the same database transaction as the status change).
func (uc *OrderUsecase) Confirm(ctx context.Context, ev *OrderCreated) error {
	if ev.Version != OrderCreatedVersion {
		return fmt.Errorf("%w: OrderCreated version %d (this service reads %d)", ErrUnprocessable, ev.Version, OrderCreatedVersion)
	}
	if ev.EventID == "" || ev.OrderID == "" {
		return fmt.Errorf("%w: OrderCreated without event_id or order_id", ErrUnprocessable)
	}
	eventID, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("generate event id: %w", err)
	}
	now := uc.now().UTC()
	confirmed := OrderConfirmed{EventID: eventID.String(), OrderID: ev.OrderID, OccurredAt: now, Version: OrderConfirmedVersion}
	err = uc.events.PublishInTx(ctx, confirmed, func(ctx context.Context) error {
		return uc.repo.Confirm(ctx, EventOrderCreated+":"+ev.EventID, ev.OrderID, now)
	})
	switch {
	case errors.Is(err, ErrAlreadyProcessed):
		uc.log.WithContext(ctx).Infow("msg", "duplicate OrderCreated ignored", "order_id", ev.OrderID, "event_id", ev.EventID)
		return nil
	case errors.Is(err, ErrNotFound):
		// The event is only committed with its row, so the row must exist: a missing row
		// means a database mix-up, which a retry will not fix; hand it to the DLQ.
		return fmt.Errorf("%w: order %s of event %s does not exist", ErrUnprocessable, ev.OrderID, ev.EventID)
	case err != nil:
		return fmt.Errorf("confirm order %s: %w", ev.OrderID, err)
	}
	uc.log.WithContext(ctx).Infow("msg", "order confirmed", "order_id", ev.OrderID, "event_id", ev.EventID)
	return nil
}

// Notify handles OrderConfirmed: it tells the customer that the order is confirmed (the
// demo records the notification on the order; a real service would send a mail here),
// once per order however often the event is delivered.
func (uc *OrderUsecase) Notify(ctx context.Context, ev *OrderConfirmed) error {
	if ev.Version != OrderConfirmedVersion {
		return fmt.Errorf("%w: OrderConfirmed version %d (this service reads %d)", ErrUnprocessable, ev.Version, OrderConfirmedVersion)
	}
	if ev.EventID == "" || ev.OrderID == "" {
		return fmt.Errorf("%w: OrderConfirmed without event_id or order_id", ErrUnprocessable)
	}
	err := uc.repo.MarkNotified(ctx, EventOrderConfirmed+":"+ev.EventID, ev.OrderID, uc.now().UTC())
	switch {
	case errors.Is(err, ErrAlreadyProcessed):
		uc.log.WithContext(ctx).Infow("msg", "duplicate OrderConfirmed ignored", "order_id", ev.OrderID, "event_id", ev.EventID)
		return nil
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: order %s of event %s does not exist", ErrUnprocessable, ev.OrderID, ev.EventID)
	case err != nil:
		return fmt.Errorf("notify the customer of order %s: %w", ev.OrderID, err)
	}
	uc.log.WithContext(ctx).Infow("msg", "customer notified", "order_id", ev.OrderID, "event_id", ev.EventID)
	return nil
}

// Get returns one order.
func (uc *OrderUsecase) Get(ctx context.Context, id string) (*Order, error) {
	if id == "" || len(id) > MaxIDLength {
		return nil, v1.ErrorInvalidArgument("order id must be 1 to %d characters", MaxIDLength)
	}
	o, err := uc.repo.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, v1.ErrorOrderNotFound("order %s not found", id).WithCause(err)
	}
	if err != nil {
		return nil, v1.ErrorUnavailable("load order: %v", err).WithCause(err)
	}
	return o, nil
}

// List returns a page of orders, newest first, and the token of the next page ("" at the end).
func (uc *OrderUsecase) List(ctx context.Context, pageSize int, pageToken string) ([]*Order, string, error) {
	switch {
	case pageSize < 0 || pageSize > MaxPage:
		return nil, "", v1.ErrorInvalidArgument("page_size must be 0 to %d", MaxPage)
	case pageSize == 0:
		pageSize = DefaultPage
	}
	if len(pageToken) > MaxIDLength {
		return nil, "", v1.ErrorInvalidArgument("malformed page_token")
	}
	orders, err := uc.repo.List(ctx, pageToken, pageSize+1)
	if err != nil {
		return nil, "", v1.ErrorUnavailable("list orders: %v", err).WithCause(err)
	}
	next := ""
	if len(orders) > pageSize {
		orders = orders[:pageSize]
		next = orders[pageSize-1].ID
	}
	return orders, next, nil
}

func (uc *OrderUsecase) newOrder(customerID string, items []Item) (*Order, error) {
	customerID = strings.TrimSpace(customerID)
	if customerID == "" || len(customerID) > MaxIDLength {
		return nil, v1.ErrorInvalidArgument("customer_id must be 1 to %d characters", MaxIDLength)
	}
	if len(items) == 0 || len(items) > MaxItems {
		return nil, v1.ErrorInvalidArgument("an order needs 1 to %d items", MaxItems)
	}
	var total int64
	for i, it := range items {
		if it.SKU == "" || len(it.SKU) > MaxIDLength {
			return nil, v1.ErrorInvalidArgument("items[%d].sku must be 1 to %d characters", i, MaxIDLength)
		}
		if it.Quantity <= 0 || it.Quantity > MaxQuantity {
			return nil, v1.ErrorInvalidArgument("items[%d].quantity must be 1 to %d", i, MaxQuantity)
		}
		if it.UnitPriceCents < 0 || it.UnitPriceCents > maxTotalCents/MaxQuantity/MaxItems {
			return nil, v1.ErrorInvalidArgument("items[%d].unit_price_cents is out of range", i)
		}
		total += int64(it.Quantity) * it.UnitPriceCents
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, v1.ErrorUnavailable("generate order id: %v", err).WithCause(err)
	}
	now := uc.now().UTC()
	return &Order{
		ID:         id.String(),
		CustomerID: customerID,
		Items:      append([]Item(nil), items...),
		TotalCents: total,
		Status:     StatusPending,
		CreatedAt:  now,
		UpdatedAt:  now,
	}, nil
}
