package minirocketmq

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Delay levels (ScheduleMessageService). A message whose DELAY property
// names a level > 0 is stored in SCHEDULE_TOPIC_XXXX, queue level-1, with
// REAL_TOPIC and REAL_QID saying where it belongs; when its level's delay
// has passed since it was stored, the scheduler stores it again in its real
// queue (new offsets and offset message id, same UNIQ_KEY, DELAY removed),
// where pulls see it. Retries travel the same way: CONSUMER_SEND_MSG_BACK
// stores the message for %RETRY%<group> with DELAY = its back-off level.
//
// Every message of a level waits as long and store times never go back, so
// each level queue falls due in order: the scheduler keeps one cursor per
// level (the next queue offset to deliver) and sleeps on the broker's Clock
// until the head of the earliest level is due. A message is due one
// millisecond after storeTimestamp + delay, because store timestamps are
// truncated to the millisecond and a delay must never come out shorter.
//
// Persistence: the parked messages are in the Store; the cursors are in the
// offset table as the offsets of the system group CID_RMQ_SYS_SCHEDULE on
// SCHEDULE_TOPIC_XXXX, so whatever persists consumer offsets persists them
// too. After a restart the scheduler resumes at the cursors; what it
// delivered after the last saved cursor is delivered again (at least once,
// as with the real broker's delayOffset.json).
//
// Owner: the scheduler goroutine (run) owns cursors and due times. Others
// only mark a level dirty and wake it (kick).

// scheduleGroup is the system group whose offsets are the delivery cursors
// of the delay levels.
const scheduleGroup = "CID_RMQ_SYS_SCHEDULE"

type scheduler struct {
	b      *Broker
	levels []time.Duration
	dirty  []atomic.Bool // set by kick: a message was parked in that level
	timer  *clockTimer

	// Owned by run.
	cursor []int64
	due    []time.Time // due time of the level's head message; zero: none waiting
	buf    []byte
}

func newScheduler(b *Broker) *scheduler {
	n := len(b.cfg.sem.delayLevels)
	return &scheduler{
		b:      b,
		levels: b.cfg.sem.delayLevels,
		dirty:  make([]atomic.Bool, n),
		timer:  newClockTimer(b.clock),
		cursor: make([]int64, n),
		due:    make([]time.Time, n),
	}
}

// delayLevel returns the delay level a message's properties ask for,
// capped at the highest level; 0 for none.
func (s *scheduler) delayLevel(props string) int {
	v, ok := message.Property(props, message.PropertyDelayTimeLevel)
	if !ok || v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0
	}
	return min(n, len(s.levels))
}

// park stores m in the schedule queue of level (1-based) and wakes the
// scheduler. m is rewritten in place.
func (s *scheduler) park(m *message.Message, level int) error {
	m.Properties = message.EditProperties(m.Properties, nil,
		message.PropertyRealTopic, m.Topic,
		message.PropertyRealQueueID, strconv.Itoa(int(m.QueueID)),
		message.PropertyDelayTimeLevel, strconv.Itoa(level))
	m.Topic = ScheduleTopic
	m.QueueID = int32(level - 1)
	if err := s.b.putMessages([]*message.Message{m}); err != nil {
		return err
	}
	s.kick(level - 1)
	return nil
}

// kick tells the scheduler that queue i has a new message. Safe from any
// goroutine; never blocks.
func (s *scheduler) kick(i int) {
	s.dirty[i].Store(true)
	s.timer.signal()
}

