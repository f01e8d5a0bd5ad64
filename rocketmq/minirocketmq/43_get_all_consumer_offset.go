package minirocketmq

import (
	"strconv"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_ALL_CONSUMER_OFFSET (43): every committed consumer offset (a slave
// broker's sync; the dashboard). Body {"offsetTable":{"topic@group":
// {"queueId":offset}}}, the shape of consumerOffset.json (queue ids
// quoted: standard JSON, which fastjson reads too). The delay levels'
// cursors are left out (GET_ALL_DELAY_OFFSET has them).

// handleGetAllConsumerOffset serves code 43.
func (b *Broker) handleGetAllConsumerOffset(c *conn, req *remoting.Command) (*remoting.Command, error) {
	m, _ := b.offsets.snapshot()
	table := make(map[string]map[string]int64)
	for k, off := range m {
		if k.group == scheduleGroup {
			continue
		}
		key := k.topic + "@" + k.group
		if table[key] == nil {
			table[key] = make(map[string]int64)
		}
		table[key][strconv.Itoa(int(k.queueID))] = off
	}
	return jsonResponse(req, offsetsJSON{OffsetTable: table}), nil
}
