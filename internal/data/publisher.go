package data

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

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
	HeaderPublishedAt  = "published-at" // Unix milliseconds, when PublishInTx began
)

// localTxTimeout bounds a local transaction: PublishInTx's context ends this long after
// it began, which rolls back a database transaction still open then.
const localTxTimeout = 30 * time.Second

// checkBackGrace is how much longer than localTxTimeout a half message must be before a
// check-back without a recorded event answers rollback: a commit that began just before
// the deadline may still finish, and the clocks of the publishing and the answering
// process (after a crash, another one) may differ.
const checkBackGrace = 30 * time.Second

// eventPublisher publishes domain events as RocketMQ transactional messages and answers
// the broker's check-backs from published_events.
type eventPublisher struct {
	b     broker.Broker
	topic string
	data  *Data
	log   *log.Helper
	now   func() time.Time
	// txTimeout and checkAfter are localTxTimeout and localTxTimeout+checkBackGrace
	// (tests shorten them).
	txTimeout, checkAfter time.Duration
}

// NewEventPublisher connects the producer of data.rocketmq and returns the biz
// EventPublisher on it; the broker's transaction check-backs are answered from the
// database (see checkBack). The cleanup disconnects.
func NewEventPublisher(c *conf.Data, ep *cluster.Endpoint, d *Data, logger log.Logger) (biz.EventPublisher, func(), error) {
	p := &eventPublisher{topic: c.GetRocketmq().GetTopic(), data: d, now: time.Now,
		log: log.NewHelper(log.With(logger, "module", "data/publisher")), txTimeout: localTxTimeout, checkAfter: localTxTimeout + checkBackGrace}
	cleanup, err := p.connect(ep, c.GetRocketmq().GetGroup())
	if err != nil {
		return nil, nil, err
	}
	return p, cleanup, nil
}

func (p *eventPublisher) connect(ep *cluster.Endpoint, group string) (func(), error) {
	b, err := ep.Producer.Connect(
		rmq.WithGroupName(group),
		rmq.WithTransactionChecker(p.checkBack),
		// The transactional producer probes the topic at Connect so the broker knows it at
		// once and can ask it about half messages a previous process left.
		rmq.WithTransactionTopics(p.topic))
	if err != nil {
		return nil, fmt.Errorf("event publisher: %w", err)
	}
	p.b = b
	return func() {
		if err := b.Disconnect(); err != nil {
			p.log.Errorw("msg", "disconnect event publisher", "err", err)
		}
	}, nil
}

// PublishInTx implements biz.EventPublisher with a transactional message: the half
// message is sent, the local transaction (tx and the row of e in published_events) runs,
// and its outcome commits or rolls the message back.
func (p *eventPublisher) PublishInTx(ctx context.Context, e biz.Event, tx func(ctx context.Context) error) error {
	var txErr error
	err := p.send(ctx, e, func(ctx context.Context, at time.Time) broker.TransactionState {
		if txErr = p.local(ctx, e, at, tx); txErr != nil {
			return broker.TransactionRollback
		}
		return broker.TransactionCommit
	})
	if txErr != nil {
		return txErr // the message was rolled back
	}
	return err
}

// send publishes e as a half message whose outcome exec decides; exec gets the time the
// publication began (the published-at property) and a context that ends txTimeout later.
func (p *eventPublisher) send(ctx context.Context, e biz.Event, exec func(ctx context.Context, at time.Time) broker.TransactionState) error {
	at := p.now()
	ctx, cancel := context.WithDeadline(ctx, at.Add(p.txTimeout))
	defer cancel()
	err := p.b.Publish(ctx, p.topic, e,
		rmq.WithTag(e.EventName()),
		rmq.WithKeys([]string{e.EventKey(), e.AggregateID()}),
		broker.WithHeaders(broker.Headers{
			HeaderEventName:    e.EventName(),
			HeaderEventID:      e.EventKey(),
			HeaderEventVersion: strconv.Itoa(e.EventVersion()),
			HeaderAggregateID:  e.AggregateID(),
			HeaderPublishedAt:  strconv.FormatInt(at.UnixMilli(), 10),
		}),
		rmq.WithTransaction(func(ctx context.Context, _ *broker.Message) broker.TransactionState { return exec(ctx, at) }),
	)
	if err != nil && !errors.Is(err, rmq.ErrRolledBack) {
		return fmt.Errorf("publish %s %s: %w", e.EventName(), e.EventKey(), err)
	}
	return err
}

// local is the local transaction of e: tx's changes and e's row in published_events,
// committed together or not at all. An event id published before is
// biz.ErrAlreadyProcessed: an event whose id derives from the one that caused it is
// published once however often the cause is delivered.
func (p *eventPublisher) local(ctx context.Context, e biz.Event, at time.Time, tx func(ctx context.Context) error) error {
	return p.data.inTx(ctx, func(ctx context.Context) error {
		if err := tx(ctx); err != nil {
			return err
		}
		_, err := p.data.conn(ctx).ExecContext(ctx, p.data.dialect.rebind(
			`INSERT INTO published_events (event_id, event_name, aggregate_id, published_at) VALUES (?, ?, ?, ?)`),
			e.EventKey(), e.EventName(), e.AggregateID(), at.UnixMilli())
		if p.data.dialect.isUniqueViolation(err) {
			return fmt.Errorf("%w: %s %s was published before", biz.ErrAlreadyProcessed, e.EventName(), e.EventKey())
		}
		if err != nil {
			return fmt.Errorf("record %s %s as published: %w", e.EventName(), e.EventKey(), err)
		}
		return nil
	})
}

// checkBack answers the broker's question about a half message whose outcome it never
// learnt (the publishing process died, or its answer was lost), by one rule for every
// event type: commit when the event's id was recorded in published_events, which
// happens only in the local transaction's commit. Without a row the transaction either
// failed or is still running, and a rollback now would lose the event of a slow
// transaction that commits a moment later; so the answer is unknown (the broker asks
// again later) until the half message is older than the longest a local transaction can
// take (txTimeout, plus a grace), and rollback only after that.
func (p *eventPublisher) checkBack(ctx context.Context, m *broker.Message) broker.TransactionState {
	name, id := m.Headers[HeaderEventName], m.Headers[HeaderEventID]
	if id == "" {
		p.log.Errorw("msg", "transaction check-back of a message without an event id: unknown", "topic", m.Headers[rmq.HeaderTopic])
		return broker.TransactionUnknown
	}
	var n int
	err := p.data.db.QueryRowContext(ctx, p.data.dialect.rebind(`SELECT COUNT(*) FROM published_events WHERE event_id = ?`), id).Scan(&n)
	switch {
	case err != nil:
		p.log.Errorw("msg", "transaction check-back failed; the broker will ask again", "event", name, "event_id", id, "err", err)
		return broker.TransactionUnknown
	case n > 0:
		p.log.Infow("msg", "transaction check-back: commit", "event", name, "event_id", id)
		return broker.TransactionCommit
	}
	ms, err := strconv.ParseInt(m.Headers[HeaderPublishedAt], 10, 64)
	if age := p.now().Sub(time.UnixMilli(ms)); err != nil || age < p.checkAfter {
		p.log.Infow("msg", "transaction check-back: unknown, the local transaction may still run", "event", name, "event_id", id)
		return broker.TransactionUnknown
	}
	p.log.Infow("msg", "transaction check-back: rollback", "event", name, "event_id", id)
	return broker.TransactionRollback
}
