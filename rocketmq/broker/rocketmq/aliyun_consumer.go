package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/broker/rocketmq/internal/mqhttp"
)

// Subscriptions of DriverTypeAliyun: push-style delivery on top of the API's consume
// and ack.
//
// Each subscription has one poller: a consume of up to 16 messages (no more than its
// free handler slots, WithConcurrency, default 20) that the service holds up to 30 s
// until a message arrives; each message then runs its handler on a goroutine of its
// own. Subscribe makes the first consume itself (without waiting), so a topic that
// does not exist or a refused signature is its error. What happens to a message:
//
//   - handler returns nil (and, with broker.DisableAutoAck, called Ack): acked;
//   - handler error, panic, or no Ack: not acked, so the service delivers it again
//     after its invisible time (Aliyun: 5 minutes, fixed; the embedded endpoint:
//     WithHTTPInvisibleDuration) with ConsumedTimes + 1 (HeaderReconsumeTimes is
//     ConsumedTimes - 1). The service moves it to its dead-letter queue after its
//     group's retry limit, as Aliyun's service does (the embedded endpoint: the
//     group's retryMaxTimes, 16). With WithMaxReconsumeTimes(n) the driver does it
//     after n redeliveries itself (useful below the service's limit): it publishes a
//     copy to %DLQ%<group> with DLQ_ORIGIN_TOPIC and DLQ_ORIGIN_MESSAGE_ID, then acks;
//   - an error wrapping broker.ErrDeadLetter, or a body the codec cannot decode: the
//     same copy to %DLQ%<group> at once.
//
// When the service refuses the copy (Aliyun has no publishable %DLQ% topics), the
// message is left unacknowledged for the service's own limit, with an error log.
// Orderly subscriptions (WithOrderly) consume with trans=order: the service hands out
// a sharding key's messages in order and the next only after the earlier ones are
// acked; the driver runs a key's messages of one batch one after the other and stops
// at the first failure (the rest come again, in order, after the invisible time).
//
// Refused, with an error naming the option (ErrAliyunUnsupported): broadcast
// consumption, SQL92 filters, WithRetryDelayLevel and WithSuspendInterval (the retry
// interval is the service's invisible time), WithConsumeTimeout, and
// WithConsumeFromTimestamp. WithConsumeFromFirst/Last are accepted: the service
// decides where a new group starts (the embedded endpoint: at the beginning of a young
// queue, else at its end, as RocketMQ 4.x does for a new remoting group).

// aliyunDefaultConcurrency is the handler slots of a subscription without
// WithConcurrency (RocketMQ's consumeThreadMin).
const aliyunDefaultConcurrency = 20

// Poll errors back off between these bounds.
const (
	aliyunMinBackoff = 100 * time.Millisecond
	aliyunMaxBackoff = 5 * time.Second
)

// aliyunBackoff is the wait after a failed poll that followed a wait of prev
// (0 after a success): doubled, within aliyunMinBackoff..aliyunMaxBackoff.
func aliyunBackoff(prev time.Duration) time.Duration {
	return min(max(2*prev, aliyunMinBackoff), aliyunMaxBackoff)
}

// sleepCtx waits d, or less when ctx ends first; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Properties of a dead letter forwarded by the driver (what the embedded broker's
// dead letters carry, MessageConst of RocketMQ 5).
const (
	aliyunDLQOriginTopic = "DLQ_ORIGIN_TOPIC"
	aliyunDLQOriginMsgID = "DLQ_ORIGIN_MESSAGE_ID"
)

// aliyunSub is one (group, topic) subscription; it implements broker.Subscriber.
type aliyunSub struct {
	b       *AliyunBroker
	ses     *aliyunSession
	key     aliyunKey
	opts    broker.SubscribeOptions
	handler broker.Handler
	decode  broker.Decoder
	attrs   *consumeAttrs
	tag     string
	trans   string
	maxRec  int // 0: the service's limit
	slots   chan struct{}

	ctx    context.Context // parent of handler contexts: values of opts.Context, cancelled by a forced stop
	poll   context.Context
	cancel context.CancelFunc // ends poll and ctx
	done   chan struct{}      // closed when the poller has ended
	once   sync.Once
}

