package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// consumerSeq numbers consumer client instances.
var consumerSeq atomic.Uint64

// defaultMaxReconsumeTimes is RocketMQ's default number of redeliveries.
const defaultMaxReconsumeTimes = 16

// groupConsumer is the push consumer of one consumer group with all its subscriptions.
type groupConsumer struct {
	group string
	model groupModel
	pc    rocketmq.PushConsumer
	subs  map[string]*subscription // by topic
	// started is when Start last ran; see settle.
	started time.Time
	// refresh fetches routes again shortly after the first Start; see routeRefreshDelay.
	refresh *time.Timer
}

// routeRefreshDelay is when a new consumer looks up its routes a second time. The
// broker creates %RETRY%<group> on the consumer's first heartbeat, which Start sends
// after it fetched routes, and the client asks again only every 30 s: until then failed
// messages cannot be redelivered (measured: first redelivery after 20-40 s on RocketMQ
// 4.9.4). Start on a running consumer fetches all its routes, heartbeats and rebalances.
const routeRefreshDelay = 2 * time.Second

// refreshRoutes runs Start again on g if it is still the group's consumer.
func (b *Broker) refreshRoutes(g *groupConsumer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.groups[g.group] != g {
		return
	}
	err := g.pc.Start()
	g.started = time.Now()
	if err != nil {
		// The client shuts a consumer down when a subscribed topic has lost its route.
		b.log.Errorw("msg", "consumer stopped by the client on a route refresh", "group", g.group,
			"topics", topicsOf(g.subs), "error", err)
		delete(b.groups, g.group)
		for _, s := range g.subs {
			s.stop()
		}
	}
}

// shutdown stops the refresh timer and the consumer.
func (g *groupConsumer) shutdown() error {
	if g.refresh != nil {
		g.refresh.Stop()
	}
	return g.pc.Shutdown()
}

// settleTime is how long after a consumer's Start its Shutdown waits. Start leaves a
// goroutine rebalancing (RPCs to the broker), and the client's Shutdown writes the
// closed flag those RPCs read without synchronisation: a data race the race detector
// reports when a consumer is shut down right after it started (tests do that). Long-lived
// consumers never wait.
const settleTime = time.Second

// settle waits until every consumer in gs is settleTime past its last Start.
func settle(gs ...*groupConsumer) {
	var last time.Time
	for _, g := range gs {
		if g.started.After(last) {
			last = g.started
		}
	}
	if d := time.Until(last.Add(settleTime)); d > 0 {
		time.Sleep(d)
	}
}

// groupModel are the settings every subscription of a group must share.
type groupModel struct {
	broadcast   bool
	orderly     bool
	concurrency int
	maxRecon    int
	from        broker.ConsumeFrom
	fromTime    time.Time
	timeout     time.Duration // ConsumeTimeout; 0: the client's 15 min
}

// subscription is one (group, topic) registration; it implements broker.Subscriber.
type subscription struct {
	b       *Broker
	ses     *session
	group   string
	topic   string
	opts    broker.SubscribeOptions
	handler broker.Handler
	decode  broker.Decoder
	attrs   *consumeAttrs
	ctx     context.Context // parent of handler contexts: values of opts.Context, cancelled by a forced stop
	stop    func() bool
	maxRec  int32
	retryLv int
	suspend time.Duration
}

