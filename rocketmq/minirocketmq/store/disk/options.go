package disk

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Defaults of the options.
const (
	// DefaultSegmentSize is the size at which a commit-log segment is sealed
	// and a new one started (the Java broker uses 1 GiB files).
	DefaultSegmentSize = 64 << 20
	// DefaultQueueFileEntries is the number of entries per consume-queue
	// file (the Java broker's 300,000 × 20 B; here 2^18 × 28 B = 7 MiB).
	DefaultQueueFileEntries = 1 << 18
	// DefaultFlushInterval is how often written data is fsynced
	// (flushIntervalCommitLog).
	DefaultFlushInterval = 500 * time.Millisecond
	// DefaultCheckpointInterval is how often the indexes are fsynced and
	// the checkpoint advanced (flushIntervalConsumeQueue).
	DefaultCheckpointInterval = time.Second
	// DefaultRetentionInterval is how often retention runs when one is
	// configured.
	DefaultRetentionInterval = 10 * time.Second
)

// Option configures Open.
type Option func(*options)

type options struct {
	now                func() time.Time
	segmentSize        int64
	queueFileEntries   int64
	flushInterval      time.Duration
	checkpointInterval time.Duration
	retentionAge       time.Duration
	retentionBytes     int64
	retentionInterval  time.Duration
	keeper             store.Keeper
	logf               func(format string, args ...any)
}

// WithNow sets the clock that stamps stored messages and ages them for
// retention (default time.Now).
func WithNow(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithSegmentSize sets the commit-log segment size (default 64 MiB). A
// message larger than a segment gets a segment of its own.
func WithSegmentSize(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.segmentSize = n
		}
	}
}

// WithQueueFileEntries sets the number of entries per consume-queue file
// (default 2^18).
func WithQueueFileEntries(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.queueFileEntries = n
		}
	}
}

// WithFlushInterval sets how often written messages are fsynced (default
// 500 ms). With ASYNC_FLUSH it bounds what a power loss can take: messages
// acknowledged in the last interval. A process crash loses nothing, since
// Put hands every message to the operating system before it returns.
func WithFlushInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.flushInterval = d
		}
	}
}

// WithCheckpointInterval sets how often the consume-queue files are
// fsynced and the recovery checkpoint advanced (default 1 s). A longer
// interval means more of the log to re-index after a crash.
func WithCheckpointInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.checkpointInterval = d
		}
	}
}

// WithRetention removes sealed segments, oldest first, whose newest message
// is older than age, and while the commit log is larger than bytes (0: no
// limit of that kind; the active segment is never removed). Retention runs
// at Open, every DefaultRetentionInterval, and on Retain.
func WithRetention(age time.Duration, bytes int64) Option {
	return func(o *options) {
		o.retentionAge = max(age, 0)
		o.retentionBytes = max(bytes, 0)
	}
}

// WithKeeper sets the store.Keeper retention consults from Open on (see
// Store.Retain); Store.SetKeeper replaces it later.
func WithKeeper(k store.Keeper) Option { return func(o *options) { o.keeper = k } }

// WithRetentionInterval sets how often retention runs (default 10 s).
func WithRetentionInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.retentionInterval = d
		}
	}
}

// WithLogf sets where recovery, retention and background errors are
// logged (default: nowhere).
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) {
		if logf != nil {
			o.logf = logf
		}
	}
}
