// Package store defines where the broker keeps messages: the Store
// interface, shaped after RocketMQ's commit log + consume queues, and an
// in-memory implementation (NewMemory).
//
// Model. Every message is appended to one log and gets a commit-log offset
// (its byte position in that log, used in offset message ids and to look a
// message up again); it is also indexed in its queue (topic, queue id) at the
// next queue offset (0, 1, 2, ...). Readers read a queue by queue offset; the
// bytes they get are the stored records of package message, ready to be sent
// to a client. A durable implementation keeps the same model on disk: the
// records are the commit-log bytes and each queue index entry holds
// (commit-log offset, size, tag code, store time).
//
// Contract for implementations:
//   - Put assigns QueueOffset, CommitLogOffset and StoreTimestamp under its
//     own serialisation, so within a queue offsets are dense and store times
//     never go backwards.
//   - Every method is safe for concurrent use, and none blocks on anything
//     but its own I/O.
//   - Records handed out are copies (appended to a caller's buffer) or
//     immutable; callers never write to them.
//
// Package storetest checks an implementation against this contract.
package store

import (
	"errors"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// ErrNotFound is returned by look-ups of a commit-log offset that holds no
// record.
var ErrNotFound = errors.New("store: no message at that offset")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("store: closed")

// Store keeps messages. See the package doc for the model and the contract.
type Store interface {
	// Put appends msgs, in order and contiguously, to the queue of
	// msgs[0] (all must have the same Topic and QueueID) and fills in
	// their QueueOffset, CommitLogOffset and StoreTimestamp.
	Put(msgs []*message.Message) error

	// Get reads from one queue; see GetRequest and GetResult.
	Get(req *GetRequest) (GetResult, error)

	// Lookup appends the record stored at commitLogOffset to dst.
	// ErrNotFound when there is none.
	Lookup(dst []byte, commitLogOffset int64) ([]byte, error)

	// MinOffset is the first queue offset still stored (0 for an unknown
	// queue). MaxOffset is the next queue offset to be written, which is
	// also the number of messages ever written (0 for an unknown queue).
	MinOffset(topic string, queueID int32) int64
	MaxOffset(topic string, queueID int32) int64

	// OffsetByTime returns the queue offset whose store time is ts, or the
	// nearest one (ties to the earlier) as the Java broker's
	// ConsumeQueue.getOffsetInQueueByTime; 0 for an empty queue.
	OffsetByTime(topic string, queueID int32, ts int64) int64

	// EarliestTime is the store time of the first stored message of the
	// queue, -1 when there is none.
	EarliestTime(topic string, queueID int32) int64

	// QueryByKey appends to dst the records of topic whose KEYS contain
	// key or whose UNIQ_KEY equals it, stored in [begin, end] (ms), newest
	// first, at most maxNum of them, and returns how many it appended.
	QueryByKey(dst []byte, topic, key string, maxNum int, begin, end int64) ([]byte, int, error)

	// DeleteTopic drops every queue of topic and its key index entries.
	// Its records may stay in the log until retention removes them.
	DeleteTopic(topic string) error

	// Close releases resources; later calls fail with ErrClosed. Closing
	// twice is not an error.
	Close() error
}

// Syncer is implemented by stores that keep messages on disk
// (store/disk). Their Put returns once the messages are handed to the
// operating system, which a process crash does not undo; AfterSync says
// when they are on stable storage, which a broker with SYNC_FLUSH waits for
// before it acknowledges a send.
type Syncer interface {
	// AfterSync calls fn once every message stored by a Put that returned
	// before the call is fsynced, with nil, or with the error that
	// prevented it. Concurrent callers share one fsync (group commit). fn
	// runs on the store's flusher goroutine, or on the caller's when the
	// store is closed, and must not block.
	AfterSync(fn func(error))
}

// Filter decides which messages a Get returns. The queue-entry check runs
// first on the tag code kept in the index; only entries it accepts are read
// and passed to the record check (TAG: exact tag string; SQL92: properties).
type Filter interface {
	MatchTagsCode(code int64) bool
	MatchRecord(record []byte) bool
}

// GetRequest describes one read of a queue.
type GetRequest struct {
	Topic   string
	QueueID int32
	Offset  int64 // first queue offset to read
	// MaxMsgs and MaxBytes bound the result; at least one message is
	// returned when one is available, however large.
	MaxMsgs  int
	MaxBytes int
	// MaxScan bounds how many index entries are examined (filtered ones
	// included); 0 means max(16000, 20*MaxMsgs) as the Java broker.
	MaxScan int
	Filter  Filter // nil accepts everything
	// Dst is the buffer the records are appended to.
	Dst []byte
}

// Status is the outcome of a Get (GetMessageStatus in the Java store).
type Status int

// Get outcomes.
const (
	// Found: at least one message matched; Records holds them.
	Found Status = iota
	// NoMatchedMessage: entries were scanned but the filter matched none.
	NoMatchedMessage
	// NoMessageInQueue: the queue is empty or unknown.
	NoMessageInQueue
	// OffsetTooSmall: Offset < MinOffset.
	OffsetTooSmall
	// OffsetOverflowOne: Offset == MaxOffset (caught up).
	OffsetOverflowOne
	// OffsetOverflowBadly: Offset > MaxOffset; NextOffset is MaxOffset.
	OffsetOverflowBadly
)

var statusNames = [...]string{"FOUND", "NO_MATCHED_MESSAGE", "NO_MESSAGE_IN_QUEUE", "OFFSET_TOO_SMALL", "OFFSET_OVERFLOW_ONE", "OFFSET_OVERFLOW_BADLY"}

// String returns the Java GetMessageStatus name.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "UNKNOWN"
}

// GetResult is the answer to a GetRequest.
type GetResult struct {
	Status Status
	// Records is GetRequest.Dst with the matching records appended.
	Records []byte
	// Count is the number of records appended.
	Count int
	// NextOffset is where the next read should start: after the last
	// scanned entry when something was scanned, else the corrected offset
	// for the status (see the PULL_MESSAGE handler).
	NextOffset int64
	MinOffset  int64
	MaxOffset  int64
}
