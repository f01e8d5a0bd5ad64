package minirocketmq

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Replay: moving a consumer group's offsets to a point in time, the
// broker's half of mqadmin resetOffsetByTime (INVOKE_BROKER_TO_RESET_OFFSET,
// 222) and Broker.ResetOffsetByTime. Each queue's new offset is the first
// message stored at or after the time (222: the one
// SEARCH_OFFSET_BY_TIMESTAMP gives, the nearest, as the real broker; "now"
// or a time after the newest message: the end of the queue). Without force
// a queue only moves backwards. The broker then
//   - commits the new offsets as the group's (the real broker leaves that
//     to the clients), so a member that starts later begins there, through
//     the pop engine, so that receives over gRPC and HTTP go on from there
//     too (the real broker's server-side reset: the next pop reads from
//     the reset offset);
//   - sends RESET_CONSUMER_CLIENT_OFFSET (220) with the offset table to
//     every live member, which drops what it has fetched and goes on from
//     there (the Go client after a 10 s pause of its own).

// ErrGroupNotOnline is returned by ResetOffsetByTime when the group has no
// connected member: its offsets are changed all the same and apply when a
// member starts.
var ErrGroupNotOnline = errors.New("minirocketmq: consumer group not online")

// resetTimestampNow is the timestamp mqadmin sends for "now": the end of
// every queue.
const resetTimestampNow = -1

// computeResetOffsets returns each write queue's new offset for a reset of
// group on topic to ts (ms; -1: the end). strict is the real broker's way
// for 222: a queue the group never committed is an error, and the offset
// is the message stored nearest to ts (SEARCH_OFFSET_BY_TIMESTAMP);
// otherwise the first message stored at or after ts.
func (b *Broker) computeResetOffsets(group, topic string, ts int64, force, strict bool) (map[int]int64, int16, string) {
	tc := b.topics.get(topic)
	if tc == nil {
		return nil, remoting.SystemError, remarkf(msgResetNoTopic, topic)
	}
	out := make(map[int]int64, tc.WriteQueueNums)
	for q := range tc.WriteQueueNums {
		current, ok := b.offsets.query(group, topic, int32(q))
		if !ok {
			if strict {
				return nil, remoting.SystemError, remarkf(msgResetGroupNotExist, group)
			}
			current = b.store.MaxOffset(topic, int32(q)) // nothing to move back from
		}
		target := b.store.MaxOffset(topic, int32(q))
		if ts != resetTimestampNow {
			target = b.store.OffsetByTime(topic, int32(q), ts)
			if newest := b.store.MaxOffset(topic, int32(q)); newest > 0 && ts > b.storeTimeAt(topic, int32(q), newest-1) {
				target = newest // after everything stored: start at the end
			} else if !strict && target < newest && b.storeTimeAt(topic, int32(q), target) < ts {
				target++ // the nearest was stored before ts: start after it
			}
		}
		target = max(target, 0)
		if force || target < current {
			out[q] = target
		} else {
			out[q] = current
		}
	}
	return out, remoting.Success, ""
}

// applyResetOffsets commits offsets as group's and tells its live members;
// it reports whether any member was told, and returns the offset table it
// told them (the body of code 222's answer too).
func (b *Broker) applyResetOffsets(group, topic string, ts int64, offsets map[int]int64) (bool, []byte, error) {
	for q, off := range offsets {
		b.setConsumerOffset(group, topic, int32(q), off)
	}
	entries := make([]mqValue, 0, len(offsets))
	for q, off := range offsets {
		entries = append(entries, mqValue{topic, q, off})
	}
	body, err := b.offsetTableBody(entries)
	if err != nil {
		return false, nil, err
	}
	told := false
	for _, mc := range b.clients.memberConns(group) {
		push := remoting.NewRequest(remoting.ResetConsumerClientOffset, "topic", topic, "group", group, "timestamp", strconv.FormatInt(ts, 10))
		push.Body = body
		if err := mc.SendOneway(push); err != nil {
			b.log.Logf(LogLevelWarn, "reset offsets of %s on %s: tell %s: %v", group, topic, mc.RemoteAddr(), err)
			continue
		}
		told = true
	}
	b.log.Logf(LogLevelInfo, "offsets of group %s on topic %s reset to %v (timestamp %d); %d member(s) told", group, topic, offsets, ts, len(b.clients.memberConns(group)))
	return told, body, nil
}

// ResetOffsetByTime replays (or skips) a consumer group's messages of a
// topic from time t on: each queue's offset becomes the first message
// stored at or after t, a t after the newest message the end of the queue
// (mqadmin's reset takes the message stored nearest to t instead). With force false a queue only moves backwards (what was
// consumed after t is consumed again; nothing is skipped). The new offsets
// are committed for the group and sent to its live members
// (RESET_CONSUMER_CLIENT_OFFSET), which go on from there; the Go client
// waits 10 s before it applies them. It returns the new offset by queue
// id; with no member connected, the offsets are committed and
// ErrGroupNotOnline returned, so a member that starts later begins there.
// This is what mqadmin resetOffsetByTime asks the broker for.
func (b *Broker) ResetOffsetByTime(group, topic string, t time.Time, force bool) (map[int]int64, error) {
	offsets, code, remark := b.computeResetOffsets(group, topic, t.UnixMilli(), force, false)
	if code != remoting.Success {
		return nil, fmt.Errorf("minirocketmq: reset offsets of %s on %s: %s", group, topic, remark)
	}
	told, _, err := b.applyResetOffsets(group, topic, t.UnixMilli(), offsets)
	if err != nil {
		return nil, fmt.Errorf("minirocketmq: reset offsets of %s on %s: %w", group, topic, err)
	}
	if !told {
		return offsets, ErrGroupNotOnline
	}
	return offsets, nil
}
