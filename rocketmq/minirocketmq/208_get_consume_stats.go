package minirocketmq

import (
	"bytes"
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_CONSUME_STATS (208): a consumer group's progress per queue, for
// admin tools (mqadmin consumerProgress, the dashboard's consumer page);
// the Go API is Broker.ConsumerProgress.
//
// Honoured: consumerGroup, topic (optional: only that topic). Body
// ConsumeStats in the dialect Java admin tools read (fastjson: the
// offsetTable map has MessageQueue objects as keys):
// {"consumeTps":0.0,"offsetTable":{{"brokerName":...,"queueId":...,
// "topic":...}:{"brokerOffset":...,"consumerOffset":...,
// "lastTimestamp":...},...}}. Queues the group never committed have
// consumerOffset 0, as on the real broker. Not honoured: consumeTps is
// always 0 (the broker keeps no rates).

// handleGetConsumeStats serves code 208.
func (b *Broker) handleGetConsumeStats(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("consumerGroup", true)
	topic := h.str("topic", false)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	var body bytes.Buffer
	body.WriteString(`{"consumeTps":0.0,"offsetTable":{`)
	first := true
	for _, p := range b.ConsumerProgress(group) {
		if topic != "" && p.Topic != topic {
			continue
		}
		key, err := json.Marshal(messageQueue{Topic: p.Topic, BrokerName: b.cfg.brokerName, QueueID: p.QueueID})
		if err != nil {
			return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
		}
		val, err := json.Marshal(struct {
			BrokerOffset   int64 `json:"brokerOffset"`
			ConsumerOffset int64 `json:"consumerOffset"`
			LastTimestamp  int64 `json:"lastTimestamp"`
		}{p.BrokerOffset, p.ConsumerOffset, p.LastTimestamp})
		if err != nil {
			return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
		}
		if !first {
			body.WriteByte(',')
		}
		first = false
		body.Write(key)
		body.WriteByte(':')
		body.Write(val)
	}
	body.WriteString("}}")
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body.Bytes()
	return resp, nil
}
