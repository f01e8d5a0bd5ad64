package disk

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

func (s *Store) retentionOn() bool { return s.opt.retentionAge > 0 || s.opt.retentionBytes > 0 }

// Retain applies the retention policy of WithRetention now: sealed
// segments are removed oldest first while the newest message of the
// oldest is older than the age limit or the log is larger than the size
// limit; the queues' min offsets then move past the removed messages
// (pulls below them get OFFSET_TOO_SMALL, as on the real broker). The
// active segment is never removed. It runs by itself every retention
// interval; tests call it after moving their clock.
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
	var total int64
	for _, g := range s.segs {
		total += g.size.Load()
	}
	drop := 0
	for drop < len(s.segs)-1 {
		g := s.segs[drop]
		expired := s.opt.retentionAge > 0 && g.keys.ok && now-g.keys.maxTS > s.opt.retentionAge.Milliseconds()
		over := s.opt.retentionBytes > 0 && total > s.opt.retentionBytes
		if !expired && !over {
			break
		}
		total -= g.size.Load()
		drop++
	}
	if drop == 0 {
		return nil
	}
	var errs []error
	for _, g := range s.segs[:drop] {
		_ = g.f.Close()
		if err := removeFile(g.path); err != nil {
			errs = append(errs, fmt.Errorf("remove segment %s: %w", g.path, err))
		}
		if err := removeFile(g.path + keysSuffix); err != nil {
			errs = append(errs, fmt.Errorf("remove key index %s: %w", g.path+keysSuffix, err))
		}
	}
	removed := s.segs[:drop]
	s.segs = append([]*segment(nil), s.segs[drop:]...)
	logMin := s.segs[0].base
	for _, q := range s.queueList() {
		if err := q.trimBelow(logMin); err != nil {
			errs = append(errs, err)
		}
	}
	s.logf("disk store: retention removed %d segment(s) [%d, %d); the log now starts at %d (%d bytes)",
		drop, removed[0].base, logMin, logMin, total)
	return errors.Join(errs...)
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
