package disk

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/message"
	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/store"
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

// Store is the durable store.Store. See the package doc for the layout on
// disk, recovery and the locking model.
type Store struct {
	dir  string
	opt  options
	lock *os.File // holds the directory's lock until Close

	// amu serialises appends (Put, segment rolls, DeleteTopic) and owns
	// the fields up to end.
	amu        sync.Mutex
	active     *segment
	lastTS     int64
	wbuf       []byte
	ebuf       []entry
	activeKeys []keyEntry // keys of the active segment's records
	activeMin  int64      // store time range of the active segment
	activeMax  int64
	unsynced   []*segment       // sealed since the last sync; fsynced by the syncer
	newFiles   bool             // a segment was created since the last sync
	deleted    map[string]int64 // topic → commit-log offset at its deletion

	end    atomic.Int64 // commit-log offset after the last written frame
	synced atomic.Int64 // commit-log offset below which everything is fsynced

	// fmu guards the file set: readers read-lock it for the time they read
	// files; removing files (retention, DeleteTopic, Close) and adding a
	// segment write-lock it.
	fmu    sync.RWMutex
	segs   []*segment
	closed atomic.Bool

	qmu    sync.RWMutex
	queues map[queueKey]*cqueue

	failMu  sync.Mutex
	failErr error // sticky: a write or fsync failed, nothing more is accepted

	syncMu   sync.Mutex
	waiters  []func(error)
	syncDone bool // Close has run the last sync
	kick     chan struct{}

	checkpoint atomic.Int64 // written by the indexer goroutine, then by Close
	stop       chan struct{}
	stopOnce   sync.Once
	wg         sync.WaitGroup

	readBufs sync.Pool // *[]byte scratch for Get
}

type queueKey struct {
	topic string
	id    int32
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Syncer = (*Store)(nil)
)

func (s *Store) logf(format string, args ...any) { s.opt.logf(format, args...) }

func (s *Store) failure() error {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	return s.failErr
}

// fail makes err sticky: after a failed write or fsync the state of the
// files is unknown, so nothing more is accepted (the operating system may
// have dropped the dirty pages an fsync failed to write).
func (s *Store) fail(err error) {
	s.failMu.Lock()
	if s.failErr == nil {
		s.failErr = fmt.Errorf("disk store failed, restart to recover: %w", err)
		s.logf("disk store: %v; refusing writes until restarted", err)
	}
	s.failMu.Unlock()
}

func (s *Store) queue(topic string, id int32) *cqueue {
	s.qmu.RLock()
	defer s.qmu.RUnlock()
	return s.queues[queueKey{topic, id}]
}

