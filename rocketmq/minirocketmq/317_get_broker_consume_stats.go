package minirocketmq

import (
	"sort"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_BROKER_CONSUME_STATS (317): every consumer group's progress on this
// broker (mqadmin brokerConsumeStats, the dashboard's monitor).
//
// Honoured: isOrder (only topics configured as ordered). As the real
// broker: for each subscription group, each topic it committed offsets of
// that still exists (and that its live members subscribe, if any are
// connected), one ConsumeStats with every write queue's broker offset,
// the group's offset (0 when it has none) and the store time of the last
// message it consumed; totalDiff sums broker - consumer offsets. Body
// ConsumeStatsList {"brokerAddr":advertised,"consumeStatsList":
// [{group:[ConsumeStats,...]},...],"totalDiff":n}, groups sorted.

type offsetWrapper struct {
	BrokerOffset   int64 `json:"brokerOffset"`
	ConsumerOffset int64 `json:"consumerOffset"`
	LastTimestamp  int64 `json:"lastTimestamp"`
}

// handleGetBrokerConsumeStats serves code 317.
func (b *Broker) handleGetBrokerConsumeStats(c *conn, req *remoting.Command) (*remoting.Command, error) {
	onlyOrder := req.Bool("isOrder")
	groups, _ := b.groups.snapshot()
	var totalDiff int64
	body := []byte(`{"brokerAddr":`)
	body = appendJSONString(body, b.advertised)
	body = append(body, `,"consumeStatsList":[`...)
	now := time.Now()
	for gi, gc := range groups {
		group := gc.GroupName
		if gi > 0 {
			body = append(body, ',')
		}
		body = append(appendJSONString(append(body, '{'), group), ":["...)
		subs, _ := b.clients.groupTopics(group)
		subscribed := make(map[string]bool, len(subs))
		for _, t := range subs {
			subscribed[t] = true
		}
		topics := b.offsets.topicsOfGroup(group)
		sort.Strings(topics)
		n := 0
		for _, topic := range topics {
			tc := b.topics.get(topic)
			if tc == nil || (onlyOrder && !tc.Order) || (len(subscribed) > 0 && !subscribed[topic]) {
				continue
			}
			entries := make([]mqValue, 0, tc.WriteQueueNums)
			for q := range tc.WriteQueueNums {
				w := offsetWrapper{BrokerOffset: b.store.MaxOffset(topic, int32(q))}
				w.ConsumerOffset, _ = b.offsets.query(group, topic, int32(q))
				w.ConsumerOffset = max(w.ConsumerOffset, 0)
				if w.ConsumerOffset > 0 {
					w.LastTimestamp = b.storeTimeAt(topic, int32(q), w.ConsumerOffset-1)
				}
				totalDiff += max(w.BrokerOffset-w.ConsumerOffset, 0)
				entries = append(entries, mqValue{topic, q, w})
			}
			minute, _, _, _ := b.stats.get(statsGroupGetNums, topic+"@"+group, now)
			if n > 0 {
				body = append(body, ',')
			}
			n++
			body = append(body, `{"consumeTps":`...)
			body = appendJSONFloat(body, minute.Tps)
			body = append(body, `,"offsetTable":`...)
			var err error
			if body, err = b.appendMQMap(body, entries); err != nil {
				return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
			}
			body = append(body, '}')
		}
		body = append(body, "]}"...)
	}
	body = append(body, `],"totalDiff":`...)
	body = append(body, itoa(totalDiff)...)
	body = append(body, '}')
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}
