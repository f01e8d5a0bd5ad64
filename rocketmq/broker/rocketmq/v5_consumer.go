package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/rocketmq/broker"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// v5Group is the consumer of one group: one RocketMQ 5 push-consumer client whose
// settings list the group's subscriptions, and what the server's answer to the
// settings said: FIFO or not, the retry policy (max attempts and back-off), the batch
// size and the long polling. Its subscriptions are in subs (guarded by V5Broker.mu).
//
// Flow control, shared by the group's subscriptions: slots bounds the handlers
// running at once (WithConcurrency); credits bounds the messages received and not yet
// settled (handled and acknowledged, or given back) to the slots plus one batch per
// receiver, so receivers fetch whole batches while handlers work (one receive and,
// mostly, one ack per batch instead of one call per message) and memory stays bounded.
type v5Group struct {
	b       *V5Broker
	ses     *v5Session
	name    string
	client  *v5Client
	model   groupModel
	slots   chan struct{}
	credits chan struct{}
	// settles tracks acks, changes and forwards of handled messages: shutdown waits for
	// them before the client says goodbye, and refuses later ones (a handler that
	// outlives Disconnect cannot settle its message, which comes again).
	settles tasks

	fifo        bool
	policy      *v2.RetryPolicy
	batch       int
	longPolling time.Duration

	subs map[string]*v5Sub
}

// v5MaxLongPolling bounds the long polling a server's settings (or WithLongPollingTimeout)
// may ask for; the proxy's own maximum is 20 s.
const v5MaxLongPolling = time.Minute

// v5DefaultMaxAttempts is the delivery attempts when the server names none (the
// proxy's default: 16 retries).
const v5DefaultMaxAttempts = defaultMaxReconsumeTimes + 1

