package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// INVOKE_BROKER_TO_RESET_OFFSET (222): an admin tool resets a consumer
// group's offsets of a topic to a time (mqadmin resetOffsetByTime, the
// dashboard's reset); see reset.go.
//
// Honoured: topic, group, timestamp (ms; -1: now, the end of each queue),
// isForce. As the real broker (Broker2Client.resetOffset): unknown topic →
// SYSTEM_ERROR; a queue the group never committed → SYSTEM_ERROR "THe
// consumer group <G> not exist"; no member connected → CONSUMER_NOT_ONLINE,
// and nothing changes (mqadmin then sets the offsets itself with
// UPDATE_CONSUMER_OFFSET). Otherwise the members get
// RESET_CONSUMER_CLIENT_OFFSET and the answer is SUCCESS with body
// ResetOffsetBody {"offsetTable":{mq:offset,...}}. Better than the real
// broker: the new offsets are committed here too, so a member that
// restarts before it applied them still starts there. Ignored: isC (a C++
// client's body format).

// handleInvokeBrokerToResetOffset serves code 222.
func (b *Broker) handleInvokeBrokerToResetOffset(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	group := h.str("group", true)
	ts := h.int64("timestamp", true)
	force := h.bool("isForce")
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	offsets, code, remark := b.computeResetOffsets(group, topic, ts, force, true)
	if code != remoting.Success {
		return remoting.NewResponse(req, code, remark), nil
	}
	if len(b.clients.memberConns(group)) == 0 {
		return remoting.NewResponse(req, remoting.ConsumerNotOnline, remarkf(msgResetConsumerNotOnline, group, topic, ts)), nil
	}
	_, body, err := b.applyResetOffsets(group, topic, ts, offsets)
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}
