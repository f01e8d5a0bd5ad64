package rocketmq

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/rocketmq/broker"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// What happens to a message the v5 driver received (the v2 driver's semantics on
// RocketMQ 5's receive/ack API):
//
//   - the handler returns nil (and Acks with DisableAutoAck): AckMessage;
//   - it fails (error, panic, no Ack): ChangeInvisibleDuration to the back-off
//     (WithRetryDelayLevel's duration, else the server's retry policy for the attempt),
//     so the server delivers it again then with the attempt + 1; a FIFO group retries
//     in place instead, after the same back-off (WithSuspendInterval when set), so the
//     message group keeps its order;
//   - on the last attempt (the server's max attempts, lowered by
//     WithMaxReconsumeTimes), an error wrapping broker.ErrDeadLetter, or a body the codec
//     cannot decode: ForwardMessageToDeadLetterQueue, the proxy's own RPC for it, at
//     once. The server's own rule (a message whose last delivery expires goes to
//     %DLQ%<group>) is the backstop for a consumer that dies on the last attempt;
//   - a body that does not match its digest: given back at once, as a failure.
//
// Acks, changes and forwards are tried up to v5SettleTries times, a second apart; an
// expired receipt handle is not retried (the handler outlasted the invisible duration:
// the message is delivered again).

// v5SettleTries bounds the attempts of an ack, change or forward.
const v5SettleTries = 3

// dispatch starts the handling of a received batch, s.waiting counting its messages:
// a goroutine per message, or, for a FIFO group, one per message group (and queue)
// that handles the group's messages of the batch one after the other, in the batch's
// order (the queue's: the server hands out a group's run of messages together and
// holds the group's next ones until all are settled). Groups run concurrently.
func (s *v5Sub) dispatch(msgs []*v2.Message) {
	s.waiting.Add(len(msgs))
	if !s.g.fifo {
		for _, m := range msgs {
			go s.handle(m)
		}
		return
	}
	for _, run := range splitInOrder(msgs, v5OrderKey) {
		go s.handleInOrder(run)
	}
}

// v5OrderKey is what orders a FIFO message: its message group in its queue (a
// message without one is ordered with its queue, as the server keeps it).
func v5OrderKey(m *v2.Message) orderKey {
	sp := m.GetSystemProperties()
	return orderKey{queue: sp.GetQueueId(), group: sp.GetMessageGroup()}
}

type orderKey struct {
	queue int32
	group string
}

// handleInOrder handles a FIFO message group's messages of a batch one at a time, in
// order. After one that is not settled (given back, left for redelivery) the rest are
// given back without being started, so none overtakes it; when receiving stops
// (Drain, Unsubscribe) the ones not started yet are given back at once, as handle
// does for a message waiting for a slot.
func (s *v5Sub) handleInOrder(run []*v2.Message) {
	var (
		mu   sync.Mutex
		next int
	)
	take := func() *v2.Message {
		mu.Lock()
		defer mu.Unlock()
		if next == len(run) {
			return nil
		}
		next++
		return run[next-1]
	}
	giveBackRest := func() {
		mu.Lock()
		rest := run[next:]
		next = len(run)
		mu.Unlock()
		for _, m := range rest {
			s.giveBack(m)
			s.waiting.Done()
			<-s.g.credits
		}
	}
	stop := context.AfterFunc(s.recvCtx, giveBackRest)
	defer stop()
	for m := take(); m != nil; m = take() {
		if !s.handle(m) {
			giveBackRest()
			return
		}
	}
}

// handle runs one received message, holding the credit taken for it (released at the
// end): it waits for a handler slot and runs the message, or gives it back when
// receiving stops first (Drain, Unsubscribe): not started, so its attempt is not
// counted. The slot is released when the handler is done, before the acknowledgement
// (which the message still waits for in flight, so Drain waits for it too). It
// reports whether the message was settled (acknowledged or dead-lettered), which is
// when a FIFO group's next message may start.
func (s *v5Sub) handle(m *v2.Message) bool {
	g := s.g
	defer func() { <-g.credits }()
	select {
	case g.slots <- struct{}{}:
	case <-s.recvCtx.Done():
		s.giveBack(m)
		s.waiting.Done()
		return false
	}
	f := g.ses.flight
	if s.recvCtx.Err() != nil || !f.enter() {
		<-g.slots
		s.giveBack(m)
		s.waiting.Done()
		return false
	}
	s.waiting.Done()
	defer f.leave()
	var once sync.Once
	release := func() { once.Do(func() { <-g.slots }) }
	defer release()
	return s.process(m, release)
}

