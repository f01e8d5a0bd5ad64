package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/rocketmq/broker"
)

// OrderEvents handles the domain events the service subscribes to.
type OrderEvents struct {
	uc *biz.OrderUsecase
}

// NewOrderEvents returns the event handlers on uc.
func NewOrderEvents(uc *biz.OrderUsecase) *OrderEvents {
	return &OrderEvents{uc: uc}
}

// OnOrderCreated confirms the order of an OrderCreated event. A redelivered event is
// harmless (the use case deduplicates); an error hands the message back for redelivery,
// and an event no retry can fix goes to the dead-letter queue at once.
func (e *OrderEvents) OnOrderCreated(ctx context.Context, _ string, _ broker.Headers, ev *biz.OrderCreated) error {
	err := e.uc.Confirm(ctx, ev)
	if errors.Is(err, biz.ErrUnprocessable) {
		return fmt.Errorf("%w: %w", broker.ErrDeadLetter, err)
	}
	return err
}
