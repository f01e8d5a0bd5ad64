package data

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/cluster"
)

// Message properties the publisher sets on every event (consumers and the transaction
// check-back read them).
const (
	HeaderEventName    = "event-name"
	HeaderEventID      = "event-id"
	HeaderEventVersion = "event-version"
	HeaderAggregateID  = "aggregate-id"
)

// eventPublisher publishes domain events as RocketMQ transactional messages.
type eventPublisher struct {
	b     broker.Broker
	topic string
}

// NewEventPublisher connects the producer of data.rocketmq and returns the biz
// EventPublisher on it; the broker's transaction check-backs are answered from the
// database (see orderRepo.eventCommitted). The cleanup disconnects.
func NewEventPublisher(c *conf.Data, ep *cluster.Endpoint, d *Data, logger log.Logger) (biz.EventPublisher, func(), error) {
	h := log.NewHelper(log.With(logger, "module", "data/publisher"))
	opts, err := ep.Producer.BrokerOptions()
	if err != nil {
		return nil, nil, fmt.Errorf("event publisher: %w", err)
	}
	repo := &orderRepo{data: d}
	topic := c.GetRocketmq().GetTopic()
	opts = append(opts,
		rmq.WithGroupName(c.GetRocketmq().GetGroup()),
		rmq.WithTransactionChecker(func(ctx context.Context, m *broker.Message) broker.TransactionState {
			return checkBack(ctx, repo, h, m.Headers)
		}),
		// The transactional producer probes the topic at Connect so the broker knows it at
		// once and can ask it about half messages a previous process left.
		rmq.WithTransactionTopics(topic))
	b, err := rmq.NewBroker(rmq.DriverTypeV2, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("event publisher: %w", err)
	}
	if err := b.Connect(); err != nil {
		return nil, nil, fmt.Errorf("event publisher: connect to %s: %w", b.Address(), err)
	}
	cleanup := func() {
		if err := b.Disconnect(); err != nil {
			h.Errorw("msg", "disconnect event publisher", "err", err)
		}
	}
	return &eventPublisher{b: b, topic: topic}, cleanup, nil
}

// PublishInTx implements biz.EventPublisher with a transactional message: the half
// message is sent, tx runs, and its outcome commits or rolls the message back.
func (p *eventPublisher) PublishInTx(ctx context.Context, e biz.Event, tx func(ctx context.Context) error) error {
	var txErr error
	exec := func(ctx context.Context, _ *broker.Message) broker.TransactionState {
		if err := tx(ctx); err != nil {
			txErr = err
			return broker.TransactionRollback
		}
		return broker.TransactionCommit
	}
	err := p.b.Publish(ctx, p.topic, e,
		rmq.WithTag(e.EventName()),
		rmq.WithKeys([]string{e.EventKey(), e.AggregateID()}),
		broker.WithHeaders(broker.Headers{
			HeaderEventName:    e.EventName(),
			HeaderEventID:      e.EventKey(),
			HeaderEventVersion: strconv.Itoa(e.EventVersion()),
			HeaderAggregateID:  e.AggregateID(),
		}),
		rmq.WithTransaction(exec),
	)
	if txErr != nil {
		return txErr // the message was rolled back
	}
	if err != nil && !errors.Is(err, rmq.ErrRolledBack) {
		return fmt.Errorf("publish %s %s: %w", e.EventName(), e.EventKey(), err)
	}
	return err
}

// checkBack answers the broker's question about a half message whose outcome it never
// learnt: commit if the local transaction that goes with the event committed.
func checkBack(ctx context.Context, repo *orderRepo, h *log.Helper, headers broker.Headers) broker.TransactionState {
	name, id, agg := headers[HeaderEventName], headers[HeaderEventID], headers[HeaderAggregateID]
	ok, err := repo.eventCommitted(ctx, name, id, agg)
	switch {
	case err != nil:
		h.Errorw("msg", "transaction check-back failed; the broker will ask again", "event", name, "event_id", id, "err", err)
		return broker.TransactionUnknown
	case ok:
		h.Infow("msg", "transaction check-back: commit", "event", name, "event_id", id)
		return broker.TransactionCommit
	default:
		h.Infow("msg", "transaction check-back: rollback", "event", name, "event_id", id)
		return broker.TransactionRollback
	}
}
