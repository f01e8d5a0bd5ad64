package rocketmq

import (
	"strconv"
	"sync/atomic"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/layout/pkg/broker"
)

// Header keys the driver adds to every delivered message, next to its properties
// (which include the client's own TAGS, KEYS and UNIQ_KEY).
const (
	HeaderTopic          = "rocketmq-topic"
	HeaderTags           = "rocketmq-tags"
	HeaderKeys           = "rocketmq-keys"
	HeaderMessageID      = "rocketmq-msg-id"
	HeaderReconsumeTimes = "rocketmq-reconsume-times"
)

// event is one delivery handed to a handler.
type event struct {
	topic string
	msg   broker.Message
	raw   *primitive.MessageExt
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

// headers returns the message properties plus the driver's header keys.
func headers(topic string, m *primitive.MessageExt) broker.Headers {
	h := broker.Headers(m.GetProperties())
	h[HeaderTopic] = topic
	h[HeaderMessageID] = m.MsgId
	h[HeaderReconsumeTimes] = strconv.Itoa(int(m.ReconsumeTimes))
	if v := h[primitive.PropertyTags]; v != "" {
		h[HeaderTags] = v
	}
	if v := h[primitive.PropertyKeys]; v != "" {
		h[HeaderKeys] = v
	}
	return h
}

func queueID(m *primitive.MessageExt) int {
	if m.Queue == nil {
		return 0
	}
	return m.Queue.QueueId
}