func (s *scheduler) run() {
	defer s.b.wg.Done()
	defer s.timer.stop()
	for i := range s.levels {
		if off, ok := s.b.offsets.query(scheduleGroup, ScheduleTopic, int32(i)); ok {
			s.cursor[i] = off
		} else {
			s.cursor[i] = s.b.store.MinOffset(ScheduleTopic, int32(i))
		}
		s.dirty[i].Store(true)
	}
	for {
		now := s.b.clock.Now()
		var next time.Time
		for i := range s.levels {
			dirty := s.dirty[i].Swap(false)
			// A message parked behind a known head is due after it: only
			// an empty level needs a look when kicked.
			if (dirty && s.due[i].IsZero()) || (!s.due[i].IsZero() && !s.due[i].After(now)) {
				s.due[i] = s.deliverLevel(i, now)
			}
			if d := s.due[i]; !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		s.timer.arm(next)
		select {
		case <-s.timer.wake:
		case <-s.b.done:
			return
		}
	}
}

// deliverLevel moves every message of level queue i that is due at now to
// its real queue, and returns the due time of the first one that is not
// (zero when the queue is drained).
func (s *scheduler) deliverLevel(i int, now time.Time) time.Time {
	retry := now.Add(time.Second) // after a store failure
	for {
		res, err := s.b.store.Get(&store.GetRequest{
			Topic: ScheduleTopic, QueueID: int32(i), Offset: s.cursor[i],
			MaxMsgs: maxPullMessages, MaxBytes: maxPullBytes, Dst: s.buf[:0],
		})
		if err != nil {
			s.b.log.Logf(LogLevelError, "delay level %d: read %s/%d at %d: %v", i+1, ScheduleTopic, i, s.cursor[i], err)
			return retry
		}
		s.buf = res.Records
		switch res.Status {
		case store.Found:
		case store.OffsetTooSmall, store.OffsetOverflowBadly:
			s.b.log.Logf(LogLevelWarn, "delay level %d: cursor %d out of range, moving to %d", i+1, s.cursor[i], res.NextOffset)
			s.setCursor(i, res.NextOffset)
			continue
		default:
			return time.Time{}
		}
		for rec := res.Records; len(rec) > 0; {
			m, n, err := message.DecodeRecord(rec)
			if err != nil {
				s.b.log.Logf(LogLevelError, "delay level %d: skipping undecodable record at %d: %v", i+1, s.cursor[i], err)
				s.setCursor(i, s.cursor[i]+1)
				break
			}
			rec = rec[n:]
			due := time.UnixMilli(m.StoreTimestamp).Add(s.levels[i] + time.Millisecond)
			if due.After(now) {
				return due
			}
			if out := s.timeUp(m); out != nil {
				if err := s.b.putMessages([]*message.Message{out}); err != nil {
					s.b.log.Logf(LogLevelError, "delay level %d: deliver to %s/%d: %v", i+1, out.Topic, out.QueueID, err)
					return retry
				}
			}
			s.setCursor(i, m.QueueOffset+1)
		}
	}
}

func (s *scheduler) setCursor(i int, off int64) {
	s.cursor[i] = off
	s.b.offsets.commit(scheduleGroup, ScheduleTopic, int32(i), off)
}

// timeUp returns the message to store in the real queue of a parked one
// (messageTimeup): DELAY removed, REAL_TOPIC and REAL_QID kept as the real
// broker does. Nil when the record does not say where it belongs.
func (s *scheduler) timeUp(m *message.Message) *message.Message {
	return s.b.unpark("delay", m, message.PropertyDelayTimeLevel)
}

// unpark returns the message to store in the real queue of m, a message
// parked in a system topic (delay levels, the timer) until its time: its
// REAL_TOPIC and REAL_QID say where, and the properties named by remove are
// dropped. Nil, logged under who, when the record does not say where it
// belongs.
func (b *Broker) unpark(who string, m *message.Message, remove ...string) *message.Message {
	topic, _ := message.Property(m.Properties, message.PropertyRealTopic)
	qidStr, _ := message.Property(m.Properties, message.PropertyRealQueueID)
	qid, err := strconv.Atoi(qidStr)
	if topic == "" || err != nil {
		b.log.Logf(LogLevelError, "%s: dropping message at %s/%d offset %d without REAL_TOPIC/REAL_QID", who, m.Topic, m.QueueID, m.QueueOffset)
		return nil
	}
	props := message.EditProperties(m.Properties, remove)
	return &message.Message{
		Topic:          topic,
		QueueID:        int32(qid),
		Flag:           m.Flag,
		SysFlag:        m.SysFlag,
		BornTimestamp:  m.BornTimestamp,
		BornHost:       m.BornHost,
		StoreHost:      m.StoreHost,
		ReconsumeTimes: m.ReconsumeTimes,
		Body:           m.Body,
		BodyCRC:        m.BodyCRC,
		Properties:     props,
		TagsCode:       tagsCode(props),
	}
}