// process runs a message and settles it; release gives the handler slot back once
// the handler is done with it. It reports whether the message was acknowledged or
// dead-lettered (false: given back, or left to come again).
func (s *v5Sub) process(m *v2.Message, release func()) bool {
	b := s.g.b
	sp := m.GetSystemProperties()
	attempt := max(sp.GetDeliveryAttempt(), 1)
	body, err := v5Body(m)
	if err != nil {
		if errors.Is(err, errCorrupted) {
			b.log.Warnw("msg", "message body damaged in transfer; given back", "topic", s.topic, "group", s.g.name,
				"msgId", sp.GetMessageId(), "error", err)
			s.nack(m, 0)
			return false
		}
		s.undecodable(m, err)
		return true
	}
	v, err := s.decode(body)
	if err != nil {
		s.undecodable(m, err)
		return true
	}
	for {
		out := s.deliver(m, v, attempt)
		switch {
		case out == outcomeSuccess:
			release()
			s.ack(m)
			return true
		case out == outcomeDLQ || attempt >= s.maxTries:
			release()
			s.deadLetter(m, attempt)
			return true
		case !s.g.fifo:
			release()
			s.nack(m, s.backoff(attempt))
			return false
		}
		// FIFO: the same message again, in place, after the back-off; while receiving
		// stops (drain) it is left unacknowledged and comes again.
		pause := s.suspend
		if pause <= 0 {
			pause = s.backoff(attempt)
		}
		select {
		case <-time.After(pause):
		case <-s.recvCtx.Done():
			return false
		case <-s.ctx.Done():
			return false
		}
		attempt++
	}
}

// backoff is how long a failed message stays invisible before the next attempt.
func (s *v5Sub) backoff(attempt int32) time.Duration {
	if s.delay > 0 {
		return s.delay
	}
	return nextAttemptDelay(s.g.policy, attempt)
}

// nextAttemptDelay is the retry policy's delay after delivery attempt (the SDKs'
// rule: exponential initial×multiplier^(attempt-1) up to max, or the customized
// list's entry, its last one beyond it); 10 s without a policy.
func nextAttemptDelay(p *v2.RetryPolicy, attempt int32) time.Duration {
	attempt = max(attempt, 1)
	if e := p.GetExponentialBackoff(); e != nil {
		d := float64(e.GetInitial().AsDuration())
		for range attempt - 1 {
			d *= float64(e.GetMultiplier())
		}
		if maxD := float64(e.GetMax().AsDuration()); d > maxD {
			d = maxD
		}
		return time.Duration(max(d, 0))
	}
	if c := p.GetCustomizedBackoff(); c != nil && len(c.GetNext()) > 0 {
		next := c.GetNext()
		return next[min(int(attempt), len(next))-1].AsDuration()
	}
	return 10 * time.Second
}

// undecodable sends a message whose body the codec cannot decode to the dead-letter
// queue at once.
func (s *v5Sub) undecodable(m *v2.Message, err error) {
	b := s.g.b
	b.log.Errorw("msg", "undecodable message sent to the dead-letter queue",
		"topic", s.topic, "group", s.g.name, "msgId", m.GetSystemProperties().GetMessageId(), "error", err)
	if b.metricsOn {
		b.metrics.consumed.Add(s.ctx, 1, s.attrs.dlq)
	}
	s.deadLetter(m, max(m.GetSystemProperties().GetDeliveryAttempt(), 1))
}

// deliver hands the decoded body to the handler and maps its outcome.
func (s *v5Sub) deliver(m *v2.Message, v broker.Any, attempt int32) outcome {
	b := s.g.b
	var start time.Time
	if b.metricsOn {
		start = time.Now()
		if attempt > 1 {
			b.metrics.redelivered.Add(s.ctx, 1, s.attrs.base)
		}
	}
	sp := m.GetSystemProperties()
	h := v5Headers(s.topic, m, attempt)
	ev := &event{topic: s.topic, raw: m, msg: broker.Message{
		Headers: h, Body: v, Partition: int(sp.GetQueueId()), Offset: sp.GetQueueOffset(), Msg: m,
	}}
	err := runHandler(s.ctx, b.log, b.tracing, s.handler, ev, s.g.name, sp.GetMessageId(), s.opts.AutoAck)
	deadLetter := errors.Is(err, broker.ErrDeadLetter)
	last := err != nil && (deadLetter || attempt >= s.maxTries)
	if b.metricsOn {
		b.metrics.recordConsume(s.ctx, s.attrs, start, err, last)
	}
	switch {
	case err == nil:
		return outcomeSuccess
	case deadLetter:
		b.log.Errorw("msg", "handler dead-lettered the message", "topic", s.topic, "group", s.g.name,
			"msgId", sp.GetMessageId(), "attempt", attempt, "error", err)
		return outcomeDLQ
	}
	b.log.Warnw("msg", "handler failed; message handed back", "topic", s.topic, "group", s.g.name,
		"msgId", sp.GetMessageId(), "attempt", attempt, "toDLQ", last, "error", err)
	return outcomeRetry
}

