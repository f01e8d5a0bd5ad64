package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// SEARCH_OFFSET_BY_TIMESTAMP (29): the queue offset for a store time (the Go
// pull consumer's OffsetForTimestamp, CONSUME_FROM_TIMESTAMP).
//
// Honoured: topic, queueId, timestamp (ms). Semantics of the real
// ConsumeQueue.getOffsetInQueueByTime: the offset of a message stored at
// exactly that time, else of the nearest one (ties to the earlier); the
// first message for times before it, the last (not max) for times after
// it; 0 for an empty or unknown queue. Always SUCCESS.

// handleSearchOffsetByTimestamp serves code 29.
func (b *Broker) handleSearchOffsetByTimestamp(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	queueID := h.int32("queueId", true)
	ts := h.int64("timestamp", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.SetInt("offset", b.store.OffsetByTime(topic, queueID, ts))
	return resp, nil
}
