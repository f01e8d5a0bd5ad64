package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// producerOptions are the client options shared by both producers.
func (b *Broker) producerOptions(instance, group string) []producer.Option {
	opts := []producer.Option{
		producer.WithNsResolver(b.resolver()),
		producer.WithInstanceName(instance),
		producer.WithQueueSelector(newShardingSelector()),
	}
	if group != "" {
		opts = append(opts, producer.WithGroupName(group))
	}
	if b.set.namespace != "" {
		opts = append(opts, producer.WithNamespace(b.set.namespace))
	}
	if b.set.retryCount > 0 {
		opts = append(opts, producer.WithRetry(b.set.retryCount))
	}
	if b.set.sendTimeout > 0 {
		opts = append(opts, producer.WithSendMsgTimeout(b.set.sendTimeout))
	}
	if c := b.credentials(); !c.IsEmpty() {
		opts = append(opts, producer.WithCredentials(c))
	}
	if b.useTLS {
		opts = append(opts, producer.WithTls(true))
	}
	if b.set.enableTrace {
		group := b.set.groupName
		if group == "" {
			group = "DEFAULT"
		}
		opts = append(opts, producer.WithTrace(&primitive.TraceConfig{
			GroupName: group, Access: primitive.Local, Resolver: b.resolver(), Credentials: b.credentials(),
		}))
	}
	return opts
}