// Subscribe registers handler for (group, topic) and (re)starts the group's consumer.
func (b *Broker) Subscribe(topic string, handler broker.Handler, binder broker.Binder, opts ...broker.SubscribeOption) (broker.Subscriber, error) {
	o := broker.NewSubscribeOptions(opts...)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ses == nil {
		return nil, ErrNotConnected
	}
	if topic == "" {
		return nil, errors.New("rocketmq: subscribe: empty topic")
	}
	if handler == nil {
		return nil, fmt.Errorf("rocketmq: subscribe to %s: nil handler", topic)
	}
	if err := checkSubscribeOptions(&o); err != nil {
		return nil, fmt.Errorf("rocketmq: subscribe to %s: %w", topic, err)
	}
	group := o.Queue
	if group == "" {
		group = b.set.groupName
	}
	if group == "" {
		return nil, fmt.Errorf("rocketmq: subscribe to %s: no consumer group (broker.WithQueueName or WithGroupName)", topic)
	}
	o.Queue = group
	model := groupModel{broadcast: o.Broadcast, orderly: o.Orderly, concurrency: o.Concurrency,
		maxRecon: o.MaxReconsumeTimes, from: o.ConsumeFrom, fromTime: o.ConsumeTimestamp,
		timeout: o.ConsumeTimeout}
	if model.maxRecon <= 0 {
		model.maxRecon = defaultMaxReconsumeTimes
	}

	sub := b.newSubscription(group, topic, handler, binder, o, model)
	g := b.groups[group]
	if g == nil {
		if err := b.startGroupLocked(group, model, map[string]*subscription{topic: sub}); err != nil {
			sub.stop()
			return nil, err
		}
		return sub, nil
	}
	if g.model != model {
		sub.stop()
		return nil, fmt.Errorf("rocketmq: subscribe to %s in group %s: the group already consumes %v with other settings (model, order, concurrency, reconsume times, consume timeout and start point are per group)",
			topic, group, topicsOf(g.subs))
	}
	if _, dup := g.subs[topic]; dup {
		sub.stop()
		return nil, fmt.Errorf("rocketmq: group %s already subscribes topic %s", group, topic)
	}
	if err := g.add(sub); err != nil {
		// The client shuts a consumer down when Start finds a topic without route.
		sub.stop()
		for _, s := range g.subs {
			s.stop()
		}
		_ = g.shutdown() // already shut down by the client; this stops the refresh timer
		delete(b.groups, group)
		return nil, fmt.Errorf("%w (the consumer of group %s stopped; its topics %v are no longer consumed)", err, group, topicsOf(g.subs))
	}
	return sub, nil
}

// checkSubscribeOptions refuses the options this driver would ignore for the
// subscription's mode, and values no mode can use, naming each.
func checkSubscribeOptions(o *broker.SubscribeOptions) error {
	var errs []error
	mode := "a clustering subscription"
	switch {
	case o.Orderly:
		mode = "an orderly subscription"
	case o.Broadcast:
		mode = "a broadcast subscription"
	}
	switch {
	case o.RetryDelayLevel < 0:
		errs = append(errs, fmt.Errorf("WithRetryDelayLevel(%d): must not be negative", o.RetryDelayLevel))
	case o.RetryDelayLevel > 0 && (o.Orderly || o.Broadcast):
		errs = append(errs, fmt.Errorf("WithRetryDelayLevel: %s retries a failed message in this process after "+
			"WithSuspendInterval, not through the broker's delay levels", mode))
	}
	switch {
	case o.SuspendInterval < 0:
		errs = append(errs, errors.New("WithSuspendInterval: must not be negative"))
	case o.SuspendInterval > 0 && !o.Orderly && !o.Broadcast:
		errs = append(errs, errors.New("WithSuspendInterval: a clustering subscription has its failed messages "+
			"redelivered by the broker (WithRetryDelayLevel); the interval applies to orderly and broadcast ones"))
	}
	switch {
	case o.ConsumeTimeout < 0:
		errs = append(errs, errors.New("WithConsumeTimeout: must not be negative"))
	case o.ConsumeTimeout > 0 && o.Orderly:
		errs = append(errs, errors.New("WithConsumeTimeout: rocketmq-client-go/v2 has no consume timeout for orderly subscriptions"))
	}
	if o.MaxReconsumeTimes < 0 {
		errs = append(errs, fmt.Errorf("WithMaxReconsumeTimes(%d): must not be negative", o.MaxReconsumeTimes))
	}
	if o.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("WithConcurrency(%d): must not be negative", o.Concurrency))
	}
	if o.FilterType == broker.FilterSQL92 && strings.TrimSpace(o.Filter) == "" {
		errs = append(errs, errors.New("WithSQLSelector: empty expression"))
	}
	switch {
	case o.ConsumeFrom == broker.ConsumeFromTimestamp && o.ConsumeTimestamp.IsZero():
		errs = append(errs, errors.New("ConsumeFromTimestamp without a timestamp (WithConsumeFromTimestamp)"))
	case o.ConsumeFrom != broker.ConsumeFromTimestamp && !o.ConsumeTimestamp.IsZero():
		errs = append(errs, errors.New("ConsumeTimestamp is set but ConsumeFrom is not ConsumeFromTimestamp"))
	}
	return errors.Join(errs...)
}

