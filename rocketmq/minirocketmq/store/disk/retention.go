package disk

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

func (s *Store) retentionOn() bool { return s.opt.retentionAge > 0 || s.opt.retentionBytes > 0 }

// retention holds what Retain needs besides the options: the keeper and
// the counters. Owner: its mutex.
type retention struct {
	mu     sync.Mutex
	keeper store.Keeper
	stats  store.RetentionStats // counters only
}

var _ store.Retainer = (*Store)(nil)

// SetKeeper implements store.Retainer: retention never removes a segment
// that holds, or lies after, a message the keeper still needs.
func (s *Store) SetKeeper(k store.Keeper) {
	s.ret.mu.Lock()
	defer s.ret.mu.Unlock()
	s.ret.keeper = k
}

// RetentionStats implements store.Retainer.
func (s *Store) RetentionStats() store.RetentionStats {
	s.ret.mu.Lock()
	st := s.ret.stats
	s.ret.mu.Unlock()
	st.MaxAge, st.MaxBytes = s.opt.retentionAge, s.opt.retentionBytes
	s.fmu.RLock()
	defer s.fmu.RUnlock()
	for _, g := range s.segs {
		st.Bytes += g.size.Load()
	}
	st.Segments = len(s.segs)
	return st
}

// neededSegments returns the segments (by base offset) that hold a message
// the keeper still needs. Called with fmu held.
func (s *Store) neededSegments() (map[int64]bool, error) {
	s.ret.mu.Lock()
	k := s.ret.keeper
	s.ret.mu.Unlock()
	needed := make(map[int64]bool)
	if k == nil {
		return needed, nil
	}
	for _, q := range s.queueList() {
		first, ok := k(q.topic, q.id)
		if !ok {
			continue
		}
		v := q.view()
		var es []entry
		for from := max(first, v.min); from < v.max; from += 4096 {
			var err error
			if es, err = v.entries(es[:0], from, min(v.max, from+4096)); err != nil {
				return nil, err
			}
			for _, e := range es {
				if e.off == holeOffset {
					continue
				}
				if g := s.segmentAt(e.off); g != nil && e.off < g.end() {
					needed[g.base] = true
				}
			}
		}
	}
	return needed, nil
}

// Retain applies the retention policy of WithRetention now: sealed
// segments are removed oldest first while the newest message of the
// oldest is older than the age limit or the log is larger than the size
// limit; the queues' min offsets then move past the removed messages
// (pulls below them get OFFSET_TOO_SMALL, as on the real broker). The
// active segment is never removed, nor is a segment holding a message the
// keeper (SetKeeper) still needs, a pending transaction's half message or
// an undelivered delayed message: it stays (logged, and
// RetentionStats.Blocked) while younger segments past the limits go, so
// the log can have gaps, which reads skip. It runs by itself every
// retention interval; tests call it after moving their clock.
func (s *Store) Retain() error {
	if !s.retentionOn() {
		return nil
	}
	now := s.opt.now().UnixMilli()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	needed, err := s.neededSegments()
	if err != nil {
		return fmt.Errorf("disk store: retention: find the messages still needed: %w", err)
	}
	var total int64
	for _, g := range s.segs {
		total += g.size.Load()
	}
	var removed, kept []*segment
	blocked := false
	for _, g := range s.segs[:len(s.segs)-1] {
		expired := s.opt.retentionAge > 0 && g.keys.ok && now-g.keys.maxTS > s.opt.retentionAge.Milliseconds()
		over := s.opt.retentionBytes > 0 && total > s.opt.retentionBytes
		if !expired && !over {
			break
		}
		if needed[g.base] {
			blocked = true
			continue
		}
		total -= g.size.Load()
		removed = append(removed, g)
	}
	for _, g := range s.segs {
		if len(removed) == 0 || !slices.Contains(removed, g) {
			kept = append(kept, g)
		}
	}
	s.ret.mu.Lock()
	s.ret.stats.Blocked = blocked
	s.ret.mu.Unlock()
	if blocked {
		s.logf("disk store: retention keeps %d segment(s) past its limits: they hold messages still needed (pending transactions or delayed messages)", countNeeded(kept, needed))
	}
	if len(removed) == 0 {
		return nil
	}
	var errs []error
	var removedBytes int64
	for _, g := range removed {
		removedBytes += g.size.Load()
		_ = g.f.Close()
		if err := removeFile(g.path); err != nil {
			errs = append(errs, fmt.Errorf("remove segment %s: %w", g.path, err))
		}
		if err := removeFile(g.path + keysSuffix); err != nil {
			errs = append(errs, fmt.Errorf("remove key index %s: %w", g.path+keysSuffix, err))
		}
	}
	s.segs = kept
	var removedMsgs int64
	for _, q := range s.queueList() {
		n, err := q.trimGone(s.present)
		if err != nil {
			errs = append(errs, err)
		}
		removedMsgs += n
	}
	s.ret.mu.Lock()
	s.ret.stats.RemovedSegments += int64(len(removed))
	s.ret.stats.RemovedBytes += removedBytes
	s.ret.stats.RemovedMessages += removedMsgs
	s.ret.stats.LastRemoval = time.UnixMilli(now)
	s.ret.mu.Unlock()
	s.logf("disk store: retention removed %d segment(s) from %d to %d, %d bytes, %d messages; the log starts at %d and holds %d bytes",
		len(removed), removed[0].base, removed[len(removed)-1].end(), removedBytes, removedMsgs, s.segs[0].base, total)
	return errors.Join(errs...)
}

