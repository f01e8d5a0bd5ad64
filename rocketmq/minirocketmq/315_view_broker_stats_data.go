package minirocketmq

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// VIEW_BROKER_STATS_DATA (315): the put or get counts of a topic or a
// topic@group over the last minute, hour and day (mqadmin statsAll).
//
// Honoured: statsName (TOPIC_PUT_NUMS with statsKey = topic,
// GROUP_GET_NUMS with statsKey = topic@group), statsKey. A key that saw no
// traffic (or any other name) → SYSTEM_ERROR "The stats <name> <key> not
// exist", as the real broker. Body BrokerStatsData {"statsDay":{"avgpt",
// "sum","tps"},"statsHour":{...},"statsMinute":{...}}; avgpt is the
// messages per send or pull. See brokerstats.go.

// handleViewBrokerStatsData serves code 315.
func (b *Broker) handleViewBrokerStatsData(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	name := h.str("statsName", true)
	key := h.str("statsKey", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	minute, hour, day, ok := b.stats.get(name, key, time.Now())
	if !ok {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgStatsNotExist, name, key)), nil
	}
	return jsonResponse(req, struct {
		StatsDay    statsSnapshot `json:"statsDay"`
		StatsHour   statsSnapshot `json:"statsHour"`
		StatsMinute statsSnapshot `json:"statsMinute"`
	}{day, hour, minute}), nil
}
