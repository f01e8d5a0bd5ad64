package minirocketmq

import (
	"sort"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Consumer progress: where a consumer group stands in each queue it
// consumes, from the broker's side (what GET_CONSUME_STATS reports to
// mqadmin and the dashboard), for metrics and a console.

// QueueProgress is a consumer group's position in one queue.
type QueueProgress struct {
	Topic   string
	QueueID int
	// BrokerOffset is the next queue offset to be written: the number of
	// messages the queue ever held.
	BrokerOffset int64
	// ConsumerOffset is the offset the group committed (the next one it
	// will consume), 0 when it committed none. Broadcasting groups keep
	// their offsets in the clients and never commit here.
	ConsumerOffset int64
	Committed      bool
	// Lag is BrokerOffset - ConsumerOffset: messages not consumed yet.
	Lag int64
	// LastTimestamp is the store time (ms) of the last message the group
	// consumed, 0 when there is none.
	LastTimestamp int64
}

// ConsumerProgress returns a consumer group's progress in every queue of
// the topics its live members subscribe (its retry topic included) and of
// the topics it committed offsets for, sorted by topic and queue. A group
// the broker never heard of has none.
func (b *Broker) ConsumerProgress(group string) []QueueProgress {
	committed := b.offsets.groupOffsets(group)
	topics := make(map[string]bool)
	subscribed, _ := b.clients.groupTopics(group)
	for _, t := range subscribed {
		topics[t] = true
	}
	for k := range committed {
		topics[k.topic] = true
	}
	var out []QueueProgress
	for topic := range topics {
		tc := b.topics.get(topic)
		if tc == nil {
			continue
		}
		for q := range tc.ReadQueueNums {
			p := QueueProgress{Topic: topic, QueueID: q, BrokerOffset: b.store.MaxOffset(topic, int32(q))}
			p.ConsumerOffset, p.Committed = committed[offsetKey{group, topic, int32(q)}]
			p.Lag = max(p.BrokerOffset-p.ConsumerOffset, 0)
			if p.ConsumerOffset > 0 {
				p.LastTimestamp = b.storeTimeAt(topic, int32(q), p.ConsumerOffset-1)
			}
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].QueueID < out[j].QueueID
	})
	return out
}

// ConsumerGroups returns the consumer groups the broker knows (every group
// that ever heartbeated), sorted.
func (b *Broker) ConsumerGroups() []string {
	list, _ := b.groups.snapshot()
	out := make([]string, len(list))
	for i, g := range list {
		out[i] = g.GroupName
	}
	return out
}

// storeTimeAt returns the store time of the message at a queue offset, 0
// when there is none.
func (b *Broker) storeTimeAt(topic string, queueID int32, offset int64) int64 {
	res, err := b.store.Get(&store.GetRequest{Topic: topic, QueueID: queueID, Offset: offset, MaxMsgs: 1, MaxBytes: 1})
	if err != nil || res.Status != store.Found {
		return 0
	}
	return message.RecordStoreTimestamp(res.Records)
}