// present reports whether the record at commit-log offset off is still in
// a segment. Callers hold fmu.
func (s *Store) present(off int64) bool {
	g := s.segmentAt(off)
	return g != nil && off < g.end()
}

func countNeeded(segs []*segment, needed map[int64]bool) int {
	n := 0
	for _, g := range segs {
		if needed[g.base] {
			n++
		}
	}
	return n
}

// DeleteTopic implements store.Store: the topic's queues and index files
// go at once; its records stay in the log until retention removes them,
// invisible to QueryByKey. The deletion point is persisted, so recovery
// never indexes those records again.
func (s *Store) DeleteTopic(topic string) error {
	s.amu.Lock()
	defer s.amu.Unlock()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	s.qmu.Lock()
	var qs []*cqueue
	for k, q := range s.queues {
		if k.topic == topic {
			qs = append(qs, q)
			delete(s.queues, k)
		}
	}
	s.qmu.Unlock()
	s.deleted[topic] = s.end.Load()
	if err := s.saveDeleted(); err != nil {
		return fmt.Errorf("disk store: delete topic %s: %w", topic, err)
	}
	for _, q := range qs {
		q.close()
	}
	dir := filepath.Join(s.dir, queueDir, topic)
	trash := filepath.Join(s.dir, queueDir, trashPrefix+topic)
	if err := os.Rename(dir, trash); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("disk store: delete topic %s: %w", topic, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("disk store: delete topic %s: %w", topic, err)
	}
	return nil
}

// saveDeleted persists the deletion points, dropping those below the log
// (nothing of the topic's old messages is left). Called with amu held.
func (s *Store) saveDeleted() error {
	if len(s.segs) > 0 {
		for t, off := range s.deleted {
			if off <= s.segs[0].base {
				delete(s.deleted, t)
			}
		}
	}
	b, err := json.Marshal(s.deleted)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.dir, deletedFile), b)
}

func loadDeleted(dir string) (map[string]int64, error) {
	m := make(map[string]int64)
	b, err := os.ReadFile(filepath.Join(dir, deletedFile))
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", deletedFile, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, deletedFile), err)
	}
	return m, nil
}

// removeLeftovers removes what an interrupted atomic write or topic
// deletion left behind.
func removeLeftovers(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, commitLogDir)} {
		ents, err := os.ReadDir(d)
		if err != nil {
			return fmt.Errorf("list %s: %w", d, err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), tmpSuffix) {
				if err := removeFile(filepath.Join(d, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	qd := filepath.Join(dir, queueDir)
	ents, err := os.ReadDir(qd)
	if err != nil {
		return fmt.Errorf("list %s: %w", qd, err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), trashPrefix) {
			if err := os.RemoveAll(filepath.Join(qd, e.Name())); err != nil {
				return fmt.Errorf("remove %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}
