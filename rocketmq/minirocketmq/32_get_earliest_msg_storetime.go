package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// GET_EARLIEST_MSG_STORETIME (32): store time of the first stored message of
// a queue, ext timestamp (ms); -1 for an empty or unknown queue, as the
// real broker. Honoured: topic, queueId. Always SUCCESS.

// handleGetEarliestMsgStoretime serves code 32.
func (b *Broker) handleGetEarliestMsgStoretime(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	queueID := h.int32("queueId", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.SetInt("timestamp", b.store.EarliestTime(topic, queueID))
	return resp, nil
}