func topicsOf(m map[string]*subscription) []string {
	out := make([]string, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	return out
}

func (b *Broker) newSubscription(group, topic string, h broker.Handler, binder broker.Binder, o broker.SubscribeOptions, model groupModel) *subscription {
	ctx, cancel := context.WithCancel(context.WithoutCancel(o.Context))
	stop := context.AfterFunc(b.ses.hard, cancel)
	suspend := o.SuspendInterval
	if suspend <= 0 {
		suspend = time.Second
	}
	return &subscription{
		b: b, ses: b.ses, group: group, topic: topic, opts: o,
		handler: broker.Chain(h, o.Middlewares...), decode: broker.NewDecoder(b.opts.Codec, binder),
		attrs: newConsumeAttrs(topic, group),
		ctx:   ctx,
		stop: func() bool {
			cancel()
			return stop()
		},
		maxRec: int32(model.maxRecon), retryLv: o.RetryDelayLevel, suspend: suspend,
	}
}

// startGroupLocked starts the group's consumer with subs.
func (b *Broker) startGroupLocked(group string, model groupModel, subs map[string]*subscription) error {
	pc, err := b.newPushConsumer(group, model)
	if err != nil {
		return err
	}
	g := &groupConsumer{group: group, model: model, pc: pc, subs: map[string]*subscription{}}
	for _, s := range subs {
		if err := g.subscribe(s); err != nil {
			_ = pc.Shutdown()
			return err
		}
	}
	if err := pc.Start(); err != nil {
		_ = pc.Shutdown()
		return fmt.Errorf("rocketmq: start consumer group %s for %v: %w", group, topicsOf(subs), err)
	}
	g.started = time.Now()
	g.refresh = time.AfterFunc(routeRefreshDelay, func() { b.refreshRoutes(g) })
	b.groups[group] = g
	return nil
}

// add subscribes one more topic on the running consumer. Start again is how the client
// takes a new subscription in: it fetches routes, sends a heartbeat with the new
// subscription and rebalances. (Restarting the consumer instead races in the client
// when Shutdown follows Start closely.)
func (g *groupConsumer) add(s *subscription) error {
	if err := g.subscribe(s); err != nil {
		return err
	}
	err := g.pc.Start()
	g.started = time.Now()
	if err != nil {
		delete(g.subs, s.topic)
		return fmt.Errorf("rocketmq: add topic %s to consumer group %s: %w", s.topic, g.group, err)
	}
	return nil
}

// selectorFor maps the subscription's filter onto the client's selector.
func selectorFor(o *broker.SubscribeOptions) consumer.MessageSelector {
	sel := consumer.MessageSelector{Type: consumer.TAG, Expression: o.Filter}
	if o.FilterType == broker.FilterSQL92 {
		sel.Type = consumer.SQL92
	} else if sel.Expression == "" {
		sel.Expression = "*"
	}
	return sel
}

func (g *groupConsumer) subscribe(s *subscription) error {
	sel := selectorFor(&s.opts)
	f := s.consumeConcurrently
	if g.model.orderly {
		f = s.consumeOrderly
	} else if g.model.broadcast {
		f = s.consumeBroadcast
	}
	if err := g.pc.Subscribe(s.topic, sel, f); err != nil {
		return fmt.Errorf("rocketmq: subscribe %s in group %s: %w", s.topic, g.group, err)
	}
	g.subs[s.topic] = s
	return nil
}

func (b *Broker) newPushConsumer(group string, m groupModel) (rocketmq.PushConsumer, error) {
	opts := []consumer.Option{
		consumer.WithGroupName(group),
		consumer.WithNsResolver(b.resolver()),
		// One client instance per consumer: creating a consumer on a running instance
		// races in the client (GetOrNewRocketMQClient writes bundleClient while the
		// instance's route poller reads it).
		consumer.WithInstance(fmt.Sprintf("%s-c%d", b.instance, consumerSeq.Add(1))),
		consumer.WithMaxReconsumeTimes(int32(m.maxRecon)),
		consumer.WithConsumerOrder(m.orderly),
		consumer.WithAutoCommit(true),
	}
	if m.broadcast {
		opts = append(opts, consumer.WithConsumerModel(consumer.BroadCasting))
	} else {
		opts = append(opts, consumer.WithConsumerModel(consumer.Clustering))
	}
	if m.concurrency > 0 {
		opts = append(opts, consumer.WithConsumeGoroutineNums(m.concurrency))
	}
	if m.timeout > 0 {
		opts = append(opts, consumer.WithConsumeTimeout(m.timeout))
	}
	switch m.from {
	case broker.ConsumeFromFirst:
		opts = append(opts, consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset))
	case broker.ConsumeFromTimestamp:
		// The client parses the timestamp as UTC (time.Parse), to the second.
		opts = append(opts, consumer.WithConsumeFromWhere(consumer.ConsumeFromTimestamp),
			consumer.WithConsumeTimestamp(m.fromTime.UTC().Format("20060102150405")))
	default:
		opts = append(opts, consumer.WithConsumeFromWhere(consumer.ConsumeFromLastOffset))
	}
	if b.set.namespace != "" {
		opts = append(opts, consumer.WithNamespace(b.set.namespace))
	}
	if b.set.retryCount > 0 {
		opts = append(opts, consumer.WithRetry(b.set.retryCount))
	}
	if c := b.credentials(); !c.IsEmpty() {
		opts = append(opts, consumer.WithCredentials(c))
	}
	if b.useTLS {
		opts = append(opts, consumer.WithTls(true))
	}
	if b.set.enableTrace {
		opts = append(opts, consumer.WithTrace(&primitive.TraceConfig{
			GroupName: group, Access: primitive.Local, Resolver: b.resolver(), Credentials: b.credentials(),
		}))
	}
	pc, err := rocketmq.NewPushConsumer(opts...)
	if err != nil {
		return nil, fmt.Errorf("rocketmq: create consumer for group %s: %w", group, err)
	}
	return pc, nil
}

