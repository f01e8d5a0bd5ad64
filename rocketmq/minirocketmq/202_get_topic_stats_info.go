package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// GET_TOPIC_STATS_INFO (202): each queue's min and max offset and the
// store time of its newest message (mqadmin topicStatus, the dashboard's
// topic page).
//
// Honoured: topic; unknown → TOPIC_NOT_EXIST "topic[T] not exist", as the
// real broker. Body TopicStatsTable in the Java tools' dialect:
// {"offsetTable":{{"brokerName":..,"queueId":..,"topic":..}:
// {"lastUpdateTimestamp":..,"maxOffset":..,"minOffset":..},...}}, one entry
// per write queue.

type topicOffset struct {
	LastUpdateTimestamp int64 `json:"lastUpdateTimestamp"`
	MaxOffset           int64 `json:"maxOffset"`
	MinOffset           int64 `json:"minOffset"`
}

// handleGetTopicStatsInfo serves code 202.
func (b *Broker) handleGetTopicStatsInfo(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	tc := b.topics.get(topic)
	if tc == nil {
		return remoting.NewResponse(req, remoting.TopicNotExist, remarkf(msgSystemTopicNotExist, topic)), nil
	}
	entries := make([]mqValue, 0, tc.WriteQueueNums)
	for q := range tc.WriteQueueNums {
		off := topicOffset{MinOffset: b.store.MinOffset(topic, int32(q)), MaxOffset: b.store.MaxOffset(topic, int32(q))}
		if off.MaxOffset > 0 {
			off.LastUpdateTimestamp = b.storeTimeAt(topic, int32(q), off.MaxOffset-1)
		}
		entries = append(entries, mqValue{topic, q, off})
	}
	body, err := b.offsetTableBody(entries)
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}
