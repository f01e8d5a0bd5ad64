package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// GET_MIN_OFFSET (31): the first queue offset still stored (Java clients'
// minOffset; the Go client never sends it). Honoured: topic, queueId.
// Unknown queue → 0. Always SUCCESS.

// handleGetMinOffset serves code 31.
func (b *Broker) handleGetMinOffset(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	queueID := h.int32("queueId", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.SetInt("offset", b.store.MinOffset(topic, queueID))
	return resp, nil
}
