package rocketmq

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// txProducer is the transactional producer. It has its own client instance (instance
// name + "-tx") because the client delivers check-back requests only to the producer
// that created the instance.
type txProducer struct {
	p       rocketmq.TransactionProducer
	pending sync.Map // *primitive.Message → *txCall, while SendMessageInTransaction runs
}

type txCall struct {
	ctx  context.Context
	exec broker.TransactionExecutor
}

func (b *Broker) txProducerLocked() (*txProducer, error) {
	if b.tx != nil {
		return b.tx, nil
	}
	tp := &txProducer{}
	p, err := rocketmq.NewTransactionProducer(&txListener{b: b, tp: tp}, b.producerOptions(b.instance+"-tx", b.set.groupName)...)
	if err != nil {
		return nil, fmt.Errorf("rocketmq: create transactional producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("rocketmq: start transactional producer: %w", err)
	}
	tp.p = p
	b.tx = tp
	for _, topic := range b.set.txTopics {
		if err := tp.probe(topic); err != nil {
			// Only a warm-up: publishing reports its own errors.
			b.log.Warnw("msg", "transactional producer probe failed; check-backs of earlier half messages wait until this producer publishes",
				"topic", topic, "error", err)
		}
	}
	return tp, nil
}

// probeTimeout bounds the rolled-back probe of WithTransactionTopics.
const probeTimeout = 10 * time.Second

// probe sends a half message to topic and rolls it back, so the client learns the
// topic's brokers and heartbeats to them (see WithTransactionTopics).
func (tp *txProducer) probe(topic string) error {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	m := primitive.NewMessage(topic, []byte("transactional producer probe; rolled back"))
	tp.pending.Store(m, &txCall{ctx: ctx, exec: func(context.Context, *broker.Message) broker.TransactionState {
		return broker.TransactionRollback
	}})
	defer tp.pending.Delete(m)
	if _, err := tp.p.SendMessageInTransaction(ctx, m); err != nil {
		return fmt.Errorf("rocketmq: probe transactional producer on %s: %w", topic, err)
	}
	return nil
}

func (b *Broker) sendInTransaction(ctx context.Context, topic string, m *primitive.Message, exec broker.TransactionExecutor) (*broker.PublishResult, error) {
	b.mu.Lock()
	if b.ses == nil {
		b.mu.Unlock()
		return nil, ErrNotConnected
	}
	tp, err := b.txProducerLocked()
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	tp.pending.Store(m, &txCall{ctx: ctx, exec: exec})
	defer tp.pending.Delete(m)
	r, err := tp.p.SendMessageInTransaction(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("send transactional message to %s: %w", topic, err)
	}
	res, err := b.sendResult(topic, r.SendResult, nil)
	if err != nil {
		return res, err
	}
	if r.State == primitive.RollbackMessageState {
		return res, fmt.Errorf("send transactional message to %s: %w", topic, ErrRolledBack)
	}
	return res, nil
}

// ErrRolledBack is returned by a transactional Publish whose local transaction (or the
// broker's answer) rolled the message back.
var ErrRolledBack = fmt.Errorf("transaction rolled back")

type txListener struct {
	b  *Broker
	tp *txProducer
}

func toState(s broker.TransactionState) primitive.LocalTransactionState {
	switch s {
	case broker.TransactionCommit:
		return primitive.CommitMessageState
	case broker.TransactionRollback:
		return primitive.RollbackMessageState
	default:
		return primitive.UnkonwnState // sic: the client's spelling
	}
}

func (l *txListener) ExecuteLocalTransaction(m *primitive.Message) (state primitive.LocalTransactionState) {
	v, ok := l.tp.pending.Load(m)
	if !ok {
		return primitive.UnkonwnState
	}
	call := v.(*txCall)
	defer func() {
		if r := recover(); r != nil {
			l.b.log.Errorw("msg", "local transaction panicked; state unknown", "topic", m.Topic, "panic", r)
			state = primitive.UnkonwnState
		}
	}()
	return toState(call.exec(call.ctx, &broker.Message{Headers: m.GetProperties(), Body: m.Body, Msg: m}))
}

func (l *txListener) CheckLocalTransaction(m *primitive.MessageExt) (state primitive.LocalTransactionState) {
	check := l.b.set.txChecker
	if check == nil {
		l.b.log.Warnw("msg", "transaction check-back but no TransactionChecker configured; answering unknown",
			"topic", m.Topic, "msgId", m.MsgId)
		return primitive.UnkonwnState
	}
	defer func() {
		if r := recover(); r != nil {
			l.b.log.Errorw("msg", "transaction checker panicked; state unknown", "topic", m.Topic, "panic", r)
			state = primitive.UnkonwnState
		}
	}()
	h := m.GetProperties()
	h[HeaderTopic] = l.b.userTopic(m.Topic)
	h[HeaderMessageID] = m.MsgId
	return toState(check(context.Background(), &broker.Message{
		Headers: h, Body: m.Body, Partition: queueID(m), Offset: m.QueueOffset, Msg: m,
	}))
}
