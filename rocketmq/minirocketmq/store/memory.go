package store

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory)

// WithNow sets the clock that stamps stored messages (milliseconds since the
// epoch). The default is time.Now.
func WithNow(now func() time.Time) MemoryOption {
	return func(m *Memory) { m.now = now }
}

// WithSegmentSize sets the size of the byte slabs the log is kept in
// (default 4 MiB), the unit retention removes. A record larger than a slab
// gets a slab of its own.
func WithSegmentSize(n int) MemoryOption {
	return func(m *Memory) {
		if n > 0 {
			m.segSize = n
		}
	}
}

// WithMemoryRetention bounds the store (retention.go): sealed slabs are
// removed, oldest first, while their newest message is older than maxAge
// or the store holds more than maxBytes; 0 disables a limit (the default
// keeps everything, as the store did before retention existed).
func WithMemoryRetention(maxAge time.Duration, maxBytes int64) MemoryOption {
	return func(m *Memory) { m.maxAge, m.maxBytes = max(maxAge, 0), max(maxBytes, 0) }
}

// WithMemoryLogf sets where retention says what it removed (default:
// nowhere).
func WithMemoryLogf(logf func(format string, args ...any)) MemoryOption {
	return func(m *Memory) {
		if logf != nil {
			m.logf = logf
		}
	}
}

// Memory is the in-memory Store: the log is a list of byte slabs, each queue
// a slice of index entries, the key index a map. One RWMutex guards it all:
// Put holds it exclusively for the copy of the records, readers share it.
// A slab is released when DeleteTopic has removed every record in it, or
// by retention (WithMemoryRetention, retention below).
type Memory struct {
	now      func() time.Time
	segSize  int
	maxAge   time.Duration
	maxBytes int64
	logf     func(format string, args ...any)

	retainMu sync.Mutex // one retention pass at a time

	mu     sync.RWMutex
	closed bool
	segs   []segment // live slabs; released ones only between live ones
	next   int64     // commit-log offset of the next record
	lastTS int64     // store times never go backwards
	queues map[queueKey]*queue
	keys   map[string][]int64 // topic + "\x00" + key → commit-log offsets, oldest first
	size   int64              // bytes written to live slabs
	keeper Keeper
	// pinned holds the records of removed slabs that the keeper still
	// needed, by commit-log offset; pinnedBytes is their size.
	pinned      map[int64][]byte
	pinnedBytes int64
	stats       RetentionStats // the counters; the rest is filled in by RetentionStats
}

type segment struct {
	base  int64
	buf   []byte   // nil once released
	live  int      // records in buf that a queue still holds
	maxTS int64    // store time of the newest record
	keys  []string // key-index entries (m.keys keys) of its records
}

type queueKey struct {
	topic string
	id    int32
}

type queue struct {
	min     int64 // queue offset of entries[0]
	entries []entry
}

