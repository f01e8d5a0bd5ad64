package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Open opens (creating it if needed) the store in dir and recovers it:
//
//  1. The FORMAT file must name this build's version (else
//     ErrIncompatibleFormat); a new directory gets one.
//  2. Consume-queue files are loaded; a partial entry at the end of a file
//     is cut off, and entries at or past the checkpoint are dropped (they
//     are rebuilt from the log in step 4).
//  3. The log is scanned from min(checkpoint, start of the last segment) to
//     its end, every frame checked (length, CRC32-C, magic code, its own
//     offset). At the first bad frame the log is cut: a torn last write is
//     the expected case after a crash; any segment after it is removed.
//     Open never fails because of that; it logs what it dropped.
//  4. Records at or past the checkpoint are indexed again, and the key
//     index of the last segment (and of any sealed segment that lacks its
//     .keys file) is rebuilt.
//
// What Open recovered is logged through WithLogf.
func Open(dir string, opts ...Option) (*Store, error) {
	o := options{
		now:                time.Now,
		segmentSize:        DefaultSegmentSize,
		queueFileEntries:   DefaultQueueFileEntries,
		flushInterval:      DefaultFlushInterval,
		checkpointInterval: DefaultCheckpointInterval,
		retentionInterval:  DefaultRetentionInterval,
		logf:               func(string, ...any) {},
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("disk store: create %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("disk store: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = lock.Close()
		}
	}()
	if err := checkFormat(dir); err != nil {
		return nil, fmt.Errorf("disk store: %w", err)
	}
	for _, d := range []string{commitLogDir, queueDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("disk store: create %s: %w", d, err)
		}
	}
	if err := removeLeftovers(dir); err != nil {
		return nil, fmt.Errorf("disk store: %w", err)
	}
	deleted, err := loadDeleted(dir)
	if err != nil {
		return nil, fmt.Errorf("disk store: %w", err)
	}
	s := &Store{
		dir:     dir,
		lock:    lock,
		opt:     o,
		deleted: deleted,
		queues:  make(map[queueKey]*cqueue),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	s.ret.keeper = o.keeper
	start := time.Now()
	rep, err := s.recover()
	if err != nil {
		for _, q := range s.queues {
			q.close()
		}
		closeSegments(s.segs)
		return nil, fmt.Errorf("disk store: recover %s: %w", dir, err)
	}
	s.logf("disk store: opened %s in %v: log [%d, %d) in %d segment(s), %d queue(s), checkpoint %d; %s",
		dir, time.Since(start).Round(time.Millisecond), s.segs[0].base, s.end.Load(), len(s.segs), len(s.queues), s.checkpoint.Load(), rep)
	if s.retentionOn() {
		if err := s.Retain(); err != nil {
			s.logf("disk store: retention: %v", err)
		}
	}
	ok = true
	s.wg.Add(2)
	go s.syncLoop()
	go s.indexLoop()
	return s, nil
}

// recovery says what recover did, for the log line.
type recovery struct {
	scannedFrom int64
	scanned     int // records checked
	reindexed   int // records indexed again
	holes       int // queue offsets with no record
	keyFiles    int // .keys files rebuilt
	dropped     int64
	dropReason  string
	droppedSegs int
}

func (r *recovery) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scanned %d record(s) from %d, re-indexed %d", r.scanned, r.scannedFrom, r.reindexed)
	if r.keyFiles > 0 {
		fmt.Fprintf(&b, ", rebuilt %d key index file(s)", r.keyFiles)
	}
	if r.holes > 0 {
		fmt.Fprintf(&b, ", %d queue offset(s) lost", r.holes)
	}
	if r.dropReason != "" {
		fmt.Fprintf(&b, "; dropped a torn or corrupt tail of %d byte(s) (%s)", r.dropped, r.dropReason)
		if r.droppedSegs > 0 {
			fmt.Fprintf(&b, " and %d later segment(s)", r.droppedSegs)
		}
	} else {
		b.WriteString("; the log was intact")
	}
	return b.String()
}

