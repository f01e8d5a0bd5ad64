package rocketmq

import (
	"context"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// instrumentationName names the tracer and meter when the options give no name.
const instrumentationName = "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"

// Metric instrument names; attributes are topic, group (consumers) and outcome.
const (
	MetricConsumedMessages  = "rocketmq.consumer.messages"
	MetricConsumeDuration   = "rocketmq.consumer.duration"
	MetricRedeliveries      = "rocketmq.consumer.redeliveries"
	MetricPublishedMessages = "rocketmq.producer.messages"
	MetricPublishDuration   = "rocketmq.producer.duration"
)

// Consume outcomes (attribute "outcome" of MetricConsumedMessages).
const (
	OutcomeSuccess = "success" // handler returned nil: acknowledged
	OutcomeRetry   = "retry"   // handler failed: handed back for redelivery
	OutcomeDLQ     = "dlq"     // undecodable, or failed on the last attempt: dead-letter queue
)

// tracing is nil when tracing is off; every method then does nothing.
type tracing struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

func newTracing(o *broker.Options) *tracing {
	tp := o.TracerProvider
	if tp == nil && o.GlobalTracerProvider {
		tp = otel.GetTracerProvider()
	}
	if tp == nil {
		return nil
	}
	name := o.TracerName
	if name == "" {
		name = instrumentationName
	}
	prop := o.Propagator
	if prop == nil && o.GlobalPropagator {
		prop = otel.GetTextMapPropagator()
	}
	if prop == nil {
		prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return &tracing{tracer: tp.Tracer(name), prop: prop}
}

// msgCarrier writes trace context into message properties.
type msgCarrier struct{ m *primitive.Message }

func (c msgCarrier) Get(k string) string { return c.m.GetProperty(k) }
func (c msgCarrier) Set(k, v string)     { c.m.WithProperty(k, v) }
func (c msgCarrier) Keys() []string      { return nil }
func (t *tracing) inject(ctx context.Context, m *primitive.Message) {
	t.prop.Inject(ctx, msgCarrier{m})
}

func (t *tracing) startPublish(ctx context.Context, topic string, m *primitive.Message) (context.Context, trace.Span) {
	return t.startPublishSpan(ctx, topic, m.GetTags(), msgCarrier{m})
}

// startPublishSpan starts the producer span of a message with tags and injects its
// context into the message's properties through carrier.
func (t *tracing) startPublishSpan(ctx context.Context, topic, tags string, carrier propagation.TextMapCarrier) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, topic+" publish",
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", "rocketmq"),
			attribute.String("messaging.operation", "publish"),
			attribute.String("messaging.destination.name", topic),
		))
	if tags != "" {
		span.SetAttributes(attribute.String("messaging.rocketmq.message.tag", tags))
	}
	t.prop.Inject(ctx, carrier)
	return ctx, span
}

// startProcess starts the consumer span as a child of the producer's span (found in
// the message headers) and links it to that span too.
func (t *tracing) startProcess(ctx context.Context, topic, group, msgID string, h broker.Headers) (context.Context, trace.Span) {
	remote := t.prop.Extract(ctx, propagation.MapCarrier(h))
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "rocketmq"),
			attribute.String("messaging.operation", "process"),
			attribute.String("messaging.destination.name", topic),
			attribute.String("messaging.rocketmq.client_group", group),
			attribute.String("messaging.message.id", msgID),
		),
	}
	if sc := trace.SpanContextFromContext(remote); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	return t.tracer.Start(remote, topic+" process", opts...)
}

