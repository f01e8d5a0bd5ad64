package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/rocketmq/broker"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// v5RouteRefresh is how often the producer queries its topics' routes again (the SDKs'
// 30 s), to learn changed message types and queues.
const v5RouteRefresh = 30 * time.Second

// v5DefaultSendAttempts is how often a send is tried when the server's settings name
// no back-off policy (the proxy says 3).
const v5DefaultSendAttempts = 3

// v5MaxChecks bounds the transaction check-backs running at once; the server asks
// again at its next check interval for what is dropped.
const v5MaxChecks = 16

// v5Producer publishes for a V5Broker: one RocketMQ 5 producer client whose settings
// list every topic it has published to (the server sends a topic's transaction
// recoveries to the producers of that topic), with the routes of those topics.
type v5Producer struct {
	b      *V5Broker
	ses    *v5Session
	client *v5Client
	tasks  tasks // async and oneway sends, check-backs; Disconnect waits for them
	checks chan struct{}

	mu     sync.Mutex
	routes map[string]*v5Route
}

// v5Route is what QueryRoute said about a topic.
type v5Route struct {
	accept map[v2.MessageType]bool // message types the topic accepts
}

func (r *v5Route) accepts(t v2.MessageType) bool { return len(r.accept) == 0 || r.accept[t] }

func (r *v5Route) acceptList() []string {
	out := make([]string, 0, len(r.accept))
	for t := range r.accept {
		out = append(out, t.String())
	}
	return out
}

// startProducer starts the producer client and waits for the server's answer to its
// settings; with WithTransactionTopics it declares those topics at once, so that
// recoveries of half messages a previous process left reach this one.
func (b *V5Broker) startProducer(ses *v5Session) (*v5Producer, error) {
	p := &v5Producer{b: b, ses: ses, checks: make(chan struct{}, v5MaxChecks), routes: make(map[string]*v5Route)}
	attempts := int32(v5DefaultSendAttempts)
	if b.set.retryCount > 0 {
		attempts = int32(b.set.retryCount) + 1
	}
	s := ses.conn.baseSettings(v2.ClientType_PRODUCER)
	s.BackoffPolicy = &v2.RetryPolicy{MaxAttempts: attempts, Strategy: &v2.RetryPolicy_ExponentialBackoff{
		ExponentialBackoff: &v2.ExponentialBackoff{Initial: durationpb.New(10 * time.Millisecond), Max: durationpb.New(time.Second), Multiplier: 2}}}
	pub := &v2.Publishing{}
	for _, t := range b.set.txTopics {
		pub.Topics = append(pub.Topics, ses.conn.resource(t))
	}
	s.PubSub = &v2.Settings_Publishing{Publishing: pub}
	id := newClientID(b.instance, "producer")
	p.client = startClient(ses.conn, id, v2.ClientType_PRODUCER, "", s, b.log, p.onCommand)
	ctx, cancel := context.WithTimeout(context.Background(), max(b.timeout, 10*time.Second))
	defer cancel()
	if _, err := p.client.waitReady(ctx); err != nil {
		p.client.cancel()
		<-p.client.done
		return nil, fmt.Errorf("rocketmq v5: start producer at %v: %w", b.addrs, err)
	}
	if err := p.client.heartbeat(ctx); err != nil {
		p.client.cancel()
		<-p.client.done
		return nil, fmt.Errorf("rocketmq v5: start producer: %w", err)
	}
	for _, t := range b.set.txTopics {
		if _, err := p.route(ctx, t); err != nil {
			b.log.Warnw("msg", "transactional topic has no route; its check-backs reach this process once it exists", "topic", t, "error", err)
		}
	}
	return p, nil
}

// sendAttempts is the server's producer back-off max attempts (or ours).
func (p *v5Producer) sendAttempts() int {
	if n := p.client.serverSettings().GetBackoffPolicy().GetMaxAttempts(); n > 0 {
		return int(n)
	}
	return v5DefaultSendAttempts
}

// route returns the topic's route, querying it the first time; a new topic is added
// to the producer's settings.
func (p *v5Producer) route(ctx context.Context, topic string) (*v5Route, error) {
	p.mu.Lock()
	r := p.routes[topic]
	p.mu.Unlock()
	if r != nil {
		return r, nil
	}
	r, err := p.queryRoute(ctx, topic)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	_, known := p.routes[topic]
	p.routes[topic] = r
	p.mu.Unlock()
	if !known {
		res := p.ses.conn.resource(topic)
		p.client.updateSettings(func(s *v2.Settings) {
			pub := s.GetPublishing()
			for _, t := range pub.GetTopics() {
				if t.GetName() == topic {
					return
				}
			}
			pub.Topics = append(pub.Topics, res)
		})
	}
	return r, nil
}

