package minirocketmq

import (
	"fmt"
	"sync/atomic"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Test hooks: direct access to the broker's state, and request controls,
// in the spirit of miniredis' direct commands and kfake's ControlKey. They
// are safe to call while clients are connected.

// CreateTopic creates (or replaces) a topic with queues read and write
// queues and read/write permission, as UPDATE_AND_CREATE_TOPIC would.
func (b *Broker) CreateTopic(topic string, queues int) error {
	if remark := validateTopic(topic); remark != "" {
		return fmt.Errorf("minirocketmq: create topic %q: %s", topic, remark)
	}
	if queues <= 0 || queues > MaxQueueNums {
		return fmt.Errorf("minirocketmq: create topic %q: %d queues, want 1 to %d", topic, queues, MaxQueueNums)
	}
	b.topics.put(&TopicConfig{TopicName: topic, ReadQueueNums: queues, WriteQueueNums: queues, Perm: PermRead | PermWrite, TopicFilterType: "SINGLE_TAG"})
	if err := b.persistConfigs(); err != nil {
		return fmt.Errorf("minirocketmq: create topic %q: %w", topic, err)
	}
	return nil
}

// Topic returns a copy of a topic's config.
func (b *Broker) Topic(topic string) (TopicConfig, bool) {
	if tc := b.topics.get(topic); tc != nil {
		return *tc, true
	}
	return TopicConfig{}, false
}

// Topics returns every topic config, sorted by name.
func (b *Broker) Topics() []TopicConfig {
	list, _ := b.topics.snapshot()
	out := make([]TopicConfig, len(list))
	for i, t := range list {
		out[i] = *t
	}
	return out
}

// DeleteTopic removes a topic, its messages and its consumer offsets.
func (b *Broker) DeleteTopic(topic string) error { return b.deleteTopic(topic) }

// Messages returns the stored messages of a queue, oldest first, decoded.
// Properties are in encoded form; see message.ParseProperties.
func (b *Broker) Messages(topic string, queueID int) ([]*message.Message, error) {
	var out []*message.Message
	off := b.store.MinOffset(topic, int32(queueID))
	for {
		res, err := b.store.Get(&store.GetRequest{Topic: topic, QueueID: int32(queueID), Offset: off, MaxMsgs: 1 << 20, MaxBytes: 1 << 30})
		if err != nil {
			return nil, err
		}
		if res.Status != store.Found {
			return out, nil
		}
		for rec := res.Records; len(rec) > 0; {
			m, n, err := message.DecodeRecord(rec)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
			rec = rec[n:]
		}
		off = res.NextOffset
	}
}

// MinOffset returns the first stored queue offset of a queue.
func (b *Broker) MinOffset(topic string, queueID int) int64 {
	return b.store.MinOffset(topic, int32(queueID))
}

// MaxOffset returns the next queue offset to be written in a queue.
func (b *Broker) MaxOffset(topic string, queueID int) int64 {
	return b.store.MaxOffset(topic, int32(queueID))
}

// ConsumerOffset returns the offset a clustering group committed for a
// queue, and whether it committed one.
func (b *Broker) ConsumerOffset(group, topic string, queueID int) (int64, bool) {
	return b.offsets.query(group, topic, int32(queueID))
}

// ConsumerIDs returns the client ids of a consumer group's live members.
func (b *Broker) ConsumerIDs(group string) []string { return b.clients.consumerIDs(group) }

// Clock returns the broker's clock (a *ManualClock when one was passed with
// WithClock, to be advanced by the test).
func (b *Broker) Clock() Clock { return b.clock }

// Store returns the broker's message store.
func (b *Broker) Store() store.Store { return b.store }

// Control installs fn in front of the handler of a request code. For every
// request with that code, fn sees the request first; a non-nil return
// answers the request (opaque and response flag are filled in) and the
// handler is skipped; nil passes it on. fn runs on the connection's reading
// goroutine and must not block. The returned function removes the control.
func (b *Broker) Control(code int16, fn func(req *Request) *remoting.Command) (remove func()) {
	return b.hooks.add(code, fn)
}

// FailNext answers the next n requests with code reqCode with the response
// code respCode and remark, without running their handler (e.g. fail the
// next 2 SEND_MESSAGE with SYSTEM_BUSY to test a client's retries).
func (b *Broker) FailNext(reqCode int16, n int, respCode int16, remark string) {
	var left atomic.Int64
	left.Store(int64(n))
	var remove atomic.Pointer[func()]
	r := b.Control(reqCode, func(req *Request) *remoting.Command {
		k := left.Add(-1)
		if k < 0 {
			if rm := remove.Load(); rm != nil {
				(*rm)()
			}
			return nil
		}
		return remoting.NewResponse(req.Command, respCode, remark)
	})
	remove.Store(&r)
}
