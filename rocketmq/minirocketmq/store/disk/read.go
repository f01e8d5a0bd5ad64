package disk

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

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
