package minirocketmq

import (
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// QUERY_CONSUME_QUEUE (321): the index entries of a queue (mqadmin
// queryCq, the dashboard's message trace of a queue).
//
// Honoured: topic, queueId, index (first queue offset), count (at most
// 1,024 entries and 4 MiB of messages), consumerGroup (optional: its
// subscription of the topic, or "G@T is not online!"). A queue that does
// not exist → SYSTEM_ERROR "Q@T is not exist!"; an index outside the
// queue → SUCCESS with the remark "Index I of Q@T is not exist!" and no
// body, as the real broker. Body QueryConsumeQueueResponseBody
// {"filterData","maxQueueIndex","minQueueIndex","queueData":[{"bitMap",
// "eval","extendDataJson","msg","physicOffset","physicSize","tagsCode"}],
// "subscriptionData"} (null fields left out, as fastjson writes them).
// Entries whose message was removed (retention) are left out. Not
// honoured: extended queue data (bitMap, eval, extendDataJson stay empty:
// this broker has no consume-queue extension).

type consumeQueueData struct {
	BitMap         *string `json:"bitMap,omitempty"` // fastjson leaves nulls out
	Eval           bool    `json:"eval"`
	ExtendDataJSON *string `json:"extendDataJson,omitempty"`
	Msg            *string `json:"msg,omitempty"`
	PhysicOffset   int64   `json:"physicOffset"`
	PhysicSize     int     `json:"physicSize"`
	TagsCode       int64   `json:"tagsCode"`
}

const maxQueryConsumeQueue = 1024

// handleQueryConsumeQueue serves code 321.
func (b *Broker) handleQueryConsumeQueue(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	queueID := h.int32("queueId", true)
	index := h.int64("index", true)
	count := h.int32("count", true)
	group := h.str("consumerGroup", false)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	tc := b.topics.get(topic)
	if tc == nil || queueID < 0 || int(queueID) >= tc.queueCount() {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgConsumeQueueNotExist, queueID, topic)), nil
	}
	minOff, maxOff := b.store.MinOffset(topic, queueID), b.store.MaxOffset(topic, queueID)
	body := struct {
		FilterData       *string            `json:"filterData"`
		MaxQueueIndex    int64              `json:"maxQueueIndex"`
		MinQueueIndex    int64              `json:"minQueueIndex"`
		QueueData        []consumeQueueData `json:"queueData"`
		SubscriptionData *subscriptionData  `json:"subscriptionData"`
	}{MaxQueueIndex: maxOff, MinQueueIndex: minOff, QueueData: []consumeQueueData{}}
	if group != "" {
		if s, _ := b.clients.subscription(group, topic); s != nil {
			d := s.data()
			body.SubscriptionData = &d
			none := "null" // the JSON of no consumer filter data, as the real broker sends it
			body.FilterData = &none
		} else {
			msg := group + "@" + topic + " is not online!"
			body.FilterData = &msg
		}
	}
	if index < minOff || index >= maxOff {
		return remoting.NewResponse(req, remoting.Success, remarkf(msgConsumeQueueIndexNotExist, index, queueID, topic)), nil
	}
	res, err := b.store.Get(&store.GetRequest{Topic: topic, QueueID: queueID, Offset: index,
		MaxMsgs: int(min(max(count, 1), maxQueryConsumeQueue)), MaxBytes: 4 << 20})
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	for rec := res.Records; len(rec) > 0; {
		m, n, err := message.DecodeRecord(rec)
		if err != nil {
			return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
		}
		body.QueueData = append(body.QueueData, consumeQueueData{PhysicOffset: m.CommitLogOffset, PhysicSize: n, TagsCode: tagsCode(m.Properties)})
		rec = rec[n:]
	}
	return jsonResponse(req, body), nil
}
