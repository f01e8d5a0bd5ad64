package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// QUERY_CONSUMER_OFFSET (14): the committed offset of a group in a queue.
//
// Honoured: consumerGroup, topic, queueId. Like the real broker: a stored
// offset → SUCCESS with ext offset; no stored offset and a queue whose
// first message is still at offset 0 → SUCCESS with offset 0 (a new group
// starts at the beginning of a young queue); otherwise QUERY_NOT_FOUND,
// after which the client applies its ConsumeFromWhere.

// handleQueryConsumerOffset serves code 14.
func (b *Broker) handleQueryConsumerOffset(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("consumerGroup", true)
	topic := h.str("topic", true)
	queueID := h.int32("queueId", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	off, ok := b.offsets.query(group, topic, queueID)
	if !ok {
		if b.store.MinOffset(topic, queueID) > 0 {
			return remoting.NewResponse(req, remoting.QueryNotFound, msgOffsetNotFound), nil
		}
		off = 0
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.SetInt("offset", off)
	return resp, nil
}
