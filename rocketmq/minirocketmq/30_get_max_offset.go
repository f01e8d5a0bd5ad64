package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// GET_MAX_OFFSET (30): the next queue offset to be written, which is the
// number of messages the queue ever had (CONSUME_FROM_LAST_OFFSET).
//
// Honoured: topic, queueId. Unknown queue → 0. Always SUCCESS. The 5.x
// field committed is ignored.

// handleGetMaxOffset serves code 30.
func (b *Broker) handleGetMaxOffset(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	queueID := h.int32("queueId", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.SetInt("offset", b.store.MaxOffset(topic, queueID))
	return resp, nil
}