type entry struct {
	clOffset int64
	tagsCode int64
	storeTS  int64
	size     int32
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{
		now:     time.Now,
		segSize: 4 << 20,
		queues:  make(map[queueKey]*queue),
		keys:    make(map[string][]int64),
		pinned:  make(map[int64][]byte),
		logf:    func(string, ...any) {},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Put implements Store.
func (m *Memory) Put(msgs []*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	topic, qid := msgs[0].Topic, msgs[0].QueueID
	total := 0
	for _, msg := range msgs {
		if msg.Topic != topic || msg.QueueID != qid {
			return fmt.Errorf("store: put of %d messages spans several queues", len(msgs))
		}
		if err := message.Validate(msg); err != nil {
			return fmt.Errorf("store: put to %s/%d: %w", topic, qid, err)
		}
		if msg.BodyCRC == 0 && len(msg.Body) > 0 {
			msg.BodyCRC = message.BodyCRC(msg.Body) // outside the lock
		}
		total += message.RecordSize(msg)
	}

	m.mu.Lock()
	due, err := m.putLocked(msgs, total)
	m.mu.Unlock()
	if due {
		return errors.Join(err, m.Retain())
	}
	return err
}

// putLocked is Put under m.mu; it reports whether retention is due.
func (m *Memory) putLocked(msgs []*message.Message, total int) (bool, error) {
	if m.closed {
		return false, ErrClosed
	}
	topic, qid := msgs[0].Topic, msgs[0].QueueID
	ts := m.now().UnixMilli()
	if ts < m.lastTS {
		ts = m.lastTS
	}
	m.lastTS = ts
	k := queueKey{topic, qid}
	q := m.queues[k]
	if q == nil {
		q = &queue{}
		m.queues[k] = q
	}
	seg := m.segmentFor(total)
	for _, msg := range msgs {
		msg.QueueOffset = q.min + int64(len(q.entries))
		msg.CommitLogOffset = m.next
		msg.StoreTimestamp = ts
		before := len(seg.buf)
		seg.buf = message.AppendRecord(seg.buf, msg)
		size := len(seg.buf) - before
		m.next += int64(size)
		m.size += int64(size)
		seg.live++
		seg.maxTS = ts
		q.entries = append(q.entries, entry{clOffset: msg.CommitLogOffset, tagsCode: msg.TagsCode, storeTS: ts, size: int32(size)})
		m.indexKeys(seg, msg)
	}
	return m.retentionDueLocked(ts), nil
}

// segmentFor returns the last segment, or a new one, with room for n bytes.
func (m *Memory) segmentFor(n int) *segment {
	if len(m.segs) > 0 {
		last := &m.segs[len(m.segs)-1]
		if cap(last.buf)-len(last.buf) >= n {
			return last
		}
	}
	size := m.segSize
	if n > size {
		size = n
	}
	m.segs = append(m.segs, segment{base: m.next, buf: make([]byte, 0, size)})
	return &m.segs[len(m.segs)-1]
}

func (m *Memory) indexKeys(seg *segment, msg *message.Message) {
	props := msg.Properties
	if keys, ok := message.Property(props, message.PropertyKeys); ok {
		for _, k := range strings.Fields(keys) {
			m.addKey(seg, msg.Topic, k, msg.CommitLogOffset)
		}
	}
	if uniq, ok := message.Property(props, message.PropertyUniqueClientMsgIDKey); ok && uniq != "" {
		m.addKey(seg, msg.Topic, uniq, msg.CommitLogOffset)
	}
}

func (m *Memory) addKey(seg *segment, topic, key string, off int64) {
	ik := topic + "\x00" + key
	m.keys[ik] = append(m.keys[ik], off)
	seg.keys = append(seg.keys, ik)
}

// record returns the stored bytes at a commit-log offset, or nil. Callers
// hold m.mu.
func (m *Memory) record(off int64) []byte {
	i := m.segmentOf(off)
	if i < 0 || m.segs[i].buf == nil {
		return m.pinned[off]
	}
	seg := m.segs[i]
	at := off - seg.base
	if at < 0 || at >= int64(len(seg.buf)) {
		return nil
	}
	rec := seg.buf[at:]
	n, err := message.RecordLen(rec)
	if err != nil || n < 8 || int32(uint32(rec[4])<<24|uint32(rec[5])<<16|uint32(rec[6])<<8|uint32(rec[7])) != message.MagicCode {
		return nil
	}
	return rec[:n:n]
}

// Get implements Store.
func (m *Memory) Get(req *GetRequest) (GetResult, error) {
	res := GetResult{Records: req.Dst}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return res, ErrClosed
	}
	var minOff, maxOff int64
	q := m.queues[queueKey{req.Topic, req.QueueID}]
	if q != nil {
		minOff, maxOff = q.min, q.min+int64(len(q.entries))
	}
	res.MinOffset, res.MaxOffset = minOff, maxOff
	switch {
	case maxOff == 0:
		res.Status, res.NextOffset = NoMessageInQueue, 0
		return res, nil
	case req.Offset < minOff:
		res.Status, res.NextOffset = OffsetTooSmall, minOff
		return res, nil
	case req.Offset == maxOff:
		res.Status, res.NextOffset = OffsetOverflowOne, req.Offset
		return res, nil
	case req.Offset > maxOff:
		res.Status, res.NextOffset = OffsetOverflowBadly, maxOff
		return res, nil
	}
	maxMsgs, maxBytes, maxScan := req.MaxMsgs, req.MaxBytes, req.MaxScan
	if maxMsgs <= 0 {
		maxMsgs = 32
	}
	if maxBytes <= 0 {
		maxBytes = 256 << 10
	}
	if maxScan <= 0 {
		maxScan = max(16000, 20*maxMsgs)
	}
	bytes := 0
	next := req.Offset
	for off := req.Offset; off < maxOff && off-req.Offset < int64(maxScan); off++ {
		e := q.entries[off-minOff]
		if res.Count > 0 && (res.Count >= maxMsgs || bytes+int(e.size) > maxBytes) {
			break
		}
		next = off + 1
		if req.Filter != nil && !req.Filter.MatchTagsCode(e.tagsCode) {
			continue
		}
		rec := m.record(e.clOffset)
		if rec == nil {
			continue
		}
		if req.Filter != nil && !req.Filter.MatchRecord(rec) {
			continue
		}
		res.Records = append(res.Records, rec...)
		res.Count++
		bytes += len(rec)
	}
	res.NextOffset = next
	if res.Count > 0 {
		res.Status = Found
	} else {
		res.Status = NoMatchedMessage
	}
	return res, nil
}

// Lookup implements Store.
func (m *Memory) Lookup(dst []byte, commitLogOffset int64) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return dst, ErrClosed
	}
	rec := m.record(commitLogOffset)
	if rec == nil {
		return dst, ErrNotFound
	}
	return append(dst, rec...), nil
}