// ack acknowledges a handled message (batched with other handlers' acks, see acker).
func (s *v5Sub) ack(m *v2.Message) {
	if !s.g.settles.start() {
		return // the group has shut down: the message comes again
	}
	defer s.g.settles.done()
	sp := m.GetSystemProperties()
	err := s.acks.ack(&v2.AckMessageEntry{MessageId: sp.GetMessageId(), ReceiptHandle: sp.GetReceiptHandle()})
	if err != nil {
		s.settleFailed("ack", m, err)
	}
}

// nack makes a message invisible for d: it is delivered again then, with the attempt
// counted.
func (s *v5Sub) nack(m *v2.Message, d time.Duration) {
	s.changeInvisible(m, d, false)
}

// giveBack returns a message that was received but never handed to a handler: visible
// at once, its attempt not counted (the protocol's suspend).
func (s *v5Sub) giveBack(m *v2.Message) {
	s.changeInvisible(m, 0, true)
}

func (s *v5Sub) changeInvisible(m *v2.Message, d time.Duration, suspend bool) {
	conn := s.g.ses.conn
	sp := m.GetSystemProperties()
	req := &v2.ChangeInvisibleDurationRequest{Group: conn.resource(s.g.name), Topic: conn.resource(s.topic),
		ReceiptHandle: sp.GetReceiptHandle(), InvisibleDuration: durationpb.New(d), MessageId: sp.GetMessageId()}
	if suspend {
		req.Suspend = &suspend
	}
	s.settle("change invisible duration", m, func(ctx context.Context) error {
		resp, err := conn.api.ChangeInvisibleDuration(ctx, req)
		if err != nil {
			return err
		}
		return statusErr("change invisible duration", resp.GetStatus())
	})
}

// deadLetter forwards a message to %DLQ%<group>.
func (s *v5Sub) deadLetter(m *v2.Message, attempt int32) {
	conn := s.g.ses.conn
	sp := m.GetSystemProperties()
	req := &v2.ForwardMessageToDeadLetterQueueRequest{Group: conn.resource(s.g.name), Topic: conn.resource(s.topic),
		ReceiptHandle: sp.GetReceiptHandle(), MessageId: sp.GetMessageId(),
		DeliveryAttempt: attempt, MaxDeliveryAttempts: s.maxTries}
	s.settle("forward to the dead-letter queue", m, func(ctx context.Context) error {
		resp, err := conn.api.ForwardMessageToDeadLetterQueue(ctx, req)
		if err != nil {
			return err
		}
		return statusErr("forward message to dead letter queue", resp.GetStatus())
	})
}

// settle runs one of the calls that end a delivery and logs its failure.
func (s *v5Sub) settle(what string, m *v2.Message, call func(ctx context.Context) error) {
	if !s.g.settles.start() {
		return // the group has shut down: the message comes again
	}
	defer s.g.settles.done()
	if err := s.settleCall(call); err != nil {
		s.settleFailed(what, m, err)
	}
}

// settleCall makes call, trying again a second later on failure (up to v5SettleTries;
// never after Disconnect, nor for an expired handle), and returns its last error.
func (s *v5Sub) settleCall(call func(ctx context.Context) error) error {
	g := s.g
	for try := 1; ; try++ {
		ctx, cancel := g.ses.conn.call(context.Background(), g.client.id)
		err := call(ctx)
		cancel()
		if err == nil || hasCode(err, v2.Code_INVALID_RECEIPT_HANDLE) || try >= v5SettleTries {
			return err
		}
		select {
		case <-g.ses.done:
			return err
		case <-time.After(time.Second):
		}
	}
}

func (s *v5Sub) settleFailed(what string, m *v2.Message, err error) {
	s.g.b.log.Warnw("msg", what+" failed; the message is delivered again when its invisible duration ends",
		"topic", s.topic, "group", s.g.name, "msgId", m.GetSystemProperties().GetMessageId(), "error", err)
}