func endSpan(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// metrics holds the instruments; with no meter provider they are otel no-ops.
type metrics struct {
	consumed    metric.Int64Counter
	consumeDur  metric.Float64Histogram
	redelivered metric.Int64Counter
	published   metric.Int64Counter
	publishDur  metric.Float64Histogram

	pubAttrs sync.Map // topic → *publishAttrs
}

// newMetrics returns the instruments and whether metrics are on; off, the hot paths
// skip timing and recording altogether.
func newMetrics(o *broker.Options) (*metrics, bool, error) {
	mp := o.MeterProvider
	if mp == nil && o.GlobalMeterProvider {
		mp = otel.GetMeterProvider()
	}
	on := mp != nil
	if !on {
		mp = noop.NewMeterProvider()
	}
	meter := mp.Meter(instrumentationName)
	var m metrics
	var err error
	if m.consumed, err = meter.Int64Counter(MetricConsumedMessages,
		metric.WithDescription("Messages handled, by outcome (success, retry, dlq)."), metric.WithUnit("{message}")); err != nil {
		return nil, false, err
	}
	if m.consumeDur, err = meter.Float64Histogram(MetricConsumeDuration,
		metric.WithDescription("Handler duration."), metric.WithUnit("s")); err != nil {
		return nil, false, err
	}
	if m.redelivered, err = meter.Int64Counter(MetricRedeliveries,
		metric.WithDescription("Deliveries of messages that failed before."), metric.WithUnit("{message}")); err != nil {
		return nil, false, err
	}
	if m.published, err = meter.Int64Counter(MetricPublishedMessages,
		metric.WithDescription("Messages published, by outcome (success, error)."), metric.WithUnit("{message}")); err != nil {
		return nil, false, err
	}
	if m.publishDur, err = meter.Float64Histogram(MetricPublishDuration,
		metric.WithDescription("Publish latency."), metric.WithUnit("s")); err != nil {
		return nil, false, err
	}
	return &m, on, nil
}

// consumeAttrs are the precomputed attribute sets of one subscription.
type consumeAttrs struct {
	base, success, retry, dlq metric.MeasurementOption
}

func newConsumeAttrs(topic, group string) *consumeAttrs {
	set := func(kv ...attribute.KeyValue) metric.MeasurementOption {
		kv = append(kv, attribute.String("topic", topic), attribute.String("group", group))
		return metric.WithAttributeSet(attribute.NewSet(kv...))
	}
	return &consumeAttrs{
		base:    set(),
		success: set(attribute.String("outcome", OutcomeSuccess)),
		retry:   set(attribute.String("outcome", OutcomeRetry)),
		dlq:     set(attribute.String("outcome", OutcomeDLQ)),
	}
}

// recordConsume records one handled delivery: the handler's duration since start and
// its outcome (success; dlq when a failure was the last attempt; else retry).
func (m *metrics) recordConsume(ctx context.Context, a *consumeAttrs, start time.Time, err error, last bool) {
	m.consumeDur.Record(ctx, time.Since(start).Seconds(), a.base)
	switch {
	case err == nil:
		m.consumed.Add(ctx, 1, a.success)
	case last:
		m.consumed.Add(ctx, 1, a.dlq)
	default:
		m.consumed.Add(ctx, 1, a.retry)
	}
}

type publishAttrs struct{ base, success, failure metric.MeasurementOption }

func (m *metrics) publishAttrs(topic string) *publishAttrs {
	if v, ok := m.pubAttrs.Load(topic); ok {
		return v.(*publishAttrs)
	}
	t := attribute.String("topic", topic)
	a := &publishAttrs{
		base:    metric.WithAttributeSet(attribute.NewSet(t)),
		success: metric.WithAttributeSet(attribute.NewSet(t, attribute.String("outcome", "success"))),
		failure: metric.WithAttributeSet(attribute.NewSet(t, attribute.String("outcome", "error"))),
	}
	v, _ := m.pubAttrs.LoadOrStore(topic, a)
	return v.(*publishAttrs)
}

func (m *metrics) recordPublish(ctx context.Context, topic string, n int, start time.Time, err error) {
	a := m.publishAttrs(topic)
	if err != nil {
		m.published.Add(ctx, int64(n), a.failure)
	} else {
		m.published.Add(ctx, int64(n), a.success)
	}
	m.publishDur.Record(ctx, time.Since(start).Seconds(), a.base)
}
