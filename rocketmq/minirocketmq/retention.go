package minirocketmq

import (
	"sync/atomic"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store/disk"
)

// Retention bounds what the store holds: the in-memory store (the default,
// and every test broker) by size and age, a data directory by the age of
// its segments (and a size when one is given). Both remove whole segments
// of the log, oldest first, and never a message the broker still has to
// act on: the store asks retentionKeep, which protects
//   - in RMQ_SYS_TRANS_HALF_TOPIC, every half message from the oldest
//     pending transaction on (they are checked back, committed or rolled
//     back later);
//   - in each SCHEDULE_TOPIC_XXXX queue, every message from the delay
//     level's cursor on (not delivered yet).
//
// The in-memory store copies such messages out of a slab it removes and
// keeps them until they are resolved or delivered; store/disk keeps the
// whole segment that holds one, and those after it. Removals are logged at
// info level; Broker.Stats().Store has the counters.

// Defaults of WithRetention.
const (
	// DefaultMemoryRetentionAge and DefaultMemoryRetentionBytes bound the
	// in-memory store: long test runs and `make run` without a data
	// directory stay under 512 MiB of messages.
	DefaultMemoryRetentionAge   = 48 * time.Hour
	DefaultMemoryRetentionBytes = 512 << 20
	// DefaultDiskRetentionAge is the real broker's fileReservedTime (72 h)
	// for a data directory; it has no size limit unless one is given.
	DefaultDiskRetentionAge = 72 * time.Hour
)

// retentionPolicy returns the limits of the store the broker uses.
func (d *durableConfig) retentionPolicy() (time.Duration, int64) {
	switch {
	case d.retentionSet:
		return d.retentionAge, d.retentionBytes
	case d.dataDir != "":
		return DefaultDiskRetentionAge, 0
	}
	return DefaultMemoryRetentionAge, DefaultMemoryRetentionBytes
}

// newMemoryStore is the default store: in memory, with the retention
// policy and the broker's keeper.
func (b *Broker) newMemoryStore() store.Store {
	age, bytes := b.cfg.dur.retentionPolicy()
	opts := []store.MemoryOption{store.WithNow(b.clock.Now), store.WithMemoryRetention(age, bytes),
		store.WithMemoryLogf(func(format string, args ...any) { b.log.Logf(LogLevelInfo, format, args...) })}
	if n := b.cfg.dur.segmentSize; n > 0 && n <= 1<<30 {
		opts = append(opts, store.WithSegmentSize(int(n)))
	}
	m := store.NewMemory(opts...)
	m.SetKeeper(b.retentionKeep)
	return m
}

// retentionReady is set once Start has rebuilt the pending transactions
// from the store: before that, retention keeps every half message.
type retentionReady = atomic.Bool

// retentionKeep is the store.Keeper of the broker's store. It must not
// call the store (retention holds the store's lock while it asks).
func (b *Broker) retentionKeep(topic string, queueID int32) (int64, bool) {
	switch topic {
	case TransHalfTopic:
		if !b.keepReady.Load() {
			return 0, true // not recovered yet: all of them
		}
		return b.sem.tx.firstPending()
	case ScheduleTopic:
		if off, ok := b.offsets.query(scheduleGroup, ScheduleTopic, queueID); ok {
			return off, true
		}
		return 0, true // the scheduler has delivered nothing of it yet
	case TimerTopic: // timed messages (TIMER_DELIVER_MS ...): from the lowest undelivered on
		if off, ok := b.offsets.query(timerGroup, TimerTopic, 0); ok {
			return off, true
		}
		return 0, true
	}
	return 0, false
}

// retainMemory runs the in-memory store's retention for its age limit
// (the size limit is applied by every Put); the disk store runs its own.
func (b *Broker) retainMemory() {
	if m, ok := b.store.(*store.Memory); ok {
		if err := m.Retain(); err != nil {
			b.log.Logf(LogLevelWarn, "memory store retention: %v", err)
		}
	}
}

// firstPending returns the queue offset of the oldest pending half
// message; false when there is none.
func (t *transactions) firstPending() (int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	first, ok := int64(0), false
	for _, h := range t.pending {
		if !ok || h.queueOffset < first {
			first, ok = h.queueOffset, true
		}
	}
	return first, ok
}

var _ store.Retainer = (*disk.Store)(nil)