func (b *Broker) newProducer() (rocketmq.Producer, error) {
	group := b.set.groupName
	if b.set.txChecker != nil && group != "" {
		group += "-nontx" // check-backs must reach the transactional producer only
	}
	p, err := rocketmq.NewProducer(b.producerOptions(b.instance, group)...)
	if err != nil {
		return nil, fmt.Errorf("rocketmq: create producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("rocketmq: start producer: %w", err)
	}
	return p, nil
}

func (b *Broker) currentProducer() (rocketmq.Producer, error) {
	ph := b.producer.Load()
	if ph == nil {
		return nil, ErrNotConnected
	}
	return ph.p, nil
}

// newMessage builds the client message for one body with the publish options.
func newMessage(topic string, body []byte, o *broker.PublishOptions) *primitive.Message {
	m := primitive.NewMessage(topic, body)
	for k, v := range o.Headers {
		m.WithProperty(k, v)
	}
	if o.Tags != "" {
		m.WithTag(o.Tags)
	}
	if len(o.Keys) > 0 {
		m.WithKeys(o.Keys)
	}
	if o.ShardingKey != "" {
		m.WithShardingKey(o.ShardingKey)
	}
	if o.DelayLevel > 0 {
		m.WithDelayTimeLevel(o.DelayLevel)
	}
	return m
}

// Publish encodes msg and sends it with ctx: synchronously by default, or as the
// options say (async, oneway, transactional). A broker.Batch body sends its elements as
// one batch request.
func (b *Broker) Publish(ctx context.Context, topic string, msg broker.Any, opts ...broker.PublishOption) error {
	p, err := b.currentProducer()
	if err != nil {
		return err
	}
	var o broker.PublishOptions
	o.Apply(opts...)
	if !o.DeliveryTime.IsZero() {
		return fmt.Errorf("publish to %s: broker.WithDeliveryTime needs timed messages (RocketMQ 5: driver v5); the remoting client has delay levels only (WithDelayTimeLevel)", topic)
	}
	if batch, ok := msg.(broker.Batch); ok {
		return b.publishBatch(ctx, p, topic, batch, &o)
	}
	body, err := broker.Marshal(b.opts.Codec, msg)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	m := newMessage(topic, body, &o)
	return b.send(ctx, p, topic, &o, m)
}

func (b *Broker) publishBatch(ctx context.Context, p rocketmq.Producer, topic string, batch broker.Batch, o *broker.PublishOptions) error {
	if len(batch) == 0 {
		return fmt.Errorf("publish batch to %s: empty batch", topic)
	}
	if o.Transaction != nil || o.DelayLevel > 0 {
		return fmt.Errorf("publish batch to %s: batches cannot be transactional or delayed (RocketMQ)", topic)
	}
	msgs := make([]*primitive.Message, len(batch))
	for i, v := range batch {
		body, err := broker.Marshal(b.opts.Codec, v)
		if err != nil {
			return fmt.Errorf("publish batch to %s: element %d: %w", topic, i, err)
		}
		msgs[i] = newMessage(topic, body, o)
	}
	return b.send(ctx, p, topic, o, msgs...)
}

func (b *Broker) send(ctx context.Context, p rocketmq.Producer, topic string, o *broker.PublishOptions, msgs ...*primitive.Message) error {
	var start time.Time
	if b.metricsOn {
		start = time.Now()
	}
	var span trace.Span
	if b.tracing != nil {
		sctx, s := b.tracing.startPublish(ctx, topic, msgs[0])
		span = s
		for _, m := range msgs[1:] {
			b.tracing.inject(sctx, m)
		}
	}
	var err error
	switch {
	case o.Transaction != nil:
		var res *broker.PublishResult
		res, err = b.sendInTransaction(ctx, topic, msgs[0], o.Transaction)
		if o.Result != nil && res != nil {
			*o.Result = *res
		}
	case o.Oneway:
		err = whenRouted(ctx, func() error { return p.SendOneWay(ctx, msgs...) })
		if err != nil {
			err = fmt.Errorf("send oneway to %s: %w", topic, err)
		}
	case o.Async != nil:
		cb := o.Async
		n := len(msgs)
		done := func(cctx context.Context, r *primitive.SendResult, serr error) {
			res, serr := b.sendResult(topic, r, serr)
			if b.metricsOn {
				b.metrics.recordPublish(cctx, topic, n, start, serr)
			}
			endSpan(span, serr)
			cb(cctx, res, serr)
		}
		err = whenRouted(ctx, func() error { return p.SendAsync(ctx, done, msgs...) })
		if err != nil {
			err = fmt.Errorf("send async to %s: %w", topic, err)
			break
		}
		return nil // the callback records the outcome
	default:
		var r *primitive.SendResult
		err = whenRouted(ctx, func() (serr error) {
			r, serr = p.SendSync(ctx, msgs...)
			return serr
		})
		if err == nil && r != nil && r.Status == primitive.SendOK && o.Result == nil {
			break // the common case: no result wanted, nothing to convert
		}
		var res *broker.PublishResult
		res, err = b.sendResult(topic, r, err)
		if o.Result != nil && res != nil {
			*o.Result = *res
		}
	}
	if b.metricsOn {
		b.metrics.recordPublish(ctx, topic, len(msgs), start, err)
	}
	endSpan(span, err)
	return err
}

// unroutedRetries bound whenRouted: a few milliseconds in all.
var unroutedRetries = []time.Duration{time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond}

// whenRouted runs send again while it fails with the client's "topic=X route info not
// found" (no message left the process then). Concurrent first sends to a topic race
// in rocketmq-client-go: one stores the topic's queues before the name-server client
// has stored their broker's address, and another send in between finds no address for
// the queue it picked and fails at once. The address arrives a moment later.
func whenRouted(ctx context.Context, send func() error) error {
	err := send()
	for _, d := range unroutedRetries {
		if !isUnrouted(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
		err = send()
	}
	return err
}

// isUnrouted reports the error of a send that found a queue but not its broker's
// address (producer.go in rocketmq-client-go; "the topic=X route info not found",
// a topic without queues, is not that).
func isUnrouted(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.HasPrefix(s, "topic=") && strings.HasSuffix(s, " route info not found")
}

// sendResult converts the client's result; a status other than SendOK is an error.
func (b *Broker) sendResult(topic string, r *primitive.SendResult, err error) (*broker.PublishResult, error) {
	if err != nil {
		return nil, fmt.Errorf("send to %s: %w", topic, err)
	}
	if r == nil {
		return nil, fmt.Errorf("send to %s: no result", topic)
	}
	res := &broker.PublishResult{ID: r.MsgID, Topic: topic, Offset: r.QueueOffset}
	if res.ID == "" {
		res.ID = r.OffsetMsgID // batch sends leave MsgID empty
	}
	if r.MessageQueue != nil {
		res.Partition = r.MessageQueue.QueueId
	}
	if r.Status != primitive.SendOK {
		return res, fmt.Errorf("send to %s: broker answered status %d", topic, r.Status)
	}
	return res, nil
}

// shardingSelector sends messages with a sharding key to the queue the key hashes to
// and spreads the others round-robin.
type shardingSelector struct{ rr producer.QueueSelector }

func newShardingSelector() producer.QueueSelector {
	return shardingSelector{rr: producer.NewRoundRobinQueueSelector()}
}

func (s shardingSelector) Select(m *primitive.Message, mqs []*primitive.MessageQueue, last string) *primitive.MessageQueue {
	key := m.GetShardingKey()
	if key == "" {
		return s.rr.Select(m, mqs, last)
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return mqs[h.Sum32()%uint32(len(mqs))]
}

// Request publishes msg as a request and waits for the reply (see broker.Reply), up
// to the request timeout and ctx's deadline.
func (b *Broker) Request(ctx context.Context, topic string, msg broker.Any, opts ...broker.RequestOption) (broker.Any, error) {
	p, err := b.currentProducer()
	if err != nil {
		return nil, err
	}
	o := broker.NewRequestOptions(opts...)
	po := broker.NewPublishOptions(o.Publish...)
	body, err := broker.Marshal(b.opts.Codec, msg)
	if err != nil {
		return nil, fmt.Errorf("request to %s: %w", topic, err)
	}
	timeout := o.Timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("request to %s: %w", topic, context.DeadlineExceeded)
	}
	m := newMessage(topic, body, &po)
	var span trace.Span
	if b.tracing != nil {
		_, span = b.tracing.startPublish(ctx, topic, m)
	}
	reply, err := p.Request(ctx, timeout, m)
	if err == nil && reply == nil {
		err = errors.New("no reply")
	}
	if err != nil {
		err = fmt.Errorf("request to %s: %w", topic, err)
		endSpan(span, err)
		return nil, err
	}
	endSpan(span, nil)
	if o.Binder == nil {
		return reply.Body, nil
	}
	v := o.Binder()
	if err := broker.Unmarshal(b.opts.Codec, reply.Body, v); err != nil {
		return nil, fmt.Errorf("request to %s: decode reply: %w", topic, err)
	}
	return v, nil
}

// replier answers one request message; put into handler contexts for requests.
type replier struct {
	b   *Broker
	req *primitive.MessageExt
}

func (r *replier) Reply(ctx context.Context, msg broker.Any, opts ...broker.PublishOption) error {
	p, err := r.b.currentProducer()
	if err != nil {
		return err
	}
	body, err := broker.Marshal(r.b.opts.Codec, msg)
	if err != nil {
		return fmt.Errorf("reply to %s: %w", r.req.MsgId, err)
	}
	m, err := createReply(r.req)
	if err != nil {
		return err
	}
	m.Body = body // the client's CreateReplyMessage ignores its body argument
	var o broker.PublishOptions
	o.Apply(opts...)
	for k, v := range o.Headers {
		m.WithProperty(k, v)
	}
	res, err := p.SendSync(ctx, m)
	if _, err := r.b.sendResult(m.Topic, res, err); err != nil {
		return fmt.Errorf("reply to request %s: %w", r.req.MsgId, err)
	}
	return nil
}