// queueFor returns the queue, creating it (in memory; its directory comes
// with its first index file).
func (s *Store) queueFor(topic string, id int32) *cqueue {
	if q := s.queue(topic, id); q != nil {
		return q
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	k := queueKey{topic, id}
	if q := s.queues[k]; q != nil {
		return q
	}
	q := &cqueue{topic: topic, id: id, dir: s.queuePath(topic, id), cap: s.opt.queueFileEntries}
	s.queues[k] = q
	return q
}

func (s *Store) queuePath(topic string, id int32) string {
	return filepath.Join(s.dir, queueDir, topic, strconv.Itoa(int(id)))
}

func (s *Store) queueList() []*cqueue {
	s.qmu.RLock()
	defer s.qmu.RUnlock()
	out := make([]*cqueue, 0, len(s.queues))
	for _, q := range s.queues {
		out = append(out, q)
	}
	return out
}

// Put implements store.Store. It returns once the records are written to
// the operating system (a process crash no longer loses them); see
// AfterSync for durability against power loss.
func (s *Store) Put(msgs []*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	topic, qid := msgs[0].Topic, msgs[0].QueueID
	total := int64(0)
	var hashes []uint64
	nkeys := make([]int, len(msgs))
	for i, m := range msgs {
		if m.Topic != topic || m.QueueID != qid {
			return fmt.Errorf("disk store: put of %d messages spans several queues", len(msgs))
		}
		if err := message.Validate(m); err != nil {
			return fmt.Errorf("disk store: put to %s/%d: %w", topic, qid, err)
		}
		if m.BodyCRC == 0 && len(m.Body) > 0 {
			m.BodyCRC = message.BodyCRC(m.Body)
		}
		total += frameHeader + int64(message.RecordSize(m))
		n := len(hashes)
		hashes = keysOf(hashes, topic, m.Properties)
		nkeys[i] = len(hashes) - n
	}

	s.amu.Lock()
	defer s.amu.Unlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := s.failure(); err != nil {
		return err
	}
	if size := s.active.size.Load(); size > 0 && size+total > s.opt.segmentSize {
		if err := s.roll(); err != nil {
			s.fail(err)
			return err
		}
	}
	q := s.queueFor(topic, qid)
	ts := s.opt.now().UnixMilli()
	if ts < s.lastTS {
		ts = s.lastTS
	}
	pos := s.end.Load()
	buf := s.wbuf[:0]
	es := s.ebuf[:0]
	qoff := q.max // only Put (under amu) changes max
	for i, m := range msgs {
		m.QueueOffset = qoff + int64(i)
		m.CommitLogOffset = pos
		m.StoreTimestamp = ts
		start := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		buf = message.AppendRecord(buf, m)
		rec := buf[start+frameHeader:]
		binary.BigEndian.PutUint32(buf[start:], crc32.Checksum(rec, castagnoli))
		es = append(es, entry{off: pos, size: int32(len(rec)), tags: m.TagsCode, ts: ts})
		pos += int64(len(buf) - start)
	}
	at := s.active.size.Load()
	if _, err := s.active.f.WriteAt(buf, at); err != nil {
		// Cut a partial write off so the next frame starts where it should.
		if terr := s.active.f.Truncate(at); terr != nil {
			s.fail(fmt.Errorf("truncate %s after a failed write: %w", s.active.path, terr))
		}
		return fmt.Errorf("disk store: write %s: %w", s.active.path, err)
	}
	s.active.size.Store(at + int64(len(buf)))

	q.mu.Lock()
	q.pending = append(q.pending, es...)
	q.max += int64(len(es))
	q.mu.Unlock()

	h := 0
	for i, m := range msgs {
		for _, kh := range hashes[h : h+nkeys[i]] {
			s.activeKeys = append(s.activeKeys, keyEntry{kh, m.CommitLogOffset})
		}
		h += nkeys[i]
	}
	if s.activeMin == 0 {
		s.activeMin = ts
	}
	s.activeMax = ts
	s.lastTS = ts
	s.end.Store(pos)
	if cap(buf) <= 1<<20 {
		s.wbuf = buf
	}
	if cap(es) <= 4096 {
		s.ebuf = es
	}
	return nil
}

// roll seals the active segment (its key file written) and starts a new
// one at the current end of the log. The syncer fsyncs the sealed segment
// and the directory before it acknowledges anything written after this.
// Called with amu held.
func (s *Store) roll() error {
	old := s.active
	if err := writeKeyFile(old.path+keysSuffix, s.activeKeys, s.activeMin, s.activeMax); err != nil {
		return err
	}
	g, err := createSegment(filepath.Join(s.dir, commitLogDir), s.end.Load())
	if err != nil {
		return err
	}
	s.fmu.Lock()
	old.keys = keyFileHeader{ok: true, count: int64(len(s.activeKeys)), minTS: s.activeMin, maxTS: s.activeMax}
	s.segs = append(s.segs, g)
	s.fmu.Unlock()
	s.unsynced = append(s.unsynced, old)
	s.newFiles = true
	s.active = g
	s.activeKeys = nil
	s.activeMin, s.activeMax = 0, 0
	return nil
}

// segmentAt returns the segment holding commit-log offset off, or nil.
// Callers hold fmu.
func (s *Store) segmentAt(off int64) *segment {
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].base > off }) - 1
	if i < 0 {
		return nil
	}
	return s.segs[i]
}

