package minirocketmq

import (
	"container/heap"
	"errors"
	"strconv"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Timed messages (RocketMQ 5's timer: TimerMessageStore). A message whose
// TIMER_DELIVER_MS (an absolute time in ms; what a gRPC producer's
// delivery timestamp becomes), TIMER_DELAY_SEC or TIMER_DELAY_MS (relative
// to its store time; what 5.x remoting clients send) lies in the future is
// stored in rmq_sys_wheel_timer queue 0 with REAL_TOPIC and REAL_QID; when
// its time comes on the broker's Clock, the timer stores it in its real
// queue with TIMER_DELIVER_MS set to the time it was due (consumers see
// when it was meant for; gRPC consumers get it as delivery_timestamp) and
// the relative properties and REAL_* removed. A time already past is
// delivered at once, the same way. This works for messages of either
// protocol; 4.9.4 ignores these properties (the Go remoting client sets
// none of them unless asked).
//
// The timer goroutine owns an index of the parked messages by due time
// (a heap of ~40 bytes per message, at most maxTimerIndex: further parked
// messages are indexed as earlier ones leave, and so may come late under
// such a load) and a cursor into the timer queue. Its low-water mark (the
// oldest parked message not yet delivered) is kept in the offset table as
// the offset of the system group CID_RMQ_SYS_TIMER, so a restart with a
// data directory re-indexes from there: nothing is lost; a message
// delivered after that mark is delivered again (at least once, like the
// delay levels' cursors). A panic of the store while indexing or
// delivering is recovered (Broker.background): the message is tried again
// a second later. That mark is why a message may be due at most
// WithTimerMaxDelay ahead (errTimerTooFar): one due in years would pin it,
// and with it every parked message after it, in the index and the store.

// Timer topic and properties (TimerMessageStore, MessageConst).
const (
	TimerTopic             = "rmq_sys_wheel_timer"
	timerGroup             = "CID_RMQ_SYS_TIMER"
	propertyTimerDeliverMS = "TIMER_DELIVER_MS"
	propertyTimerDelaySec  = "TIMER_DELAY_SEC"
	propertyTimerDelayMS   = "TIMER_DELAY_MS"
	maxTimerIndex          = 1 << 20
)

// errTimerTooFar is the refusal of a timed message due further ahead than
// WithTimerMaxDelay (the real broker's WHEEL_TIMER_MSG_ILLEGAL).
var errTimerTooFar = errors.New("timer message due too far ahead")

// timerDue returns when a message with these properties is to be
// delivered, and false when it is not a timed message. stored is its store
// time (ms), the base of relative delays.
func timerDue(props string, stored int64) (int64, bool) {
	if v, ok := message.Property(props, propertyTimerDeliverMS); ok {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			return ms, true
		}
	}
	if v, ok := message.Property(props, propertyTimerDelaySec); ok {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 && s < 1<<32 {
			return stored + s*1000, true
		}
	}
	if v, ok := message.Property(props, propertyTimerDelayMS); ok {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 && ms < 1<<42 {
			return stored + ms, true
		}
	}
	return 0, false
}

// timedProperties returns props with TIMER_DELIVER_MS = due and the
// relative delay properties removed.
func timedProperties(props string, due int64) string {
	return message.EditProperties(props, []string{propertyTimerDelaySec, propertyTimerDelayMS},
		propertyTimerDeliverMS, strconv.FormatInt(due, 10))
}

// timerWheel delivers timed messages when they are due.
type timerWheel struct {
	b     *Broker
	timer *clockTimer

	// Owned by run.
	cursor    int64     // next timer-queue offset to index
	due       timerHeap // indexed, undelivered, by due time
	offsets   []int64   // queue offsets of indexed messages, ascending, for the low-water mark
	delivered map[int64]bool
	committed int64
	buf       []byte
}

type timerEntry struct {
	due, offset, commitLogOffset int64
}

func newTimerWheel(b *Broker) *timerWheel {
	return &timerWheel{b: b, timer: newClockTimer(b.clock), delivered: make(map[int64]bool), committed: -1}
}

// park stores m in the timer queue until due (ms) and wakes the timer. m
// is rewritten in place.
func (w *timerWheel) park(m *message.Message, due int64) error {
	m.Properties = message.EditProperties(timedProperties(m.Properties, due), nil,
		message.PropertyRealTopic, m.Topic,
		message.PropertyRealQueueID, strconv.Itoa(int(m.QueueID)))
	m.Topic, m.QueueID = TimerTopic, 0
	if err := w.b.putMessages([]*message.Message{m}); err != nil {
		return err
	}
	w.timer.signal()
	return nil
}

// run is the timer goroutine, counted in b.wg.
func (w *timerWheel) run() {
	defer w.b.wg.Done()
	defer w.timer.stop()
	if off, ok := w.b.offsets.query(timerGroup, TimerTopic, 0); ok {
		w.cursor, w.committed = off, off
	}
	w.cursor = max(w.cursor, w.b.store.MinOffset(TimerTopic, 0))
	for {
		now := w.b.clock.Now()
		w.b.background("timer: index "+TimerTopic, w.index, nil)
		w.b.background("timer: deliver", func() { w.deliver(now); w.commit() }, func() { w.postpone(now) })
		var next time.Time
		if len(w.due) > 0 {
			next = time.UnixMilli(w.due[0].due)
		}
		w.timer.arm(next)
		select {
		case <-w.timer.wake:
		case <-w.b.done:
			return
		}
	}
}

// index reads the parked messages after the cursor into the heap.
func (w *timerWheel) index() {
	for len(w.due) < maxTimerIndex {
		res, err := w.b.store.Get(&store.GetRequest{
			Topic: TimerTopic, QueueID: 0, Offset: w.cursor,
			MaxMsgs: maxPullMessages, MaxBytes: maxPullBytes, Dst: w.buf[:0],
		})
		if err != nil {
			w.b.log.Logf(LogLevelError, "timer: read %s at %d: %v", TimerTopic, w.cursor, err)
			return
		}
		w.buf = res.Records
		switch res.Status {
		case store.Found:
		case store.OffsetTooSmall, store.OffsetOverflowBadly:
			w.cursor = res.NextOffset
			continue
		default:
			return
		}
		for rec := res.Records; len(rec) > 0 && len(w.due) < maxTimerIndex; {
			m, n, err := message.DecodeRecord(rec)
			if err != nil {
				w.b.log.Logf(LogLevelError, "timer: skipping undecodable records of %s from %d: %v", TimerTopic, w.cursor, err)
				w.cursor = res.NextOffset
				break
			}
			rec = rec[n:]
			due, _ := timerDue(m.Properties, m.StoreTimestamp)
			heap.Push(&w.due, timerEntry{due: due, offset: m.QueueOffset, commitLogOffset: m.CommitLogOffset})
			w.offsets = append(w.offsets, m.QueueOffset)
			w.cursor = m.QueueOffset + 1
		}
	}
}

// deliver stores every message due at now in its real queue.
func (w *timerWheel) deliver(now time.Time) {
	for len(w.due) > 0 && w.due[0].due <= now.UnixMilli() {
		e := w.due[0]
		rec, err := w.b.store.Lookup(nil, e.commitLogOffset)
		var out *message.Message
		if err == nil {
			var m *message.Message
			if m, _, err = message.DecodeRecord(rec); err == nil {
				out = w.timeUp(m)
			}
		}
		if err == nil && out != nil {
			if err = w.b.putMessages([]*message.Message{out}); err != nil {
				w.b.log.Logf(LogLevelError, "timer: deliver to %s/%d: %v; trying again in 1s", out.Topic, out.QueueID, err)
				w.due[0].due = now.Add(time.Second).UnixMilli()
				heap.Fix(&w.due, 0)
				return
			}
		} else if err != nil {
			w.b.log.Logf(LogLevelError, "timer: read parked message at %d: %v; dropping it", e.commitLogOffset, err)
		}
		heap.Pop(&w.due)
		w.delivered[e.offset] = true
	}
}

// postpone puts the message being delivered at now (the first due) back
// by a second, as a failed store does, after a panic of the store: the
// timer does not spin on it, and it is not lost.
func (w *timerWheel) postpone(now time.Time) {
	if len(w.due) > 0 && w.due[0].due <= now.UnixMilli() {
		w.due[0].due = now.Add(time.Second).UnixMilli()
		heap.Fix(&w.due, 0)
	}
}

// timeUp returns the message to store in the real queue of a parked one;
// nil (logged) when the record does not say where it belongs.
func (w *timerWheel) timeUp(m *message.Message) *message.Message {
	return w.b.unpark("timer", m, message.PropertyRealTopic, message.PropertyRealQueueID)
}

// commit moves the low-water mark past delivered messages and records it.
func (w *timerWheel) commit() {
	i := 0
	for i < len(w.offsets) && w.delivered[w.offsets[i]] {
		delete(w.delivered, w.offsets[i])
		i++
	}
	w.offsets = w.offsets[i:]
	low := w.cursor
	if len(w.offsets) > 0 {
		low = w.offsets[0]
	}
	if low != w.committed {
		w.committed = low
		w.b.offsets.commit(timerGroup, TimerTopic, 0, low)
	}
}

// timerHeap orders indexed timer entries by due time (container/heap).
type timerHeap []timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].offset < h[j].offset
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
