package minirocketmq

import (
	"bytes"
	"encoding/json"
	"time"

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
// consumerOffset 0, as on the real broker. consumeTps is the messages the
// group pulled per second over the last minute (brokerstats.go).

// handleGetConsumeStats serves code 208.
func (b *Broker) handleGetConsumeStats(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("consumerGroup", true)
	topic := h.str("topic", false)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	var body bytes.Buffer
	progress := b.ConsumerProgress(group)
	var tps float64
	counted := make(map[string]bool)
	for _, p := range progress {
		if (topic == "" || p.Topic == topic) && !counted[p.Topic] {
			counted[p.Topic] = true
			minute, _, _, _ := b.stats.get(statsGroupGetNums, p.Topic+"@"+group, time.Now())
			tps += minute.Tps
		}
	}
	body.WriteString(`{"consumeTps":`)
	body.Write(appendJSONFloat(nil, tps))
	body.WriteString(`,"offsetTable":{`)
	first := true
	for _, p := range progress {
		if topic != "" && p.Topic != topic {
			continue
		}
		key, err := json.Marshal(mqKey{BrokerName: b.cfg.brokerName, QueueID: p.QueueID, Topic: p.Topic})
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