// Get implements store.Store.
func (s *Store) Get(req *store.GetRequest) (store.GetResult, error) {
	res := store.GetResult{Records: req.Dst}
	s.fmu.RLock()
	defer s.fmu.RUnlock()
	if s.closed.Load() {
		return res, store.ErrClosed
	}
	var v queueView
	if q := s.queue(req.Topic, req.QueueID); q != nil {
		v = q.view()
	}
	res.MinOffset, res.MaxOffset = v.min, v.max
	switch {
	case v.max == 0:
		res.Status, res.NextOffset = store.NoMessageInQueue, 0
		return res, nil
	case req.Offset < v.min:
		res.Status, res.NextOffset = store.OffsetTooSmall, v.min
		return res, nil
	case req.Offset == v.max:
		res.Status, res.NextOffset = store.OffsetOverflowOne, req.Offset
		return res, nil
	case req.Offset > v.max:
		res.Status, res.NextOffset = store.OffsetOverflowBadly, v.max
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
	scanEnd := min(v.max, req.Offset+int64(maxScan))
	f := req.Filter

	bp := s.scratch()
	defer s.readBufs.Put(bp)
	var es []entry
	var cands []candidate
	cur, next, size := req.Offset, req.Offset, 0
	for cur < scanEnd {
		var err error
		es, err = v.entries(es[:0], cur, min(scanEnd, cur+256))
		if err != nil {
			return res, err
		}
		cands = cands[:0]
		candBytes, i, full := 0, 0, false
		for ; i < len(es); i++ {
			e := es[i]
			n := res.Count + len(cands)
			if n > 0 && (n >= maxMsgs || size+candBytes+int(e.size) > maxBytes) {
				full = true
				break
			}
			if e.off == holeOffset || (f != nil && !f.MatchTagsCode(e.tags)) {
				continue
			}
			cands = append(cands, candidate{qoff: cur + int64(i), e: e})
			candBytes += int(e.size)
		}
		if len(cands) > 0 {
			if *bp, err = s.readRecords((*bp)[:0], cands); err != nil {
				return res, err
			}
			for _, c := range cands {
				if c.rec == nil || (f != nil && !f.MatchRecord(c.rec)) {
					continue
				}
				res.Records = append(res.Records, c.rec...)
				res.Count++
				size += len(c.rec)
			}
		}
		cur += int64(i)
		next = cur
		if full && (res.Count >= maxMsgs || res.Count > 0 && i == 0) {
			break
		}
	}
	res.NextOffset = next
	if res.Count > 0 {
		res.Status = store.Found
	} else {
		res.Status = store.NoMatchedMessage
	}
	return res, nil
}

// candidate is an index entry whose record a Get reads; rec is set by
// readRecords (nil when the frame is not intact).
type candidate struct {
	qoff int64
	e    entry
	rec  []byte
}

func (s *Store) scratch() *[]byte {
	if p, ok := s.readBufs.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

// readRecords reads the frames of cands into buf, one read per run of
// adjacent frames of one segment, checks each and points the candidates'
// rec at their records. Callers hold fmu.
func (s *Store) readRecords(buf []byte, cands []candidate) ([]byte, error) {
	limit := s.end.Load()
	total := 0
	for _, c := range cands {
		total += int(c.e.frameSize())
	}
	if cap(buf) < total {
		buf = make([]byte, 0, total)
	}
	for i := 0; i < len(cands); {
		first := cands[i].e.off
		g := s.segmentAt(first)
		if g == nil {
			i++ // below the log: its segment was removed
			continue
		}
		gEnd := min(limit, g.end())
		j, runEnd := i+1, first+cands[i].e.frameSize()
		for j < len(cands) && cands[j].e.off == runEnd && runEnd+cands[j].e.frameSize() <= gEnd {
			runEnd += cands[j].e.frameSize()
			j++
		}
		if runEnd > gEnd {
			i = j
			continue
		}
		start := len(buf)
		buf = buf[:start+int(runEnd-first)]
		if _, err := g.f.ReadAt(buf[start:], first-g.base); err != nil {
			return buf, fmt.Errorf("disk store: read segment %s at %d: %w", g.path, first, err)
		}
		at := start
		for k := i; k < j; k++ {
			fr := buf[at : at+int(cands[k].e.frameSize())]
			rec := fr[frameHeader:]
			if len(rec) >= minRecordSize && binary.BigEndian.Uint32(fr) == crc32.Checksum(rec, castagnoli) &&
				int64(binary.BigEndian.Uint64(rec[28:])) == cands[k].e.off {
				cands[k].rec = rec
			} else {
				s.logf("disk store: the index entry at queue offset %d points at a damaged frame at %d; skipped", cands[k].qoff, cands[k].e.off)
			}
			at += len(fr)
		}
		i = j
	}
	return buf, nil
}

// Lookup implements store.Store.
func (s *Store) Lookup(dst []byte, commitLogOffset int64) ([]byte, error) {
	s.fmu.RLock()
	defer s.fmu.RUnlock()
	if s.closed.Load() {
		return dst, store.ErrClosed
	}
	g := s.segmentAt(commitLogOffset)
	if g == nil {
		return dst, store.ErrNotFound
	}
	out, ok, err := g.readFrameAt(dst, commitLogOffset, min(s.end.Load(), g.end()))
	if err != nil {
		return dst, fmt.Errorf("disk store: %w", err)
	}
	if !ok {
		return dst, store.ErrNotFound
	}
	return out, nil
}

// MinOffset implements store.Store.
func (s *Store) MinOffset(topic string, queueID int32) int64 {
	if q := s.queue(topic, queueID); q != nil {
		return q.view().min
	}
	return 0
}

// MaxOffset implements store.Store.
func (s *Store) MaxOffset(topic string, queueID int32) int64 {
	if q := s.queue(topic, queueID); q != nil {
		return q.view().max
	}
	return 0
}

// OffsetByTime implements store.Store: a binary search over the index's
// store times.
func (s *Store) OffsetByTime(topic string, queueID int32, ts int64) int64 {
	s.fmu.RLock()
	defer s.fmu.RUnlock()
	q := s.queue(topic, queueID)
	if q == nil || s.closed.Load() {
		return 0
	}
	v := q.view()
	if v.max == v.min {
		return 0
	}
	at := func(i int64) int64 {
		e, err := v.entry(i)
		if err != nil {
			s.logf("disk store: %v", err)
		}
		return e.ts
	}
	lo, hi := v.min, v.max
	for lo < hi {
		mid := lo + (hi-lo)/2
		if at(mid) < ts {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i := lo
	switch {
	case i < v.max && at(i) == ts:
	case i == v.min:
	case i == v.max:
		i = v.max - 1
	default:
		if ts-at(i-1) <= at(i)-ts {
			i--
		}
	}
	return i
}

// EarliestTime implements store.Store.
func (s *Store) EarliestTime(topic string, queueID int32) int64 {
	s.fmu.RLock()
	defer s.fmu.RUnlock()
	q := s.queue(topic, queueID)
	if q == nil || s.closed.Load() {
		return -1
	}
	v := q.view()
	for i := v.min; i < v.max; i++ {
		e, err := v.entry(i)
		if err != nil {
			return -1
		}
		if e.off != holeOffset {
			return e.ts
		}
	}
	return -1
}

// QueryByKey implements store.Store: candidates come from the key index
// (memory for the active segment, .keys files for sealed ones, newest
// first); each is checked against its record.
func (s *Store) QueryByKey(dst []byte, topic, key string, maxNum int, begin, end int64) ([]byte, int, error) {
	h := keyHash(topic, key)
	s.amu.Lock()
	active := s.active
	var newest []int64
	for i := len(s.activeKeys) - 1; i >= 0; i-- {
		if s.activeKeys[i].hash == h {
			newest = append(newest, s.activeKeys[i].off)
		}
	}
	epoch := s.deleted[topic]
	s.amu.Unlock()

	s.fmu.RLock()
	defer s.fmu.RUnlock()
	if s.closed.Load() {
		return dst, 0, store.ErrClosed
	}
	n := 0
	seen := make(map[int64]bool)
	var rec []byte
	try := func(off int64) error {
		if off < epoch || seen[off] {
			return nil
		}
		seen[off] = true
		g := s.segmentAt(off)
		if g == nil {
			return nil
		}
		var ok bool
		var err error
		rec, ok, err = g.readFrameAt(rec[:0], off, min(s.end.Load(), g.end()))
		if err != nil || !ok {
			return err
		}
		m, _, err := message.DecodeRecord(rec)
		if err != nil || m.Topic != topic || m.StoreTimestamp < begin || m.StoreTimestamp > end || !hasKey(m.Properties, key) {
			return nil
		}
		dst = append(dst, rec...)
		n++
		return nil
	}
	for _, off := range newest {
		if n >= maxNum {
			return dst, n, nil
		}
		if err := try(off); err != nil {
			return dst, n, fmt.Errorf("disk store: %w", err)
		}
	}
	for i := len(s.segs) - 1; i >= 0 && n < maxNum; i-- {
		g := s.segs[i]
		if g == active || !g.keys.ok || g.keys.maxTS < begin || g.keys.minTS > end {
			continue
		}
		offs, err := searchKeyFile(g.path+keysSuffix, g.keys.count, h)
		if err != nil {
			return dst, n, fmt.Errorf("disk store: %w", err)
		}
		for k := len(offs) - 1; k >= 0 && n < maxNum; k-- {
			if err := try(offs[k]); err != nil {
				return dst, n, fmt.Errorf("disk store: %w", err)
			}
		}
	}
	return dst, n, nil
}

func hasKey(props, key string) bool {
	if uniq, ok := message.Property(props, message.PropertyUniqueClientMsgIDKey); ok && uniq == key {
		return true
	}
	keys, _ := message.Property(props, message.PropertyKeys)
	for _, k := range strings.Fields(keys) {
		if k == key {
			return true
		}
	}
	return false
}

// Queues returns the queue count of every topic the store holds messages
// for (the highest queue id + 1), so that a broker can bring back the
// topic configs a crash lost.
func (s *Store) Queues() map[string]int32 {
	out := make(map[string]int32)
	for _, q := range s.queueList() {
		if v := q.view(); v.max > 0 {
			out[q.topic] = max(out[q.topic], q.id+1)
		}
	}
	return out
}