// Subscribe registers handler for (group, topic): the group's consumer client starts
// with the first topic (its settings answered by the server within the request
// timeout), later topics join its settings. The topic must exist (QueryAssignment;
// RocketMQ 5 proxies do not create topics). Options the protocol has no counterpart
// for are refused with an error naming them: broadcast consumption
// (WithConsumerModel(BroadCasting)) and WithConsumeFromTimestamp; WithOrderly needs a
// group the server declares FIFO (consumeMessageOrderly).
func (b *V5Broker) Subscribe(topic string, handler broker.Handler, binder broker.Binder, opts ...broker.SubscribeOption) (broker.Subscriber, error) {
	o := broker.NewSubscribeOptions(opts...)
	if topic == "" {
		return nil, errors.New("rocketmq v5: subscribe: empty topic")
	}
	if handler == nil {
		return nil, fmt.Errorf("rocketmq v5: subscribe to %s: nil handler", topic)
	}
	switch {
	case o.Broadcast:
		return nil, fmt.Errorf("rocketmq v5: subscribe to %s: WithConsumerModel(BroadCasting): broadcast consumption is %w", topic, ErrV5Unsupported)
	case o.ConsumeFrom == broker.ConsumeFromTimestamp:
		return nil, fmt.Errorf("rocketmq v5: subscribe to %s: WithConsumeFromTimestamp: a start time is %w (the server starts a new group itself)", topic, ErrV5Unsupported)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ses := b.ses.Load()
	if ses == nil {
		return nil, ErrNotConnected
	}
	group := o.Queue
	if group == "" {
		group = b.set.groupName
	}
	if group == "" {
		return nil, fmt.Errorf("rocketmq v5: subscribe to %s: no consumer group (broker.WithQueueName or WithGroupName)", topic)
	}
	o.Queue = group
	model := groupModel{orderly: o.Orderly, concurrency: o.Concurrency, maxRecon: o.MaxReconsumeTimes,
		from: o.ConsumeFrom, timeout: o.ConsumeTimeout}
	filter := &v2.FilterExpression{Type: v2.FilterType_TAG, Expression: o.Filter}
	if o.FilterType == broker.FilterSQL92 {
		filter.Type = v2.FilterType_SQL
	} else if filter.Expression == "" {
		filter.Expression = "*"
	}

	g := ses.groups[group]
	if g != nil {
		if g.model != model {
			return nil, fmt.Errorf("rocketmq v5: subscribe to %s in group %s: the group already consumes %v with other settings (order, concurrency, reconsume times, invisible duration and start point are per group)",
				topic, group, topicsOfV5(g.subs))
		}
		if _, dup := g.subs[topic]; dup {
			return nil, fmt.Errorf("rocketmq v5: group %s already subscribes topic %s", group, topic)
		}
	}
	id := newClientID(b.instance, "consumer")
	if g != nil {
		id = g.client.id
	}
	queues, err := queryAssignment(ses.conn, id, topic, group)
	if err != nil {
		return nil, fmt.Errorf("rocketmq v5: subscribe to %s in group %s: %w", topic, group, err)
	}
	entry := &v2.SubscriptionEntry{Topic: ses.conn.resource(topic), Expression: filter}
	if g == nil {
		if g, err = b.startGroup(ses, id, group, model, entry); err != nil {
			return nil, err
		}
	} else {
		g.client.updateSettings(func(s *v2.Settings) {
			sub := s.GetSubscription()
			sub.Subscriptions = append(sub.Subscriptions, entry)
		})
	}
	if o.ConsumeFrom == broker.ConsumeFromFirst {
		b.log.Infow("msg", "WithConsumeFromFirst: a RocketMQ 5 server starts a new group itself (at the beginning of a queue while its first message is in memory, else at its end)",
			"group", group, "topic", topic)
	}
	s := g.newSub(topic, handler, binder, o, filter, queues)
	g.subs[topic] = s
	s.start()
	return s, nil
}

// startGroup starts the group's client with its first subscription and reads the
// server's answer.
func (b *V5Broker) startGroup(ses *v5Session, id, group string, model groupModel, entry *v2.SubscriptionEntry) (*v5Group, error) {
	st := ses.conn.baseSettings(v2.ClientType_PUSH_CONSUMER)
	st.PubSub = &v2.Settings_Subscription{Subscription: &v2.Subscription{
		Group: ses.conn.resource(group), Subscriptions: []*v2.SubscriptionEntry{entry},
	}}
	c := startClient(ses.conn, id, v2.ClientType_PUSH_CONSUMER, group, st, b.log, nil)
	ctx, cancel := context.WithTimeout(context.Background(), max(b.timeout, 10*time.Second))
	defer cancel()
	answer, err := c.waitReady(ctx)
	if err == nil {
		err = c.heartbeat(ctx)
	}
	fifo := answer.GetSubscription().GetFifo()
	if err == nil && model.orderly && !fifo {
		err = fmt.Errorf("WithOrderly needs a FIFO consumer group, and the server says %s is not one (create it with consumeMessageOrderly: mqadmin updateSubGroup -g %s -o true)", group, group)
	}
	if err != nil {
		_ = c.close(ctx)
		return nil, fmt.Errorf("rocketmq v5: start consumer group %s: %w", group, err)
	}
	if fifo && !model.orderly {
		b.log.Infow("msg", "the server says the group is FIFO: its messages are consumed in order per message group", "group", group)
	}
	g := &v5Group{
		b: b, ses: ses, name: group, client: c, model: model,
		fifo: fifo, policy: answer.GetBackoffPolicy(), batch: int(answer.GetSubscription().GetReceiveBatchSize()),
		longPolling: answer.GetSubscription().GetLongPollingTimeout().AsDuration(),
		subs:        make(map[string]*v5Sub),
	}
	if g.batch <= 0 || g.batch > 32 {
		g.batch = 32
	}
	if b.set.longPolling > 0 {
		g.longPolling = b.set.longPolling
	}
	if g.longPolling <= 0 {
		g.longPolling = 20 * time.Second
	}
	g.longPolling = min(g.longPolling, v5MaxLongPolling)
	n := model.concurrency
	if n <= 0 {
		n = 20
	}
	g.slots = make(chan struct{}, n)
	g.credits = make(chan struct{}, n+b.receivers()*g.batch)
	ses.groups[group] = g
	return g, nil
}

// maxAttempts is the server's delivery attempts for the group.
func (g *v5Group) maxAttempts() int32 {
	if n := g.policy.GetMaxAttempts(); n > 0 {
		return n
	}
	return v5DefaultMaxAttempts
}

// queryAssignment asks which queues the group reads of topic (one entry, queue -1,
// for a group the server balances itself; one per queue for a FIFO group).
func queryAssignment(conn *v5Conn, clientID, topic, group string) ([]*v2.MessageQueue, error) {
	ctx, cancel := conn.call(context.Background(), clientID)
	defer cancel()
	resp, err := conn.api.QueryAssignment(ctx, &v2.QueryAssignmentRequest{
		Topic: conn.resource(topic), Group: conn.resource(group), Endpoints: conn.endpoints,
	})
	if err != nil {
		return nil, fmt.Errorf("query assignment: %w", err)
	}
	if err := statusErr("query assignment", resp.GetStatus()); err != nil {
		if hasCode(err, v2.Code_TOPIC_NOT_FOUND) {
			return nil, fmt.Errorf("%w (RocketMQ 5 proxies do not create topics)", err)
		}
		return nil, err
	}
	var queues []*v2.MessageQueue
	for _, a := range resp.GetAssignments() {
		if mq := a.GetMessageQueue(); mq != nil {
			queues = append(queues, mq)
		}
	}
	if len(queues) == 0 {
		return nil, errors.New("query assignment: no queue assigned")
	}
	return queues, nil
}

// stopReceiving ends every receiver of the group (Drain); handlers keep running.
func (g *v5Group) stopReceiving() {
	for _, s := range g.subsSnapshot() {
		s.stopReceivers()
	}
}

func (g *v5Group) subsSnapshot() []*v5Sub {
	g.b.mu.Lock()
	defer g.b.mu.Unlock()
	return g.subsLocked()
}

func (g *v5Group) subsLocked() []*v5Sub {
	out := make([]*v5Sub, 0, len(g.subs))
	for _, s := range g.subs {
		out = append(out, s)
	}
	return out
}

// shutdown stops the receivers, waits for the settling of messages whose handlers
// are done, and says goodbye. Called with V5Broker.mu held.
func (g *v5Group) shutdown() error {
	for _, s := range g.subsLocked() {
		s.stopReceivers()
		s.stopCtx()
	}
	g.settles.closeAndWait()
	ctx, cancel := context.WithTimeout(context.Background(), g.b.timeout)
	defer cancel()
	return g.client.close(ctx)
}

func topicsOfV5(m map[string]*v5Sub) []string {
	out := make([]string, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	return out
}

// v5Sub is one (group, topic) subscription; it implements broker.Subscriber.
type v5Sub struct {
	g        *v5Group
	topic    string
	opts     broker.SubscribeOptions
	handler  broker.Handler
	decode   broker.Decoder
	attrs    *consumeAttrs
	filter   *v2.FilterExpression
	queues   []*v2.MessageQueue
	ctx      context.Context // parent of handler contexts: opts.Context's values, cancelled by a forced stop
	stopCtx  func()
	maxTries int32         // delivery attempts before the dead-letter queue
	delay    time.Duration // back-off of a redelivery (0: the server's policy)
	suspend  time.Duration // pause of a FIFO group before it retries (0: the server's policy)

	acks       acker
	recvCtx    context.Context // cancelled when receiving stops
	recvCancel context.CancelFunc
	recvWG     sync.WaitGroup
	waiting    sync.WaitGroup // received messages that have neither started nor been given back
}

func (g *v5Group) newSub(topic string, h broker.Handler, binder broker.Binder, o broker.SubscribeOptions, filter *v2.FilterExpression, queues []*v2.MessageQueue) *v5Sub {
	b := g.b
	ctx, cancel := context.WithCancel(context.WithoutCancel(o.Context))
	stop := context.AfterFunc(g.ses.hard, cancel)
	s := &v5Sub{
		g: g, topic: topic, opts: o,
		handler: broker.Chain(h, o.Middlewares...), decode: broker.NewDecoder(b.opts.Codec, binder),
		attrs: newConsumeAttrs(topic, g.name), filter: filter, queues: queues,
		ctx: ctx, stopCtx: func() { cancel(); stop() },
		maxTries: g.maxAttempts(), suspend: o.SuspendInterval,
	}
	if o.MaxReconsumeTimes > 0 {
		if want := int32(o.MaxReconsumeTimes) + 1; want <= s.maxTries {
			s.maxTries = want
		} else {
			b.log.Warnw("msg", "WithMaxReconsumeTimes is above the group's retry limit on the server, which moves the message to the dead-letter queue first",
				"group", g.name, "topic", topic, "want", o.MaxReconsumeTimes, "serverMaxAttempts", s.maxTries)
		}
	}
	if o.RetryDelayLevel > 0 {
		if d, err := delayLevelDuration(o.RetryDelayLevel); err == nil {
			s.delay = d
		} else {
			b.log.Warnw("msg", "WithRetryDelayLevel out of range; using the server's back-off", "error", err)
		}
	}
	s.acks.s = s
	s.recvCtx, s.recvCancel = context.WithCancel(context.Background())
	return s
}

// Options returns the options of the subscription.
func (s *v5Sub) Options() broker.SubscribeOptions { return s.opts }

// Topic returns the subscribed topic.
func (s *v5Sub) Topic() string { return s.topic }

// Unsubscribe stops receiving the topic (running handlers finish; received messages
// not started are given back) and removes it from the group's settings; the group's
// client says goodbye with its last topic.
func (s *v5Sub) Unsubscribe(bool) error {
	g := s.g
	b := g.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if g.subs[s.topic] != s {
		return nil
	}
	s.stopReceivers()
	s.stopCtx()
	delete(g.subs, s.topic)
	if len(g.subs) == 0 {
		if g.ses.groups[g.name] == g {
			delete(g.ses.groups, g.name)
		}
		g.settles.closeAndWait()
		if err := g.client.close(context.Background()); err != nil {
			return fmt.Errorf("rocketmq v5: unsubscribe %s: %w", s.topic, err)
		}
		return nil
	}
	g.client.updateSettings(func(st *v2.Settings) {
		sub := st.GetSubscription()
		kept := sub.Subscriptions[:0]
		for _, e := range sub.Subscriptions {
			if e.GetTopic().GetName() != s.topic {
				kept = append(kept, e)
			}
		}
		sub.Subscriptions = kept
	})
	return nil
}

// receivers is the number of receivers per subscription.
func (b *V5Broker) receivers() int {
	n := b.set.receivers
	if n <= 0 {
		n = DefaultV5Receivers
	}
	return min(n, maxV5Receivers)
}

// start runs the receivers.
func (s *v5Sub) start() {
	for i := range s.g.b.receivers() {
		s.recvWG.Add(1)
		go s.receiveLoop(i)
	}
}

// stopReceivers cancels the receives and waits until every receiver has returned and
// every message received has started its handler or been given back.
func (s *v5Sub) stopReceivers() {
	s.recvCancel()
	s.recvWG.Wait()
	s.waiting.Wait()
}

// v5ReceiveBackoff is the pause after a failed receive.
const v5ReceiveBackoff = time.Second

// receiveLoop receives until stopped: it takes a credit (waiting for one), as many
// more as it gets up to the batch size (see gatherCredits), asks for that many
// messages and dispatches them (see dispatch): each to a goroutine of its own, which
// waits for a handler slot, or for a FIFO group each message group's to one.
func (s *v5Sub) receiveLoop(i int) {
	defer s.recvWG.Done()
	g := s.g
	for turn := i; ; turn++ {
		select {
		case g.credits <- struct{}{}:
		case <-s.recvCtx.Done():
			return
		}
		n := s.gatherCredits(g.batch)
		msgs, err := s.receive(s.recvCtx, s.queues[turn%len(s.queues)], n)
		for range n - len(msgs) {
			<-g.credits
		}
		s.dispatch(msgs)
		if err != nil {
			if s.recvCtx.Err() != nil {
				return
			}
			g.b.log.Warnw("msg", "receive failed", "group", g.name, "topic", s.topic, "error", err)
			select {
			case <-s.recvCtx.Done():
				return
			case <-time.After(v5ReceiveBackoff):
			}
		}
	}
}

// v5GatherWait bounds how long a receiver that holds a credit waits for more before
// it receives, when the group has fewer free than a batch: messages settling together
// then share one receive. An idle subscription is not slowed: its receiver waits in
// the server's long polling with the credits it has, and a message stored meanwhile
// is delivered at once.
const v5GatherWait = 2 * time.Millisecond

// gatherCredits takes more credits (the receiver holds one) until it has want or
// v5GatherWait has passed, and returns how many it holds.
func (s *v5Sub) gatherCredits(want int) int {
	n := 1
	var timer *time.Timer
	for n < want {
		select {
		case s.g.credits <- struct{}{}:
			n++
			continue
		default:
		}
		if timer == nil {
			timer = time.NewTimer(v5GatherWait)
			defer timer.Stop()
		}
		select {
		case s.g.credits <- struct{}{}:
			n++
		case <-timer.C:
			return n
		case <-s.recvCtx.Done():
			return n
		}
	}
	return n
}

// receive makes one ReceiveMessage call for up to n messages: long polling as the
// group says, invisible for the subscription's invisible duration or auto-renewed.
func (s *v5Sub) receive(ctx context.Context, mq *v2.MessageQueue, n int) ([]*v2.Message, error) {
	g := s.g
	conn := g.ses.conn
	req := &v2.ReceiveMessageRequest{
		Group: conn.resource(g.name), MessageQueue: mq, FilterExpression: s.filter,
		BatchSize: int32(n), LongPollingTimeout: durationpb.New(g.longPolling),
	}
	if d := g.model.timeout; d > 0 {
		req.InvisibleDuration = durationpb.New(d)
	} else {
		req.AutoRenew = true
	}
	ctx, cancel := context.WithTimeout(ctx, g.longPolling+conn.timeout)
	defer cancel()
	stream, err := conn.api.ReceiveMessage(conn.outgoing(ctx, g.client.id), req)
	if err != nil {
		return nil, err
	}
	var msgs []*v2.Message
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		switch x := resp.GetContent().(type) {
		case *v2.ReceiveMessageResponse_Status:
			if err := statusErr("receive message", x.Status); err != nil && !hasCode(err, v2.Code_MESSAGE_NOT_FOUND) {
				return msgs, err
			}
		case *v2.ReceiveMessageResponse_Message:
			if len(msgs) < n {
				msgs = append(msgs, x.Message)
			}
		}
	}
}
