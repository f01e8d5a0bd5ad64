package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// UPDATE_CONSUMER_OFFSET (15): commit a group's offset in a queue. The Go
// client sends it every 5 s without the oneway flag and ignores the answer.
//
// Honoured: consumerGroup, topic, queueId, commitOffset. Like the real
// broker, no check that the topic or group exist. The commit goes through
// the pop engine (setConsumerOffset), so a group consuming over gRPC or
// HTTP goes on from the new offset: mqadmin resetOffsetByTime sets
// offsets with this code when the group has no remoting member.

// handleUpdateConsumerOffset serves code 15.
func (b *Broker) handleUpdateConsumerOffset(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("consumerGroup", true)
	topic := h.str("topic", true)
	queueID := h.int32("queueId", true)
	off := h.int64("commitOffset", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	b.setConsumerOffset(group, topic, queueID, off)
	return remoting.NewResponse(req, remoting.Success, ""), nil
}
