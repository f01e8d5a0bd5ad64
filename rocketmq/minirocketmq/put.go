package minirocketmq

import (
	"fmt"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// putMessages appends msgs (one queue) to the store and wakes the pulls
// held on that queue. Every path that stores a message goes through here
// (sends now; redeliveries, delayed and committed messages later) so long
// polling sees them all.
func (b *Broker) putMessages(msgs []*message.Message) error {
	if err := b.store.Put(msgs); err != nil {
		return fmt.Errorf("store %d message(s) in %s/%d: %w", len(msgs), msgs[0].Topic, msgs[0].QueueID, err)
	}
	b.v5.pop.Notify(msgs[0].Topic)
	b.holds.notify(msgs)
	b.stats.add(statsTopicPutNums, msgs[0].Topic, int64(len(msgs)), time.Now())
	return nil
}

// storeMessage stores one message a client sent or the broker produced
// (redelivery, dead letter, commit): into the timer queue when its
// TIMER_* properties say it is due later (timer.go), into the schedule
// queue of its delay level when its DELAY property asks for one (and it is
// not a half message), else straight into its queue. m is rewritten when
// parked. A timed message due more than WithTimerMaxDelay ahead is refused
// (errTimerTooFar).
func (b *Broker) storeMessage(m *message.Message) error {
	now := b.clock.Now().UnixMilli()
	if due, ok := timerDue(m.Properties, now); ok && m.Topic != TimerTopic {
		if maxMS := b.cfg.sem.timerMaxDelay.Milliseconds(); due-now > maxMS {
			return fmt.Errorf("store a message for %s due %d ms ahead, max %d ms: %w", m.Topic, due-now, maxMS, errTimerTooFar)
		}
		if due > now {
			return b.v5.timers.park(m, due) // timer.go
		}
		m.Properties = timedProperties(m.Properties, due)
	}
	if tx := message.TransactionValue(m.SysFlag); tx == message.TransactionNotType || tx == message.TransactionCommitType {
		if level := b.sem.sched.delayLevel(m.Properties); level > 0 && m.Topic != ScheduleTopic {
			return b.sem.sched.park(m, level)
		}
	}
	return b.putMessages([]*message.Message{m})
}