func (m *Memory) queue(topic string, id int32) *queue {
	return m.queues[queueKey{topic, id}]
}

// MinOffset implements Store.
func (m *Memory) MinOffset(topic string, queueID int32) int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if q := m.queue(topic, queueID); q != nil {
		return q.min
	}
	return 0
}

// MaxOffset implements Store.
func (m *Memory) MaxOffset(topic string, queueID int32) int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if q := m.queue(topic, queueID); q != nil {
		return q.min + int64(len(q.entries))
	}
	return 0
}

// OffsetByTime implements Store.
func (m *Memory) OffsetByTime(topic string, queueID int32, ts int64) int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	q := m.queue(topic, queueID)
	if q == nil || len(q.entries) == 0 {
		return 0
	}
	es := q.entries
	i := sort.Search(len(es), func(i int) bool { return es[i].storeTS >= ts })
	switch {
	case i < len(es) && es[i].storeTS == ts:
		// exact match (the first of equal times)
	case i == 0:
		// before everything: the first entry
	case i == len(es):
		i = len(es) - 1 // after everything: the last entry
	default:
		// between i-1 and i: the nearer, ties to the earlier
		if ts-es[i-1].storeTS <= es[i].storeTS-ts {
			i--
		}
	}
	return q.min + int64(i)
}

// EarliestTime implements Store.
func (m *Memory) EarliestTime(topic string, queueID int32) int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if q := m.queue(topic, queueID); q != nil && len(q.entries) > 0 {
		return q.entries[0].storeTS
	}
	return -1
}

// QueryByKey implements Store.
func (m *Memory) QueryByKey(dst []byte, topic, key string, maxNum int, begin, end int64) ([]byte, int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return dst, 0, ErrClosed
	}
	offs := m.keys[topic+"\x00"+key]
	n := 0
	for i := len(offs) - 1; i >= 0 && n < maxNum; i-- {
		rec := m.record(offs[i])
		if rec == nil {
			continue
		}
		if ts := message.RecordStoreTimestamp(rec); ts < begin || ts > end {
			continue
		}
		dst = append(dst, rec...)
		n++
	}
	return dst, n, nil
}

// DeleteTopic implements Store.
func (m *Memory) DeleteTopic(topic string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for k, q := range m.queues {
		if k.topic == topic {
			m.release(q.entries)
			delete(m.queues, k)
		}
	}
	prefix := topic + "\x00"
	for k := range m.keys {
		if strings.HasPrefix(k, prefix) {
			delete(m.keys, k)
		}
	}
	return nil
}

// release drops entries' records from their slabs' live counts (and from
// the pinned records) and frees every slab, the one being written excepted,
// that no queue holds a record of any more. Callers hold m.mu.
func (m *Memory) release(entries []entry) {
	for _, e := range entries {
		if rec, ok := m.pinned[e.clOffset]; ok {
			delete(m.pinned, e.clOffset)
			m.pinnedBytes -= int64(len(rec))
		}
		if i := m.segmentOf(e.clOffset); i >= 0 {
			m.segs[i].live--
		}
	}
	for i := range m.segs[:max(len(m.segs)-1, 0)] {
		if s := &m.segs[i]; s.live <= 0 && s.buf != nil {
			m.size -= int64(len(s.buf))
			s.buf, s.keys = nil, nil
		}
	}
	released := 0
	for released < len(m.segs)-1 && m.segs[released].buf == nil {
		released++
	}
	if released > 0 {
		m.segs = append([]segment(nil), m.segs[released:]...)
	}
}

// segmentOf returns the index of the slab holding commit-log offset off, or -1.
func (m *Memory) segmentOf(off int64) int {
	return sort.Search(len(m.segs), func(i int) bool { return m.segs[i].base > off }) - 1
}

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.segs, m.queues, m.keys, m.pinned = nil, nil, nil, nil
	return nil
}