// Subscribe starts consuming topic as the group (broker.WithQueueName, else
// WithGroupName) and returns once the first consume has answered.
func (b *AliyunBroker) Subscribe(topic string, handler broker.Handler, binder broker.Binder, opts ...broker.SubscribeOption) (broker.Subscriber, error) {
	o := broker.NewSubscribeOptions(opts...)
	if err := aliyunCheckSubscribe(topic, handler, &o); err != nil {
		return nil, err
	}
	b.mu.Lock()
	ses := b.ses
	if ses == nil {
		b.mu.Unlock()
		return nil, ErrNotConnected
	}
	group := o.Queue
	if group == "" {
		group = b.set.groupName
	}
	if group == "" {
		b.mu.Unlock()
		return nil, fmt.Errorf("rocketmq aliyun: subscribe to %s: no consumer group (broker.WithQueueName or WithGroupName)", topic)
	}
	o.Queue = group
	key := aliyunKey{group, topic}
	if b.subs[key] != nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("rocketmq aliyun: group %s already subscribes topic %s", group, topic)
	}
	s := b.newAliyunSub(ses, key, handler, binder, o)
	b.subs[key] = s
	b.mu.Unlock()

	first, err := s.consume(0)
	if err != nil {
		b.mu.Lock()
		if b.subs[key] == s {
			delete(b.subs, key)
		}
		b.mu.Unlock()
		s.stop()
		close(s.done)
		return nil, fmt.Errorf("rocketmq aliyun: subscribe to %s in group %s: %w", topic, group, err)
	}
	if !ses.tasks.start() {
		s.release(len(first))
		s.stop()
		close(s.done)
		return nil, ErrNotConnected
	}
	go s.run(first)
	return s, nil
}

// aliyunCheckSubscribe refuses what the API cannot do, naming the option.
func aliyunCheckSubscribe(topic string, handler broker.Handler, o *broker.SubscribeOptions) error {
	unsupported := func(option, why string) error {
		return fmt.Errorf("rocketmq aliyun: subscribe to %s: %s: %w (%s)", topic, option, ErrAliyunUnsupported, why)
	}
	switch {
	case topic == "":
		return errors.New("rocketmq aliyun: subscribe: empty topic")
	case handler == nil:
		return fmt.Errorf("rocketmq aliyun: subscribe to %s: nil handler", topic)
	case o.Broadcast:
		return unsupported("WithConsumerModel(MessageModelBroadCasting)", "HTTP consumers of a group share its messages")
	case o.FilterType == broker.FilterSQL92:
		return unsupported("WithSQLSelector", "HTTP consumers filter on tags only")
	case o.RetryDelayLevel > 0:
		return unsupported("WithRetryDelayLevel", "the retry interval is the service's invisible time")
	case o.SuspendInterval > 0:
		return unsupported("WithSuspendInterval", "an orderly message comes again after the service's invisible time")
	case o.ConsumeTimeout > 0:
		return unsupported("WithConsumeTimeout", "the service's invisible time bounds a delivery")
	case o.ConsumeFrom == broker.ConsumeFromTimestamp:
		return unsupported("WithConsumeFromTimestamp", "the service decides where a new group starts")
	case o.MaxReconsumeTimes < 0:
		return fmt.Errorf("rocketmq aliyun: subscribe to %s: WithMaxReconsumeTimes(%d) is negative", topic, o.MaxReconsumeTimes)
	}
	return nil
}

func (b *AliyunBroker) newAliyunSub(ses *aliyunSession, key aliyunKey, h broker.Handler, binder broker.Binder, o broker.SubscribeOptions) *aliyunSub {
	conc := o.Concurrency
	if conc <= 0 {
		conc = aliyunDefaultConcurrency
	}
	s := &aliyunSub{
		b: b, ses: ses, key: key, opts: o,
		handler: broker.Chain(h, o.Middlewares...), decode: broker.NewDecoder(b.opts.Codec, binder),
		attrs: newConsumeAttrs(key.topic, key.group), tag: aliyunTagExpression(o.Filter),
		maxRec: o.MaxReconsumeTimes, slots: make(chan struct{}, conc), done: make(chan struct{}),
	}
	if o.Orderly {
		s.trans = mqhttp.TransOrder
	}
	hctx, hcancel := context.WithCancel(context.WithoutCancel(o.Context))
	unhook := context.AfterFunc(ses.hard, hcancel)
	s.ctx = hctx
	var pcancel context.CancelFunc
	s.poll, pcancel = context.WithCancel(ses.poll)
	s.cancel = func() {
		pcancel()
		hcancel()
		unhook()
	}
	return s
}

// aliyunTagExpression writes a tag expression ("a || b") the way the API takes it
// ("a||b"); "" and "*" are every tag.
func aliyunTagExpression(expr string) string {
	parts := strings.Split(expr, "||")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	out := strings.Join(parts, "||")
	if out == "*" {
		return ""
	}
	return out
}

// Options returns the options of the subscription.
func (s *aliyunSub) Options() broker.SubscribeOptions { return s.opts }

// Topic returns the subscribed topic.
func (s *aliyunSub) Topic() string { return s.key.topic }

