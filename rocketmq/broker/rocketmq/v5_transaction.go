package rocketmq

import (
	"context"
	"fmt"

	"github.com/kratos-rocketmq/rocketmq/broker"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// Transactions over RocketMQ 5: the half message is a send of type TRANSACTION, whose
// answer carries a transaction id; the local executor runs after it; commit and
// rollback are EndTransaction calls quoting that id (source CLIENT), unknown sends
// nothing. A transaction the server never learnt the outcome of is recovered on the
// producer's Telemetry stream: RecoverOrphanedTransactionCommand (the message and its
// transaction id) → the broker's TransactionChecker → EndTransaction (source
// SERVER_CHECK). The server sends recoveries to the producers of the message's topic,
// which is why the producer's settings list every topic it publishes to (and
// WithTransactionTopics declares topics before the first publish).

func (p *v5Producer) sendInTransaction(ctx context.Context, topic string, m *v2.Message, exec broker.TransactionExecutor) (*broker.PublishResult, error) {
	r, err := p.route(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("send transactional message to %s: %w", topic, err)
	}
	if p.client.serverSettings().GetPublishing().GetValidateMessageType() && !r.accepts(v2.MessageType_TRANSACTION) {
		return nil, fmt.Errorf("send transactional message to %s: the topic accepts %v (set its message.type attribute, e.g. mqadmin updateTopic -t %s -a +message.type=TRANSACTION)",
			topic, r.acceptList(), topic)
	}
	resp, err := p.sendOnce(ctx, &v2.SendMessageRequest{Messages: []*v2.Message{m}})
	if err != nil {
		return nil, fmt.Errorf("send transactional message to %s: %w", topic, err)
	}
	e := resp.GetEntries()[0]
	res := &broker.PublishResult{ID: e.GetMessageId(), Topic: topic, Partition: -1, Offset: e.GetOffset()}
	state := p.runLocal(ctx, topic, m, exec)
	resolution, decided := v5Resolution(state)
	if !decided {
		p.b.log.Infow("msg", "local transaction outcome unknown; the server will ask the checker", "topic", topic, "msgId", res.ID)
		return res, nil
	}
	if err := p.endTransaction(ctx, topic, e.GetMessageId(), e.GetTransactionId(), resolution, v2.TransactionSource_SOURCE_CLIENT); err != nil {
		return res, fmt.Errorf("send transactional message to %s: %s: %w (the server will ask the checker)", topic, state, err)
	}
	if state == broker.TransactionRollback {
		return res, fmt.Errorf("send transactional message to %s: %w", topic, ErrRolledBack)
	}
	return res, nil
}

// runLocal runs the local transaction; a panic is an unknown outcome.
func (p *v5Producer) runLocal(ctx context.Context, topic string, m *v2.Message, exec broker.TransactionExecutor) (state broker.TransactionState) {
	defer func() {
		if r := recover(); r != nil {
			p.b.log.Errorw("msg", "local transaction panicked; state unknown", "topic", topic, "panic", r)
			state = broker.TransactionUnknown
		}
	}()
	h := make(broker.Headers, len(m.GetUserProperties()))
	for k, v := range m.GetUserProperties() {
		h[k] = v
	}
	return exec(ctx, &broker.Message{Headers: h, Body: m.GetBody(), Partition: -1, Msg: m})
}

func (p *v5Producer) endTransaction(ctx context.Context, topic, msgID, txID string, resolution v2.TransactionResolution, source v2.TransactionSource) error {
	cctx, cancel := p.ses.conn.call(ctx, p.client.id)
	defer cancel()
	resp, err := p.ses.conn.api.EndTransaction(cctx, &v2.EndTransactionRequest{
		Topic: p.ses.conn.resource(topic), MessageId: msgID, TransactionId: txID, Resolution: resolution, Source: source,
	})
	if err != nil {
		return fmt.Errorf("end transaction %s: %w", txID, err)
	}
	return statusErr("end transaction "+txID, resp.GetStatus())
}

// onCommand takes the producer's server commands: transaction recoveries run on a
// goroutine of their own (at most v5MaxChecks at once; the server asks again later
// for one dropped here).
func (p *v5Producer) onCommand(cmd *v2.TelemetryCommand) {
	rc := cmd.GetRecoverOrphanedTransactionCommand()
	if rc == nil {
		return
	}
	select {
	case p.checks <- struct{}{}:
	default:
		p.b.log.Warnw("msg", "too many transaction checks running; this one is left for the server's next check",
			"transactionId", rc.GetTransactionId())
		return
	}
	if !p.tasks.start() {
		<-p.checks
		return
	}
	go func() {
		defer p.tasks.done()
		defer func() { <-p.checks }()
		p.recover(rc)
	}()
}

// recover answers one recovery with the checker's outcome.
func (p *v5Producer) recover(rc *v2.RecoverOrphanedTransactionCommand) {
	m := rc.GetMessage()
	topic := m.GetTopic().GetName()
	msgID := m.GetSystemProperties().GetMessageId()
	check := p.b.set.txChecker
	if check == nil {
		p.b.log.Warnw("msg", "transaction check-back but no TransactionChecker configured; answering nothing",
			"topic", topic, "msgId", msgID)
		return
	}
	state := func() (state broker.TransactionState) {
		defer func() {
			if r := recover(); r != nil {
				p.b.log.Errorw("msg", "transaction checker panicked; state unknown", "topic", topic, "panic", r)
				state = broker.TransactionUnknown
			}
		}()
		sp := m.GetSystemProperties()
		return check(p.ses.hard, &broker.Message{
			Headers: v5Headers(topic, m, sp.GetDeliveryAttempt()), Body: m.GetBody(),
			Partition: int(sp.GetQueueId()), Offset: sp.GetQueueOffset(), Msg: m,
		})
	}()
	resolution, decided := v5Resolution(state)
	if !decided {
		p.b.log.Infow("msg", "transaction checker answered unknown; the server asks again later", "topic", topic, "msgId", msgID)
		return
	}
	if err := p.endTransaction(p.ses.hard, topic, msgID, rc.GetTransactionId(), resolution, v2.TransactionSource_SOURCE_SERVER_CHECK); err != nil {
		p.b.log.Errorw("msg", "ending a checked-back transaction failed; the server asks again later",
			"topic", topic, "msgId", msgID, "state", state.String(), "error", err)
	}
}

// v5Resolution is the EndTransaction resolution of a local transaction's or a
// checker's state; decided is false for TransactionUnknown (nothing to send: the
// server asks again).
func v5Resolution(state broker.TransactionState) (resolution v2.TransactionResolution, decided bool) {
	switch state {
	case broker.TransactionCommit:
		return v2.TransactionResolution_COMMIT, true
	case broker.TransactionRollback:
		return v2.TransactionResolution_ROLLBACK, true
	}
	return v2.TransactionResolution_TRANSACTION_RESOLUTION_UNSPECIFIED, false
}
