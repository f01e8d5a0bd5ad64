package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/broker/rocketmq/internal/mqhttp"
)

// aliyunSendTimeout bounds a publish, ack, commit or rollback unless WithSendTimeout
// says otherwise.
const aliyunSendTimeout = 5 * time.Second

// Publish encodes msg and publishes it with ctx: synchronously, asynchronously
// (WithAsync: the callback runs on a goroutine of the driver, at most 256 in flight) or
// transactionally (WithTransaction). WithOneway publishes synchronously (the API has no
// one-way send). broker.Batch bodies are refused: the API publishes one message per
// request.
func (b *AliyunBroker) Publish(ctx context.Context, topic string, msg broker.Any, opts ...broker.PublishOption) error {
	ses := b.session()
	if ses == nil {
		return ErrNotConnected
	}
	var o broker.PublishOptions
	o.Apply(opts...)
	if _, ok := msg.(broker.Batch); ok {
		return fmt.Errorf("publish to %s: broker.Batch: %w (one message per request)", topic, ErrAliyunUnsupported)
	}
	body, err := broker.Marshal(b.opts.Codec, msg)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	req, err := aliyunRequest(body, &o, time.Now())
	if err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	var start time.Time
	if b.metricsOn {
		start = time.Now()
	}
	var span trace.Span
	if b.tracing != nil {
		carrier := propagation.MapCarrier{}
		_, span = b.tracing.startPublishSpan(ctx, topic, o.Tags, carrier)
		for k, v := range carrier {
			if mqhttp.PropertyOK(k) && mqhttp.PropertyOK(v) { // else the format cannot carry it
				req.Properties[k] = v
			}
		}
	}
	var res *broker.PublishResult
	switch {
	case o.Transaction != nil:
		res, err = b.publishTransaction(ctx, ses, topic, req, body, o.Transaction)
	case o.Async != nil:
		return b.publishAsync(ctx, ses, topic, req, o.Async, span, start)
	default:
		res, err = b.send(ctx, ses, topic, req)
	}
	if o.Result != nil && res != nil {
		*o.Result = *res
	}
	if b.metricsOn {
		b.metrics.recordPublish(ctx, topic, 1, start, err)
	}
	endSpan(span, err)
	return err
}

// aliyunRequest maps a body and the publish options onto the API's message.
func aliyunRequest(body []byte, o *broker.PublishOptions, now time.Time) (*mqhttp.PublishRequest, error) {
	props := make(map[string]string, len(o.Headers)+4)
	maps.Copy(props, o.Headers)
	if len(o.Keys) > 0 {
		props[mqhttp.PropKeys] = strings.Join(o.Keys, " ")
	}
	if o.ShardingKey != "" {
		props[mqhttp.PropShardingKey] = o.ShardingKey
	}
	switch {
	case o.DelayLevel > 0 && !o.DeliveryTime.IsZero():
		return nil, errors.New("WithDelayTimeLevel and broker.WithDeliveryTime both given")
	case o.DelayLevel > len(delayLevels):
		return nil, fmt.Errorf("WithDelayTimeLevel(%d): levels are 1..%d", o.DelayLevel, len(delayLevels))
	case o.DelayLevel > 0:
		props[mqhttp.PropStartDeliverTime] = strconv.FormatInt(now.Add(delayLevels[o.DelayLevel-1]).UnixMilli(), 10)
	case !o.DeliveryTime.IsZero():
		props[mqhttp.PropStartDeliverTime] = strconv.FormatInt(o.DeliveryTime.UnixMilli(), 10)
	}
	text, encoded := mqhttp.EncodeBody(body)
	if encoded {
		props[mqhttp.PropBodyEncoding] = "base64"
	}
	if strings.ContainsAny(o.Tags, "|\t\r\n") || !mqhttp.XMLText(o.Tags) {
		return nil, fmt.Errorf("WithTag(%q): a tag cannot contain '|' or control characters", o.Tags)
	}
	return &mqhttp.PublishRequest{Body: text, Tag: o.Tags, Properties: props}, nil
}

// sendTimeout is the bound of one request.
func (b *AliyunBroker) sendTimeout() time.Duration {
	if b.set.sendTimeout > 0 {
		return b.set.sendTimeout
	}
	return aliyunSendTimeout
}

// send publishes req, again (WithRetryCount) after a network error or a server error.
// A retried publish whose first attempt reached the service is there twice.
func (b *AliyunBroker) send(ctx context.Context, ses *aliyunSession, topic string, req *mqhttp.PublishRequest) (*broker.PublishResult, error) {
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, b.sendTimeout())
		r, err := ses.client.Publish(cctx, topic, req)
		cancel()
		if err == nil {
			return &broker.PublishResult{ID: r.MessageID, Topic: topic}, nil
		}
		if attempt >= b.set.retryCount || !aliyunRetryable(err) || ctx.Err() != nil {
			return nil, err
		}
		b.log.Warnw("msg", "publish failed; trying again", "topic", topic, "attempt", attempt+1, "error", err)
	}
}