// Unsubscribe stops polling and cancels the handler contexts of the subscription;
// messages delivered and not yet acknowledged come again after their invisible time.
func (s *aliyunSub) Unsubscribe(bool) error {
	b := s.b
	b.mu.Lock()
	if b.subs[s.key] == s {
		delete(b.subs, s.key)
	}
	b.mu.Unlock()
	s.stop()
	<-s.done
	return nil
}

func (s *aliyunSub) stop() { s.once.Do(s.cancel) }

// consume takes free slots (at least one, waiting for it) and asks for as many
// messages; wait is the long poll.
func (s *aliyunSub) consume(wait time.Duration) ([]mqhttp.Message, error) {
	select {
	case s.slots <- struct{}{}:
	case <-s.poll.Done():
		return nil, s.poll.Err()
	}
	n := 1
	for n < mqhttp.MaxBatch {
		select {
		case s.slots <- struct{}{}:
			n++
			continue
		default:
		}
		break
	}
	msgs, err := s.ses.client.Consume(s.poll, s.key.topic, &mqhttp.ConsumeRequest{
		Group: s.key.group, Tag: s.tag, Max: n, Wait: wait, Trans: s.trans,
	})
	if len(msgs) > n { // never more than asked; do not trust the other side
		msgs = msgs[:n]
	}
	s.release(n - len(msgs))
	return msgs, err
}

func (s *aliyunSub) release(n int) {
	for range n {
		<-s.slots
	}
}

// run is the poller.
func (s *aliyunSub) run(first []mqhttp.Message) {
	defer s.ses.tasks.done()
	defer close(s.done)
	s.dispatch(first)
	backoff := time.Duration(0)
	for {
		msgs, err := s.consume(mqhttp.MaxWait)
		if s.poll.Err() != nil {
			s.release(len(msgs))
			return
		}
		if err != nil {
			backoff = aliyunBackoff(backoff)
			s.b.log.Warnw("msg", "consume failed; polling again", "topic", s.key.topic, "group", s.key.group,
				"retryIn", backoff, "error", err)
			if !sleepCtx(s.poll, backoff) {
				return
			}
			continue
		}
		backoff = 0
		s.dispatch(msgs)
	}
}

// dispatch hands each message to a handler goroutine (it holds one slot each); an
// orderly batch runs each sharding key's messages in order on one goroutine.
func (s *aliyunSub) dispatch(msgs []mqhttp.Message) {
	if len(msgs) == 0 {
		return
	}
	if s.trans != mqhttp.TransOrder {
		for i := range msgs {
			go s.handleOne(&msgs[i])
		}
		return
	}
	ptrs := make([]*mqhttp.Message, len(msgs))
	for i := range msgs {
		ptrs[i] = &msgs[i]
	}
	for _, run := range splitInOrder(ptrs, aliyunOrderKey) {
		go s.handleInOrder(run)
	}
}

// aliyunOrderKey is what orders a message of an orderly batch: its sharding key.
func aliyunOrderKey(m *mqhttp.Message) string { return m.Properties[mqhttp.PropShardingKey] }

func (s *aliyunSub) handleOne(m *mqhttp.Message) {
	defer s.release(1)
	s.handle(m)
}

// handleInOrder handles one key's messages in order; after a failure the rest are
// left to come again.
func (s *aliyunSub) handleInOrder(ms []*mqhttp.Message) {
	defer s.release(len(ms))
	for _, m := range ms {
		if !s.handle(m) {
			return
		}
	}
}

// handle runs one delivery and acks, forwards or leaves it; true when it was acked
// (or forwarded to the dead-letter queue).
func (s *aliyunSub) handle(m *mqhttp.Message) bool {
	f := s.ses.flight
	if !f.enter() {
		return false // draining: it comes again after its invisible time
	}
	defer f.leave()
	out, err := s.process(m)
	switch {
	case out == outcomeSuccess:
		return s.ack(m)
	case out == outcomeDLQ, s.maxRec > 0 && m.ConsumedTimes-1 >= s.maxRec:
		return s.forward(m, err)
	}
	return false
}

// aliyunHeaders are a delivery's headers: the message properties (KEYS, __SHARDINGKEY
// and the API's other properties among them) plus TAGS and the driver's keys, as the
// v2 driver's.
func aliyunHeaders(topic string, m *mqhttp.Message) broker.Headers {
	h := make(broker.Headers, len(m.Properties)+4)
	for k, v := range m.Properties {
		if k != mqhttp.PropBodyEncoding {
			h[k] = v
		}
	}
	if m.Tag != "" {
		h[HeaderTags] = m.Tag
	}
	h[HeaderTopic] = topic
	h[HeaderMessageID] = m.ID
	h[HeaderReconsumeTimes] = reconsumeString(int32(max(m.ConsumedTimes-1, 0)))
	return h
}

