package minirocketmq

import (
	"strconv"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_ALL_DELAY_OFFSET (45): the delay levels' cursors (a slave broker's
// sync; the dashboard). Body {"offsetTable":{"level":offset}}, the shape of
// delayOffset.json: for each level (1-based) that delivered something, the
// next queue offset of SCHEDULE_TOPIC_XXXX queue level-1 to deliver.

// handleGetAllDelayOffset serves code 45.
func (b *Broker) handleGetAllDelayOffset(c *conn, req *remoting.Command) (*remoting.Command, error) {
	table := make(map[string]int64)
	for i := range b.cfg.sem.delayLevels {
		if off, ok := b.offsets.query(scheduleGroup, ScheduleTopic, int32(i)); ok {
			table[strconv.Itoa(i+1)] = off
		}
	}
	return jsonResponse(req, struct {
		OffsetTable map[string]int64 `json:"offsetTable"`
	}{table}), nil
}
