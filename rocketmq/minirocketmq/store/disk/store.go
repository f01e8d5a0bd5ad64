package disk

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

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

	ret retention // keeper and counters of Retain (retention.go)
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