// process decodes and handles one message.
func (s *aliyunSub) process(m *mqhttp.Message) (outcome, error) {
	b := s.b
	var start time.Time
	if b.metricsOn {
		start = time.Now()
		if m.ConsumedTimes > 1 {
			b.metrics.redelivered.Add(s.ctx, 1, s.attrs.base)
		}
	}
	raw, err := mqhttp.DecodeBody(m)
	var v broker.Any
	if err == nil {
		v, err = s.decode(raw)
	}
	if err != nil {
		b.log.Errorw("msg", "undecodable message sent to the dead-letter queue", "topic", s.key.topic,
			"group", s.key.group, "msgId", m.ID, "error", err)
		if b.metricsOn {
			b.metrics.consumed.Add(s.ctx, 1, s.attrs.dlq)
		}
		return outcomeDLQ, err
	}
	h := aliyunHeaders(s.key.topic, m)
	ev := &event{topic: s.key.topic, raw: m, msg: broker.Message{Headers: h, Body: v, Msg: m}}
	err = runHandler(s.ctx, b.log, b.tracing, s.handler, ev, s.key.group, m.ID, s.opts.AutoAck)
	deadLetter := errors.Is(err, broker.ErrDeadLetter)
	last := err != nil && (deadLetter || (s.maxRec > 0 && m.ConsumedTimes-1 >= s.maxRec))
	if b.metricsOn {
		b.metrics.recordConsume(s.ctx, s.attrs, start, err, last)
	}
	switch {
	case err == nil:
		return outcomeSuccess, nil
	case deadLetter:
		b.log.Errorw("msg", "handler dead-lettered the message", "topic", s.key.topic, "group", s.key.group,
			"msgId", m.ID, "consumedTimes", m.ConsumedTimes, "error", err)
		return outcomeDLQ, err
	}
	b.log.Warnw("msg", "handler failed; message left for redelivery", "topic", s.key.topic, "group", s.key.group,
		"msgId", m.ID, "consumedTimes", m.ConsumedTimes, "toDLQ", last, "nextConsumeTime", m.NextConsumeTime, "error", err)
	return outcomeRetry, err
}

// ack acknowledges one delivery; a failure leaves the message to come again.
func (s *aliyunSub) ack(m *mqhttp.Message) bool {
	ses := s.ses
	if !ses.tasks.start() {
		return false
	}
	defer ses.tasks.done()
	ctx, cancel := context.WithTimeout(ses.hard, s.b.sendTimeout())
	defer cancel()
	if err := ses.client.Ack(ctx, s.key.topic, s.key.group, "", m.ReceiptHandle); err != nil {
		s.b.log.Warnw("msg", "ack failed; the message comes again after its invisible time (handlers must be idempotent)",
			"topic", s.key.topic, "group", s.key.group, "msgId", m.ID, "error", err)
		return false
	}
	return true
}

// forward publishes a copy of m to the group's dead-letter topic and acks m; when the
// service refuses the copy, m stays for the service's own retry limit.
func (s *aliyunSub) forward(m *mqhttp.Message, cause error) bool {
	ses := s.ses
	if !ses.tasks.start() {
		return false
	}
	props := make(map[string]string, len(m.Properties)+2)
	for k, v := range m.Properties {
		if mqhttp.PropertyOK(k) && mqhttp.PropertyOK(v) { // a remoting producer's may not be publishable
			props[k] = v
		}
	}
	delete(props, mqhttp.PropStartDeliverTime)
	delete(props, mqhttp.PropTransCheck)
	origin := s.key.topic
	if ns := s.b.set.namespace; ns != "" {
		origin = ns + "%" + origin
	}
	props[aliyunDLQOriginTopic] = origin
	props[aliyunDLQOriginMsgID] = m.ID
	dlq := "%DLQ%" + s.key.group
	ctx, cancel := context.WithTimeout(ses.hard, s.b.sendTimeout())
	_, err := s.b.send(ctx, ses, dlq, &mqhttp.PublishRequest{Body: m.Body, Tag: m.Tag, Properties: props})
	cancel()
	ses.tasks.done()
	if err != nil {
		s.b.log.Errorw("msg", "could not forward the message to the dead-letter topic; left for the service's retry limit",
			"topic", s.key.topic, "group", s.key.group, "msgId", m.ID, "deadLetterTopic", dlq, "error", err, "cause", cause)
		return false
	}
	s.b.log.Errorw("msg", "message moved to the dead-letter topic", "topic", s.key.topic, "group", s.key.group,
		"msgId", m.ID, "consumedTimes", m.ConsumedTimes, "deadLetterTopic", dlq, "cause", cause)
	return s.ack(m)
}