// aliyunRetryable: network errors and the service's own failures (5xx), not refusals.
func aliyunRetryable(err error) bool {
	var e *mqhttp.Error
	if errors.As(err, &e) {
		return e.Status >= 500
	}
	return !errors.Is(err, context.Canceled)
}

// publishAsync publishes on a goroutine of the session and calls cb with the outcome.
func (b *AliyunBroker) publishAsync(ctx context.Context, ses *aliyunSession, topic string, req *mqhttp.PublishRequest,
	cb func(context.Context, *broker.PublishResult, error), span trace.Span, start time.Time) error {
	select {
	case ses.async <- struct{}{}:
	case <-ctx.Done():
		endSpan(span, ctx.Err())
		return fmt.Errorf("publish async to %s: %w", topic, ctx.Err())
	}
	if !ses.tasks.start() {
		<-ses.async
		endSpan(span, ErrNotConnected)
		return ErrNotConnected
	}
	actx := context.WithoutCancel(ctx)
	go func() {
		defer ses.tasks.done()
		defer func() { <-ses.async }()
		sctx, cancel := context.WithCancel(actx)
		stop := context.AfterFunc(ses.hard, cancel)
		res, err := b.send(sctx, ses, topic, req)
		stop()
		cancel()
		if b.metricsOn {
			b.metrics.recordPublish(actx, topic, 1, start, err)
		}
		endSpan(span, err)
		cb(actx, res, err)
	}()
	return nil
}

// aliyunTransCheckSeconds is how long after a transactional publish the service may
// first hand its half message to a check (the API's minimum, __TransCheckT).
const aliyunTransCheckSeconds = 10

// publishTransaction publishes a half message, runs exec and commits or rolls back by
// its answer; undecided, the half message is left to the checker (TransactionChecker,
// through the half-message consume of this topic, started here).
func (b *AliyunBroker) publishTransaction(ctx context.Context, ses *aliyunSession, topic string, req *mqhttp.PublishRequest,
	body []byte, exec broker.TransactionExecutor) (*broker.PublishResult, error) {
	group := b.set.groupName
	if group == "" {
		return nil, fmt.Errorf("publish transactional message to %s: WithTransaction needs WithGroupName (the transactional producer's group id)", topic)
	}
	req.Properties[mqhttp.PropTransCheck] = strconv.Itoa(aliyunTransCheckSeconds)
	cctx, cancel := context.WithTimeout(ctx, b.sendTimeout())
	r, err := ses.client.Publish(cctx, topic, req)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("send transactional message to %s: %w", topic, err)
	}
	res := &broker.PublishResult{ID: r.MessageID, Topic: topic}
	if b.set.txChecker != nil {
		b.startChecker(ses, topic)
	} else {
		b.log.Debugw("msg", "transactional publish without a TransactionChecker: an undecided transaction is discarded after the service's checks",
			"topic", topic)
	}
	h := maps.Clone(req.Properties)
	if req.Tag != "" {
		h[HeaderTags] = req.Tag
	}
	state := b.runLocal(func() broker.TransactionState { return exec(ctx, &broker.Message{Headers: h, Body: body}) }, topic)
	switch state {
	case broker.TransactionCommit:
		if err := b.endTransaction(ctx, ses, topic, r.ReceiptHandle, true); err != nil {
			return res, err
		}
		return res, nil
	case broker.TransactionRollback:
		if err := b.endTransaction(ctx, ses, topic, r.ReceiptHandle, false); err != nil {
			return res, err
		}
		return res, fmt.Errorf("send transactional message to %s: %w", topic, ErrRolledBack)
	}
	return res, nil
}

// runLocal runs a local transaction or a check, a panic being "unknown".
func (b *AliyunBroker) runLocal(f func() broker.TransactionState, topic string) (state broker.TransactionState) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Errorw("msg", "local transaction or checker panicked; state unknown", "topic", topic, "panic", r)
			state = broker.TransactionUnknown
		}
	}()
	return f()
}

// endTransaction commits or rolls back the half message handle names.
func (b *AliyunBroker) endTransaction(ctx context.Context, ses *aliyunSession, topic, handle string, commit bool) error {
	trans := mqhttp.TransRollback
	if commit {
		trans = mqhttp.TransCommit
	}
	cctx, cancel := context.WithTimeout(ctx, b.sendTimeout())
	defer cancel()
	if err := ses.client.Ack(cctx, topic, b.set.groupName, trans, handle); err != nil {
		return fmt.Errorf("%s transactional message on %s (the check will ask again): %w", trans, topic, err)
	}
	return nil
}