// Options returns the options of the subscription.
func (s *subscription) Options() broker.SubscribeOptions { return s.opts }

// Topic returns the subscribed topic.
func (s *subscription) Topic() string { return s.topic }

// ErrKeepSubscription is returned by Unsubscribe(false): this driver keeps no
// subscription apart from its running consumer, so there is no bookkeeping to keep.
var ErrKeepSubscription = errors.New("rocketmq: Unsubscribe(removeFromManager=false) is not supported: " +
	"the driver keeps no subscription without its consumer; call Unsubscribe(true) (Disconnect stops every subscription)")

// Unsubscribe(true) removes the topic from its group: the group's consumer shuts down
// and, when other topics remain, starts again with them (their in-flight messages come
// again). Unsubscribe(false) changes nothing and returns ErrKeepSubscription.
func (s *subscription) Unsubscribe(removeFromManager bool) error {
	if !removeFromManager {
		return ErrKeepSubscription
	}
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	defer s.stop()
	g := b.groups[s.group]
	if g == nil || g.subs[s.topic] != s {
		return nil
	}
	delete(b.groups, s.group)
	settle(g)
	if err := g.shutdown(); err != nil {
		return fmt.Errorf("rocketmq: unsubscribe %s: shut down consumer group %s: %w", s.topic, s.group, err)
	}
	rest := make(map[string]*subscription, len(g.subs))
	for t, x := range g.subs {
		if t != s.topic {
			rest[t] = x
		}
	}
	if len(rest) == 0 {
		return nil
	}
	return b.startGroupLocked(s.group, g.model, rest)
}

