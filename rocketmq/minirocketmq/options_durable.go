package minirocketmq

import (
	"fmt"
	"strings"
	"time"
)

// FlushDiskType is the broker's flushDiskType: when a send is acknowledged
// relative to fsync.
type FlushDiskType int

const (
	// AsyncFlush (ASYNC_FLUSH, the default) acknowledges a send once the
	// message is written to the operating system; the data directory is
	// fsynced every flush interval. A crash of the process loses nothing
	// acknowledged; a power loss can take the last flush interval.
	AsyncFlush FlushDiskType = iota
	// SyncFlush (SYNC_FLUSH) acknowledges a send only once the message is
	// fsynced; concurrent sends share one fsync (group commit). Without a
	// data directory there is nothing to flush and it acts as AsyncFlush.
	SyncFlush
)

// String returns the broker.conf spelling, ASYNC_FLUSH or SYNC_FLUSH.
func (t FlushDiskType) String() string {
	if t == SyncFlush {
		return "SYNC_FLUSH"
	}
	return "ASYNC_FLUSH"
}

// ParseFlushDiskType reads ASYNC_FLUSH or SYNC_FLUSH (case-insensitive).
func ParseFlushDiskType(s string) (FlushDiskType, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ASYNC_FLUSH":
		return AsyncFlush, nil
	case "SYNC_FLUSH":
		return SyncFlush, nil
	}
	return AsyncFlush, fmt.Errorf("minirocketmq: flush disk type %q: want ASYNC_FLUSH or SYNC_FLUSH", s)
}

// Defaults of the durable store's options.
const (
	// DefaultFlushInterval is flushIntervalCommitLog: how often the commit
	// log is fsynced with ASYNC_FLUSH.
	DefaultFlushInterval = 500 * time.Millisecond
	// DefaultPersistInterval is flushConsumerOffsetInterval: how often
	// consumer offsets are written to the data directory.
	DefaultPersistInterval = 5 * time.Second
	// DefaultSyncFlushTimeout is syncFlushTimeout: with SYNC_FLUSH, how
	// long a send waits for its fsync before it is answered
	// FLUSH_DISK_TIMEOUT (the message is stored; only its durability is
	// late).
	DefaultSyncFlushTimeout = 5 * time.Second
)

type durableConfig struct {
	dataDir          string
	flushDiskType    FlushDiskType
	flushInterval    time.Duration
	persistInterval  time.Duration
	retentionAge     time.Duration
	retentionBytes   int64
	retentionSet     bool // WithRetention was given; else retentionPolicy's defaults
	segmentSize      int64
	syncFlushTimeout time.Duration
}

// syncFlushTimeoutOrDefault is the SYNC_FLUSH wait of a send.
func (d *durableConfig) syncFlushTimeoutOrDefault() time.Duration {
	if d.syncFlushTimeout > 0 {
		return d.syncFlushTimeout
	}
	return DefaultSyncFlushTimeout
}

// WithSyncFlushTimeout sets syncFlushTimeout (default 5 s): with
// SyncFlush, a send whose fsync has not completed by then is answered
// FLUSH_DISK_TIMEOUT (code 10) instead of waiting, as the real broker
// does; the client counts the message as sent (it is stored) and reports
// the status, instead of timing out and sending it again.
func WithSyncFlushTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.dur.syncFlushTimeout = d
		}
	}
}

func defaultDurableConfig() durableConfig {
	return durableConfig{flushInterval: DefaultFlushInterval, persistInterval: DefaultPersistInterval}
}

// WithDataDir keeps messages, consumer offsets, topic and group configs in
// dir (storePathRootDir), so they survive a restart: messages in
// dir/store (package store/disk: commit log, consume queues), the tables in
// dir/config as the Java broker's topics.json, subscriptionGroup.json and
// consumerOffset.json. Empty (the default) keeps everything in memory. It
// cannot be combined with WithStore.
func WithDataDir(dir string) Option { return func(c *config) { c.dur.dataDir = dir } }

// WithFlushDiskType sets flushDiskType (default AsyncFlush).
func WithFlushDiskType(t FlushDiskType) Option { return func(c *config) { c.dur.flushDiskType = t } }

// WithFlushInterval sets how often the commit log is fsynced
// (flushIntervalCommitLog, default 500 ms): with AsyncFlush, the window a
// power loss can take.
func WithFlushInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.dur.flushInterval = d
		}
	}
}

// WithPersistInterval sets how often consumer offsets are written to the
// data directory (default 5 s, like flushConsumerOffsetInterval). After a
// crash, consumers resume from the offsets last written: at most this much
// progress is consumed again. Topic and group configs are written when
// they change.
func WithPersistInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.dur.persistInterval = d
		}
	}
}

// WithRetention bounds the store: the oldest log segments are removed while
// the newest message of the oldest is older than age (fileReservedTime) or
// the store is larger than bytes; 0 disables a limit, so WithRetention(0, 0)
// keeps everything. The segment being written is never removed, nor a
// pending transaction's half message or an undelivered delayed message
// (retention.go). Defaults: 48 h and 512 MiB in memory
// (DefaultMemoryRetentionAge, DefaultMemoryRetentionBytes), 72 h and no size
// limit with WithDataDir (DefaultDiskRetentionAge).
func WithRetention(age time.Duration, bytes int64) Option {
	return func(c *config) {
		c.dur.retentionAge, c.dur.retentionBytes = max(age, 0), max(bytes, 0)
		c.dur.retentionSet = true
	}
}

// WithSegmentSize sets the commit-log segment size (mappedFileSizeCommitLog;
// default 64 MiB in a data directory, 4 MiB slabs in memory): the unit
// retention removes.
func WithSegmentSize(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.dur.segmentSize = n
		}
	}
}