func (p *v5Producer) queryRoute(ctx context.Context, topic string) (*v5Route, error) {
	cctx, cancel := p.ses.conn.call(ctx, p.client.id)
	defer cancel()
	resp, err := p.ses.conn.api.QueryRoute(cctx, &v2.QueryRouteRequest{Topic: p.ses.conn.resource(topic), Endpoints: p.ses.conn.endpoints})
	if err != nil {
		return nil, fmt.Errorf("query route of %s: %w", topic, err)
	}
	if err := statusErr("query route of "+topic, resp.GetStatus()); err != nil {
		if hasCode(err, v2.Code_TOPIC_NOT_FOUND) {
			return nil, fmt.Errorf("%w (RocketMQ 5 proxies do not create topics: create it, e.g. mqadmin updateTopic -t %s -a +message.type=NORMAL)", err, topic)
		}
		return nil, err
	}
	r := &v5Route{accept: make(map[v2.MessageType]bool)}
	writable := false
	for _, q := range resp.GetMessageQueues() {
		if q.GetPermission() == v2.Permission_WRITE || q.GetPermission() == v2.Permission_READ_WRITE {
			writable = true
		}
		for _, t := range q.GetAcceptMessageTypes() {
			r.accept[t] = true
		}
	}
	if !writable {
		return nil, fmt.Errorf("query route of %s: no writable queue", topic)
	}
	return r, nil
}

// refreshRoutes queries the known topics' routes again; a failed query keeps the old one.
func (p *v5Producer) refreshRoutes(ctx context.Context) {
	p.mu.Lock()
	topics := make([]string, 0, len(p.routes))
	for t := range p.routes {
		topics = append(topics, t)
	}
	p.mu.Unlock()
	for _, t := range topics {
		r, err := p.queryRoute(ctx, t)
		if err != nil {
			p.b.log.Warnw("msg", "route refresh failed; keeping the old route", "topic", t, "error", err)
			continue
		}
		p.mu.Lock()
		p.routes[t] = r
		p.mu.Unlock()
	}
}

// Publish encodes msg and sends it with ctx: synchronously by default, or as the
// options say (async, oneway, transactional). A broker.Batch body sends its elements in
// one request (one queue). See v5Message for the options RocketMQ 5 reads differently.
func (b *V5Broker) Publish(ctx context.Context, topic string, msg broker.Any, opts ...broker.PublishOption) error {
	ses, err := b.session()
	if err != nil {
		return err
	}
	var o broker.PublishOptions
	o.Apply(opts...)
	p := ses.producer
	now := time.Now()
	var msgs []*v2.Message
	if batch, ok := msg.(broker.Batch); ok {
		if len(batch) == 0 {
			return fmt.Errorf("publish batch to %s: empty batch", topic)
		}
		if o.Transaction != nil || o.DelayLevel > 0 || !o.DeliveryTime.IsZero() {
			return fmt.Errorf("publish batch to %s: batches cannot be transactional or delayed (RocketMQ)", topic)
		}
		for i, v := range batch {
			body, err := broker.Marshal(b.opts.Codec, v)
			if err != nil {
				return fmt.Errorf("publish batch to %s: element %d: %w", topic, i, err)
			}
			m, err := p.v5Message(topic, body, &o, now)
			if err != nil {
				return fmt.Errorf("publish batch to %s: %w", topic, err)
			}
			msgs = append(msgs, m)
		}
	} else {
		body, err := broker.Marshal(b.opts.Codec, msg)
		if err != nil {
			return fmt.Errorf("publish to %s: %w", topic, err)
		}
		m, err := p.v5Message(topic, body, &o, now)
		if err != nil {
			return fmt.Errorf("publish to %s: %w", topic, err)
		}
		msgs = append(msgs, m)
	}
	return p.publish(ctx, topic, &o, msgs)
}