// outcome of one delivery.
type outcome int

const (
	outcomeSuccess outcome = iota
	outcomeRetry
	outcomeDLQ // undecodable: straight to the dead-letter queue
)

// process decodes and handles one message.
func (s *subscription) process(m *primitive.MessageExt) (outcome, error) {
	var start time.Time
	if s.b.metricsOn {
		start = time.Now()
		if m.ReconsumeTimes > 0 {
			s.b.metrics.redelivered.Add(s.ctx, 1, s.attrs.base)
		}
	}
	v, err := s.decode(m.Body)
	if err != nil {
		return s.undecodable(m, err)
	}
	return s.deliver(m, v, start)
}

// undecodable sends a message whose body the codec cannot decode to the dead-letter queue.
func (s *subscription) undecodable(m *primitive.MessageExt, err error) (outcome, error) {
	b := s.b
	b.log.Errorw("msg", "undecodable message sent to the dead-letter queue",
		"topic", s.topic, "group", s.group, "msgId", m.MsgId, "error", err)
	if b.metricsOn {
		b.metrics.consumed.Add(s.ctx, 1, s.attrs.dlq)
	}
	return outcomeDLQ, err
}

// deliver hands the decoded body v to the handler and maps its outcome.
func (s *subscription) deliver(m *primitive.MessageExt, v broker.Any, start time.Time) (outcome, error) {
	b := s.b
	h := headers(s.topic, m)
	ev := &event{topic: s.topic, raw: m, msg: broker.Message{
		Headers: h, Body: v, Partition: queueID(m), Offset: m.QueueOffset, Msg: m,
	}}
	ctx := s.ctx
	if h[primitive.PropertyMessageReplyToClient] != "" {
		ctx = broker.NewReplierContext(ctx, &replier{b: b, req: m})
	}
	err := runHandler(ctx, b.log, b.tracing, s.handler, ev, s.group, m.MsgId, s.opts.AutoAck)
	deadLetter := errors.Is(err, broker.ErrDeadLetter) && !s.opts.Broadcast
	last := err != nil && (deadLetter || m.ReconsumeTimes >= s.maxRec) && !s.opts.Broadcast
	if b.metricsOn {
		b.metrics.recordConsume(s.ctx, s.attrs, start, err, last)
	}
	if err == nil {
		return outcomeSuccess, nil
	}
	if deadLetter {
		b.log.Errorw("msg", "handler dead-lettered the message", "topic", s.topic, "group", s.group,
			"msgId", m.MsgId, "reconsumeTimes", m.ReconsumeTimes, "error", err)
		return outcomeDLQ, err
	}
	b.log.Warnw("msg", "handler failed; message handed back", "topic", s.topic, "group", s.group,
		"msgId", m.MsgId, "reconsumeTimes", m.ReconsumeTimes, "toDLQ", last, "error", err)
	return outcomeRetry, err
}

// park holds a delivery that arrived while draining until the consumer has shut down;
// the client then ignores the result, so the message stays unacknowledged.
func (s *subscription) park() { <-s.ses.release }

func (s *subscription) consumeConcurrently(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
	f := s.ses.flight
	if !f.enter() {
		s.park()
		return consumer.ConsumeRetryLater, nil
	}
	defer f.leave()
	reserveStack(0)
	for _, m := range msgs {
		if out, _ := s.process(m); out != outcomeSuccess {
			s.retryLater(ctx, out)
			return consumer.ConsumeRetryLater, nil
		}
	}
	return consumer.ConsumeSuccess, nil
}