func (s *Store) recover() (*recovery, error) {
	rep := &recovery{}
	logDir := filepath.Join(s.dir, commitLogDir)
	segs, err := listSegments(logDir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		g, err := createSegment(logDir, 0)
		if err != nil {
			return nil, err
		}
		if err := syncDir(logDir); err != nil {
			_ = g.f.Close()
			return nil, err
		}
		segs = []*segment{g}
	}
	s.segs = segs
	for _, g := range segs[:len(segs)-1] {
		if g.keys, err = readKeyFileHeader(g.path + keysSuffix); err != nil {
			return nil, err
		}
	}
	cp, _, err := readCheckpoint(s.dir)
	if err != nil {
		return nil, err
	}
	if err := s.loadQueues(); err != nil {
		return nil, err
	}
	for _, q := range s.queues {
		if err := q.truncateFrom(cp); err != nil {
			return nil, err
		}
	}

	// Where to scan from: a frame boundary at or before the checkpoint, and
	// never after the start of the last segment (whose keys are rebuilt and
	// where a torn write can be).
	last := segs[len(segs)-1]
	from := min(cp, last.base)
	from = max(from, segs[0].base)
	i := len(segs) - 1
	for i > 0 && segs[i].base > from {
		i--
	}
	if from > segs[i].end() || (!segs[i].keys.ok && i < len(segs)-1) {
		from = segs[i].base
	}
	rep.scannedFrom = from
	// Key files of sealed segments before the scan that a crash lost
	// (they are written without fsync) are rebuilt from their segment.
	for _, g := range segs[:i] {
		if !g.keys.ok {
			if err := s.rebuildKeys(rep, g); err != nil {
				return nil, err
			}
		}
	}

	var lastTS int64
	for ; i < len(segs); i++ {
		g := segs[i]
		isLast := i == len(segs)-1
		needKeys := isLast || !g.keys.ok
		var keys []keyEntry
		var minTS, maxTS int64
		var hashes []uint64
		end, err := g.scan(max(from, g.base), func(r *scanned) error {
			rep.scanned++
			m := r.msg
			if needKeys {
				hashes = keysOf(hashes[:0], m.Topic, m.Properties)
				for _, h := range hashes {
					keys = append(keys, keyEntry{h, r.off})
				}
				if minTS == 0 {
					minTS = m.StoreTimestamp
				}
				maxTS = m.StoreTimestamp
			}
			lastTS = max(lastTS, m.StoreTimestamp)
			if r.off >= cp && r.off >= s.deleted[m.Topic] {
				s.reindex(rep, m.Topic, m.QueueID, m.QueueOffset, entry{off: r.off, size: r.size, tags: m.TagsCode, ts: m.StoreTimestamp})
			}
			return nil
		})
		var bad *errBadFrame
		if err != nil && !errors.As(err, &bad) {
			return nil, err
		}
		if bad != nil {
			if err := s.cutLog(rep, i, end, bad.reason); err != nil {
				return nil, err
			}
			isLast = true
		}
		switch {
		case isLast:
			s.activeKeys, s.activeMin, s.activeMax = keys, minTS, maxTS
		case needKeys:
			if err := writeKeyFile(g.path+keysSuffix, keys, minTS, maxTS); err != nil {
				return nil, err
			}
			g.keys = keyFileHeader{ok: true, count: int64(len(keys)), minTS: minTS, maxTS: maxTS}
			rep.keyFiles++
		}
		if bad != nil {
			break
		}
	}
	s.active = s.segs[len(s.segs)-1]
	end := s.active.end()
	if end < cp {
		// The log is shorter than the checkpoint says (a cut tail): drop
		// the entries that point at what is gone.
		for _, q := range s.queues {
			if err := q.truncateFrom(end); err != nil {
				return nil, err
			}
		}
		cp = end
	}
	if err := s.active.f.Sync(); err != nil {
		return nil, fmt.Errorf("sync segment %s: %w", s.active.path, err)
	}
	s.end.Store(end)
	s.synced.Store(end)
	s.checkpoint.Store(cp)
	if lastTS == 0 {
		for _, g := range s.segs {
			lastTS = max(lastTS, g.keys.maxTS)
		}
	}
	s.lastTS = lastTS
	for _, q := range s.queues {
		if _, err := q.trimBelow(s.segs[0].base); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// rebuildKeys writes the key file of a sealed segment from its records.
func (s *Store) rebuildKeys(rep *recovery, g *segment) error {
	var keys []keyEntry
	var minTS, maxTS int64
	var hashes []uint64
	_, err := g.scan(g.base, func(r *scanned) error {
		hashes = keysOf(hashes[:0], r.msg.Topic, r.msg.Properties)
		for _, h := range hashes {
			keys = append(keys, keyEntry{h, r.off})
		}
		if minTS == 0 {
			minTS = r.msg.StoreTimestamp
		}
		maxTS = r.msg.StoreTimestamp
		return nil
	})
	var bad *errBadFrame
	if errors.As(err, &bad) {
		s.logf("disk store: sealed segment %s is damaged at %d (%s); its keys after that are not indexed", g.path, bad.off, bad.reason)
	} else if err != nil {
		return err
	}
	if err := writeKeyFile(g.path+keysSuffix, keys, minTS, maxTS); err != nil {
		return err
	}
	g.keys = keyFileHeader{ok: true, count: int64(len(keys)), minTS: minTS, maxTS: maxTS}
	rep.keyFiles++
	return nil
}

// cutLog truncates segment i at commit-log offset at and removes every
// later segment, after a bad frame was found there.
func (s *Store) cutLog(rep *recovery, i int, at int64, reason string) error {
	g := s.segs[i]
	rep.dropped = g.end() - at
	rep.dropReason = fmt.Sprintf("%s, segment %s", reason, filepath.Base(g.path))
	if err := g.f.Truncate(at - g.base); err != nil {
		return fmt.Errorf("truncate segment %s: %w", g.path, err)
	}
	g.size.Store(at - g.base)
	for _, later := range s.segs[i+1:] {
		rep.dropped += later.size.Load()
		rep.droppedSegs++
		_ = later.f.Close()
		if err := removeFile(later.path); err != nil {
			return fmt.Errorf("remove segment %s: %w", later.path, err)
		}
		if err := removeFile(later.path + keysSuffix); err != nil {
			return fmt.Errorf("remove key index %s: %w", later.path+keysSuffix, err)
		}
	}
	s.segs = s.segs[:i+1]
	// It is the active segment now: its key file, if any, is stale.
	if err := removeFile(g.path + keysSuffix); err != nil {
		return fmt.Errorf("remove key index %s: %w", g.path+keysSuffix, err)
	}
	g.keys = keyFileHeader{}
	return syncDir(filepath.Dir(g.path))
}

// reindex appends a recovered record's entry to its queue. A record after
// a gap in its queue (entries lost with a damaged index file) gets holes
// in front; a record already indexed is skipped.
func (s *Store) reindex(rep *recovery, topic string, qid int32, qoff int64, e entry) {
	q := s.queueFor(topic, qid)
	switch {
	case q.max == 0 && len(q.files) == 0 && len(q.pending) == 0:
		q.min, q.max, q.written = qoff, qoff, qoff
	case qoff < q.max:
		return
	}
	for q.max < qoff {
		q.pending = append(q.pending, entry{off: holeOffset, ts: e.ts})
		q.max++
		rep.holes++
	}
	q.pending = append(q.pending, e)
	q.max++
	rep.reindexed++
}

// loadQueues opens every queue directory under consumequeue.
func (s *Store) loadQueues() error {
	root := filepath.Join(s.dir, queueDir)
	topics, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("list %s: %w", root, err)
	}
	for _, t := range topics {
		if !t.IsDir() || strings.HasPrefix(t.Name(), ".") {
			continue
		}
		ids, err := os.ReadDir(filepath.Join(root, t.Name()))
		if err != nil {
			return fmt.Errorf("list %s: %w", t.Name(), err)
		}
		for _, d := range ids {
			id, err := strconv.ParseInt(d.Name(), 10, 32)
			if err != nil || !d.IsDir() {
				continue
			}
			q, err := openQueue(filepath.Join(root, t.Name(), d.Name()), t.Name(), int32(id), s.opt.queueFileEntries)
			if err != nil {
				return err
			}
			if gone, err := s.deletedBefore(q); err != nil || gone {
				q.close()
				if err != nil {
					return err
				}
				// A deletion that a crash interrupted: finish it.
				if err := os.RemoveAll(q.dir); err != nil {
					return fmt.Errorf("remove %s: %w", q.dir, err)
				}
				continue
			}
			s.queues[queueKey{t.Name(), int32(id)}] = q
		}
	}
	return nil
}

// deletedBefore reports whether every entry of q belongs to a deletion of
// its topic (all point below the deletion point).
func (s *Store) deletedBefore(q *cqueue) (bool, error) {
	at, ok := s.deleted[q.topic]
	if !ok {
		return false, nil
	}
	v := q.view()
	if v.max == v.min {
		return true, nil
	}
	e, err := v.entry(v.max - 1)
	if err != nil {
		return false, err
	}
	return e.off < at, nil
}