func (p *v5Producer) publish(ctx context.Context, topic string, o *broker.PublishOptions, msgs []*v2.Message) error {
	b := p.b
	var start time.Time
	if b.metricsOn {
		start = time.Now()
	}
	var span trace.Span
	if b.tracing != nil {
		var sctx context.Context
		sctx, span = b.tracing.startPublishSpan(ctx, topic, msgs[0].GetSystemProperties().GetTag(), userPropsCarrier{msgs[0]})
		for _, m := range msgs[1:] {
			b.tracing.prop.Inject(sctx, userPropsCarrier{m})
		}
	}
	record := func(rctx context.Context, err error) {
		if b.metricsOn {
			b.metrics.recordPublish(rctx, topic, len(msgs), start, err)
		}
		endSpan(span, err)
	}
	switch {
	case o.Transaction != nil:
		res, err := p.sendInTransaction(ctx, topic, msgs[0], o.Transaction)
		if o.Result != nil && res != nil {
			*o.Result = *res
		}
		record(ctx, err)
		return err
	case o.Oneway, o.Async != nil:
		// The gRPC API always answers; oneway and async sends wait for the answer on a
		// goroutine of their own (Disconnect waits for them).
		bctx, cancel := context.WithoutCancel(ctx), context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			bctx, cancel = context.WithDeadline(bctx, dl)
		}
		if !p.tasks.start() {
			cancel()
			return ErrNotConnected
		}
		cb := o.Async
		go func() {
			defer p.tasks.done()
			defer cancel()
			res, err := p.send(bctx, topic, msgs)
			record(bctx, err)
			switch {
			case cb != nil:
				cb(bctx, res, err)
			case err != nil:
				b.log.Warnw("msg", "oneway send failed", "topic", topic, "error", err)
			}
		}()
		return nil
	default:
		res, err := p.send(ctx, topic, msgs)
		if o.Result != nil && res != nil {
			*o.Result = *res
		}
		record(ctx, err)
		return err
	}
}

// send sends msgs (one topic, one type) and returns the result of the first: the
// topic's route is queried first (the server refuses unknown topics), the message type
// is checked against what the topic accepts when the server validates types, and the
// request is tried up to the server's max attempts on transport errors, throttling and
// server errors (client errors are final).
func (p *v5Producer) send(ctx context.Context, topic string, msgs []*v2.Message) (*broker.PublishResult, error) {
	r, err := p.route(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("send to %s: %w", topic, err)
	}
	typ := msgs[0].GetSystemProperties().GetMessageType()
	if p.client.serverSettings().GetPublishing().GetValidateMessageType() && !r.accepts(typ) {
		return nil, fmt.Errorf("send to %s: a %s message, but the topic accepts %v (set its message.type attribute, e.g. mqadmin updateTopic -t %s -a +message.type=%s)",
			topic, typ, r.acceptList(), topic, typ)
	}
	req := &v2.SendMessageRequest{Messages: msgs}
	attempts := p.sendAttempts()
	var resp *v2.SendMessageResponse
	for attempt := 1; ; attempt++ {
		resp, err = p.sendOnce(ctx, req)
		if err == nil || attempt >= attempts || !retryable(err) || ctx.Err() != nil {
			break
		}
		delay := time.Duration(0)
		if hasCode(err, v2.Code_TOO_MANY_REQUESTS) {
			delay = 10 * time.Millisecond << (attempt - 1)
		}
		p.b.log.Debugw("msg", "send failed; trying again", "topic", topic, "attempt", attempt, "error", err)
		if delay > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("send to %s: %w", topic, err)
			case <-time.After(delay):
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("send to %s: %w", topic, err)
	}
	e := resp.GetEntries()[0]
	return &broker.PublishResult{ID: e.GetMessageId(), Topic: topic, Partition: -1, Offset: e.GetOffset()}, nil
}

func (p *v5Producer) sendOnce(ctx context.Context, req *v2.SendMessageRequest) (*v2.SendMessageResponse, error) {
	cctx, cancel := p.ses.conn.call(ctx, p.client.id)
	defer cancel()
	resp, err := p.ses.conn.api.SendMessage(cctx, req)
	if err != nil {
		return nil, err
	}
	if err := statusErr("send message", resp.GetStatus()); err != nil {
		return nil, err
	}
	if len(resp.GetEntries()) != len(req.GetMessages()) {
		return nil, fmt.Errorf("send message: %d results for %d messages", len(resp.GetEntries()), len(req.GetMessages()))
	}
	for _, e := range resp.GetEntries() {
		if err := statusErr("send message", e.GetStatus()); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// retryable reports whether a failed send may succeed when tried again: transport
// errors other than the caller's deadline, throttling, and the server's own errors.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == v2.Code_TOO_MANY_REQUESTS || se.Code >= v2.Code_INTERNAL_ERROR
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.Internal:
		return true
	}
	return false
}

// Subscribe is in v5_consumer.go; Request and Drain in v5_broker.go.

// tasks tracks goroutines and requests a session started (async sends, check-backs,
// settles; the aliyun driver's pollers and acks) so Disconnect can wait for them: once
// closed, start refuses new ones.
type tasks struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (t *tasks) start() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	return true
}

func (t *tasks) done() { t.wg.Done() }

// close refuses new tasks; wait waits for the started ones.
func (t *tasks) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

func (t *tasks) wait() { t.wg.Wait() }

func (t *tasks) closeAndWait() {
	t.close()
	t.wait()
}