// retryLater sets the delay level of a failed concurrent delivery: the subscription's
// retry level, or -1 (the broker moves it to %DLQ% at once) to dead-letter it.
func (s *subscription) retryLater(ctx context.Context, out outcome) {
	cc, _ := primitive.GetConcurrentlyCtx(ctx)
	switch {
	case cc == nil:
	case out == outcomeDLQ:
		cc.DelayLevelWhenNextConsume = -1
	case s.retryLv > 0:
		cc.DelayLevelWhenNextConsume = s.retryLv
	}
}

// stackReserve is how much stack reserveStack asks for: with it the stack of a delivery
// goroutine grows once, to 8 KiB, which decoding a typical JSON event and the handler
// chain fit in.
const stackReserve = 4 << 10

// reserveStack grows the calling goroutine's stack to fit stackReserve more bytes.
// rocketmq-client-go runs every concurrent delivery on a new goroutine, whose stack
// starts at 2 KiB and doubles by copying when a call needs more; a copy costs in
// proportion to the frames on the stack. Decoding a body deep under the transport's
// frames made it grow twice, the second time with a deep stack to copy: 1.7 µs a
// message on a 1 KiB JSON event (BenchmarkDeliveryGoroutine: driver ÷ raw callback 1.45
// without, 1.10 with). Growing once, here, while the stack is shallow, costs a copy of
// a few frames and zeroing 4 KiB.
//
//go:noinline
func reserveStack(i int) byte {
	var b [stackReserve]byte
	return b[i]
}

func (s *subscription) consumeOrderly(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
	f := s.ses.flight
	if !f.enter() {
		s.park()
		return consumer.SuspendCurrentQueueAMoment, nil
	}
	defer f.leave()
	oc, _ := primitive.GetOrderlyCtx(ctx)
	for _, m := range msgs {
		switch out, _ := s.process(m); out {
		case outcomeRetry:
			if oc != nil {
				oc.SuspendCurrentQueueTimeMillis = int(s.suspend / time.Millisecond)
			}
			return consumer.SuspendCurrentQueueAMoment, nil
		case outcomeDLQ:
			// Past the limit, the client's orderly path sends the message back with
			// delay level -1: the dead-letter queue.
			m.ReconsumeTimes = s.maxRec + 1
			return consumer.SuspendCurrentQueueAMoment, nil
		}
	}
	return consumer.ConsumeSuccess, nil
}

// consumeBroadcast retries a failed handler in process: broadcast messages have no
// broker-side retry, and the client drops what fails.
func (s *subscription) consumeBroadcast(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
	f := s.ses.flight
	if !f.enter() {
		s.park()
		return consumer.ConsumeRetryLater, nil
	}
	defer f.leave()
	for _, m := range msgs {
		for attempt := int32(0); ; attempt++ {
			out, err := s.process(m)
			if out == outcomeSuccess {
				break
			}
			if out == outcomeDLQ || attempt >= s.maxRec {
				s.b.log.Errorw("msg", "broadcast message dropped after failures", "topic", s.topic,
					"group", s.group, "msgId", m.MsgId, "attempts", attempt+1, "error", err)
				break
			}
			m.ReconsumeTimes++
			select {
			case <-time.After(s.suspend):
			case <-s.ctx.Done():
				return consumer.ConsumeRetryLater, nil
			}
		}
	}
	return consumer.ConsumeSuccess, nil
}

// createReply builds the reply message for a request.
func createReply(req *primitive.MessageExt) (*primitive.Message, error) {
	m, err := consumer.CreateReplyMessage(req, nil)
	if err != nil {
		return nil, fmt.Errorf("reply to request %s: %w", req.MsgId, err)
	}
	return m, nil
}
