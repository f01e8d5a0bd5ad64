package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync/atomic"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/go-kratos/kratos/v2/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// Header keys of delivered messages. Headers are the message properties (tags and keys
// are properties already, under RocketMQ's own names) plus topic, message id and
// reconsume times, which the driver adds; the client's bookkeeping properties
// MIN_OFFSET, MAX_OFFSET and CONSUME_START_TIME are left out.
const (
	HeaderTopic          = "rocketmq-topic"
	HeaderTags           = primitive.PropertyTags // "TAGS"
	HeaderKeys           = primitive.PropertyKeys // "KEYS", space-separated
	HeaderMessageID      = "rocketmq-msg-id"
	HeaderReconsumeTimes = "rocketmq-reconsume-times"
)

// event is one delivery handed to a handler.
type event struct {
	topic string
	msg   broker.Message
	raw   any // *primitive.MessageExt (v2), *v2.Message (v5), *mqhttp.Message (aliyun)
	acked atomic.Bool
	err   error
}

func (e *event) Topic() string            { return e.topic }
func (e *event) Message() *broker.Message { return &e.msg }
func (e *event) RawMessage() any          { return e.raw }
func (e *event) Error() error             { return e.err }

// Ack marks the message handled; needed only with broker.DisableAutoAck.
func (e *event) Ack() error {
	e.acked.Store(true)
	return nil
}

// errNotAcked fails a delivery whose handler returned nil without Ack under DisableAutoAck.
var errNotAcked = errors.New("handler returned without Ack (auto-ack disabled)")

// runHandler runs h on ev for every driver: under a consumer span of group when
// tracing is on (t non-nil), with a panic turned into an error and, without autoAck
// (broker.DisableAutoAck), a nil return without Ack into errNotAcked. The result is
// also the event's Error.
func runHandler(ctx context.Context, l *log.Helper, t *tracing, h broker.Handler, ev *event, group, msgID string, autoAck bool) error {
	var span trace.Span
	if t != nil {
		ctx, span = t.startProcess(ctx, ev.topic, group, msgID, ev.msg.Headers)
	}
	err := callHandler(ctx, l, h, ev, group)
	if err == nil && !autoAck && !ev.acked.Load() {
		err = errNotAcked
	}
	ev.err = err
	endSpan(span, err)
	return err
}

// callHandler runs the handler and turns a panic into an error.
func callHandler(ctx context.Context, l *log.Helper, h broker.Handler, ev *event, group string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
			l.Errorw("msg", "handler panicked", "topic", ev.topic, "group", group,
				"panic", r, "stack", string(debug.Stack()))
		}
	}()
	return h(ctx, ev)
}

// headers returns the message properties plus the driver's header keys.
func headers(topic string, m *primitive.MessageExt) broker.Headers {
	h := broker.Headers(m.GetProperties()) // a copy the client makes for us
	// Consumption bookkeeping the client and broker add, not message properties;
	// dropping them also keeps small maps from growing when the keys below are added.
	delete(h, primitive.PropertyMinOffset)
	delete(h, primitive.PropertyMaxOffset)
	delete(h, primitive.PropertyConsumeStartTime)
	h[HeaderTopic] = topic
	h[HeaderMessageID] = m.MsgId
	h[HeaderReconsumeTimes] = reconsumeString(m.ReconsumeTimes)
	return h
}

func queueID(m *primitive.MessageExt) int {
	if m.Queue == nil {
		return 0
	}
	return m.Queue.QueueId
}

// reconsumeString formats small reconsume counts without allocating.
func reconsumeString(n int32) string {
	if n >= 0 && n < int32(len(smallInts)) {
		return smallInts[n]
	}
	return strconv.Itoa(int(n))
}

var smallInts = func() (s [33]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return
}()
