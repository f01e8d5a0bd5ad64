package store

import (
	"fmt"
	"time"
)

// Retention: removing old messages to bound what a store holds. Both
// stores of this module implement Retainer (the in-memory store by size and
// age, store/disk by segment age and total size), removing whole segments
// of the log, oldest first.
//
// What retention must never remove, however old, the store cannot tell by
// itself: a half message whose transaction is still open, a delayed
// message not delivered yet. The broker says so through a Keeper, which
// retention asks before it removes anything.

// Keeper tells retention which messages of a queue it must keep: ok false
// means none in particular (the queue is trimmed with the log); ok true
// means every entry from queue offset first on is still needed. Values
// only ever move forward, so a stale answer keeps more than needed, never
// less; for a queue that needs nothing now but will (the half-message
// queue between transactions), answer its current max offset, which
// protects everything stored from then on. A Keeper must not call the
// store: it is called while retention runs.
type Keeper func(topic string, queueID int32) (first int64, ok bool)

// Retainer is implemented by stores that remove old messages by themselves.
type Retainer interface {
	// SetKeeper installs the Keeper retention consults (nil: keep nothing
	// in particular). Set it before the first Put.
	SetKeeper(k Keeper)
	// Retain applies the retention policy now (it also runs by itself).
	Retain() error
	// RetentionStats returns the store's size and what retention removed.
	RetentionStats() RetentionStats
}

// RetentionStats is what a Retainer holds and has removed, for metrics and
// for tests that check a bound.
type RetentionStats struct {
	// MaxAge and MaxBytes are the policy (0: no limit of that kind).
	MaxAge   time.Duration
	MaxBytes int64
	// Bytes is what the log holds now (memory: its slabs and the records
	// kept past retention; disk: the segment files), Segments the log
	// segments (slabs) holding it.
	Bytes    int64
	Segments int
	// RemovedSegments, RemovedBytes and RemovedMessages count what
	// retention removed since the store was opened (messages: queue
	// entries, system queues included).
	RemovedSegments int64
	RemovedBytes    int64
	RemovedMessages int64
	// KeptMessages and KeptBytes are records older than the log that
	// retention kept because the Keeper still needs them (in-memory store;
	// store/disk keeps the whole segment that holds such a record instead,
	// and Blocked says so).
	KeptMessages int64
	KeptBytes    int64
	// Blocked is true when the last run left a segment it would have
	// removed because the Keeper still needs a message in it (store/disk).
	Blocked bool
	// LastRemoval is when retention last removed something (zero: never).
	LastRemoval time.Time
}

// sizeString renders a byte count for log lines: 512 MiB, 3.2 GiB, 900 B.
func sizeString(n int64) string {
	switch {
	case n >= 1<<30:
		return sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return sprintf("%d B", n)
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
