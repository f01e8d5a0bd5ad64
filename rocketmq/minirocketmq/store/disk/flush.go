package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Two goroutines keep the files in step with Put:
//   - the syncer fsyncs the active segment every flush interval, and at
//     once when AfterSync asks (group commit: everybody who asked before
//     the fsync started is answered by it);
//   - the indexer writes pending consume-queue entries every flush
//     interval, and every checkpoint interval fsyncs the index files and
//     advances the checkpoint to what is both indexed and fsynced; it also
//     runs retention.

// AfterSync implements store.Syncer.
func (s *Store) AfterSync(fn func(error)) {
	s.syncMu.Lock()
	if s.syncDone {
		s.syncMu.Unlock()
		fn(store.ErrClosed)
		return
	}
	s.waiters = append(s.waiters, fn)
	s.syncMu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Store) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opt.flushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return // Close syncs and answers the waiters left
		case <-s.kick:
		case <-t.C:
		}
		s.syncOnce()
	}
}

// syncOnce fsyncs what was written before it started and answers the
// waiters registered before that.
func (s *Store) syncOnce() {
	s.syncMu.Lock()
	ws := s.waiters
	s.waiters = nil
	s.syncMu.Unlock()

	s.amu.Lock()
	files := append(s.unsynced, s.active)
	newFiles, end := s.newFiles, s.end.Load()
	s.unsynced, s.newFiles = nil, false
	s.amu.Unlock()
	err := s.failure()
	if err == nil && end > s.synced.Load() {
		s.fmu.RLock()
		err = s.syncFiles(files, newFiles)
		s.fmu.RUnlock()
		if err == nil {
			s.synced.Store(end)
		} else if !errors.Is(err, store.ErrClosed) {
			s.fail(err)
		}
	}
	for _, w := range ws {
		w(err)
	}
}

// syncFiles fsyncs segments (sealed ones first) and, after a roll, the
// commit-log directory. Callers hold fmu.
func (s *Store) syncFiles(segs []*segment, dir bool) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	for _, g := range segs {
		if err := g.f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("sync segment %s: %w", g.path, err)
		}
	}
	if dir {
		return syncDir(filepath.Join(s.dir, commitLogDir))
	}
	return nil
}

func (s *Store) indexLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opt.flushInterval)
	defer t.Stop()
	lastCheckpoint, lastRetention := time.Now(), time.Now()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			if _, err := s.writeIndexes(); err != nil {
				s.logf("disk store: write indexes: %v", err)
			}
			if now.Sub(lastCheckpoint) >= s.opt.checkpointInterval {
				lastCheckpoint = now
				if err := s.advanceCheckpoint(); err != nil {
					s.logf("disk store: checkpoint: %v", err)
				}
			}
			if s.retentionOn() && now.Sub(lastRetention) >= s.opt.retentionInterval {
				lastRetention = now
				if err := s.Retain(); err != nil {
					s.logf("disk store: retention: %v", err)
				}
			}
		}
	}
}

// writeIndexes writes every queue's pending entries and returns a
// commit-log offset below which every record's entry is written.
func (s *Store) writeIndexes() (int64, error) {
	// Put publishes end after queuing the entries of its records, so
	// everything below this end has its entries pending or written.
	end := s.end.Load()
	s.fmu.RLock()
	defer s.fmu.RUnlock()
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	return end, s.writeIndexesLocked()
}

func (s *Store) writeIndexesLocked() error {
	var errs []error
	for _, q := range s.queueList() {
		if _, err := q.writePending(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// advanceCheckpoint fsyncs the index files and records a checkpoint below
// which both the indexes and the log are durable.
func (s *Store) advanceCheckpoint() error {
	end, err := s.writeIndexes()
	if err != nil {
		return err
	}
	s.fmu.RLock()
	for _, q := range s.queueList() {
		if serr := q.sync(); serr != nil {
			err = serr
			break
		}
	}
	s.fmu.RUnlock()
	if err != nil {
		return err
	}
	return s.writeCheckpoint(min(end, s.synced.Load()))
}

func (s *Store) writeCheckpoint(off int64) error {
	if off <= s.checkpoint.Load() {
		return nil
	}
	if err := writeFileAtomic(filepath.Join(s.dir, checkpointFile), encodeCheckpoint(off)); err != nil {
		return err
	}
	s.checkpoint.Store(off)
	return nil
}

// Close implements store.Store: it stops the background goroutines,
// writes and fsyncs everything, records a checkpoint at the end of the log
// (so the next Open has nothing to re-index) and closes the files.
func (s *Store) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()

	s.amu.Lock()
	defer s.amu.Unlock()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.closed.Load() {
		return nil
	}
	var errs []error
	if err := s.failure(); err != nil {
		errs = append(errs, err)
	}
	if err := s.writeIndexesLocked(); err != nil {
		errs = append(errs, err)
	}
	for _, q := range s.queueList() {
		if err := q.sync(); err != nil {
			errs = append(errs, err)
		}
	}
	end := s.end.Load()
	if err := s.syncFiles(append(s.unsynced, s.active), s.newFiles); err != nil {
		errs = append(errs, err)
	} else {
		s.synced.Store(end)
	}
	if len(errs) == 0 {
		if err := s.writeCheckpoint(end); err != nil {
			errs = append(errs, err)
		}
	}
	s.closed.Store(true)
	for _, q := range s.queueList() {
		q.close()
	}
	closeSegments(s.segs)
	_ = s.lock.Close()

	err := errors.Join(errs...)
	s.syncMu.Lock()
	ws := s.waiters
	s.waiters, s.syncDone = nil, true
	s.syncMu.Unlock()
	for _, w := range ws {
		if err != nil {
			w(err)
		} else {
			w(nil)
		}
	}
	if err != nil {
		return fmt.Errorf("disk store: close %s: %w", s.dir, err)
	}
	return nil
}

// crash stops the store the way a killed process does: the background
// goroutines end and the files are closed without writing pending index
// entries, fsyncing or recording a checkpoint. What Put wrote stays in the
// files (as it would in the page cache). For tests.
func (s *Store) crash() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
	s.amu.Lock()
	defer s.amu.Unlock()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.closed.Swap(true) {
		return
	}
	for _, q := range s.queueList() {
		q.close()
	}
	closeSegments(s.segs)
	_ = s.lock.Close()
	s.syncMu.Lock()
	ws := s.waiters
	s.waiters, s.syncDone = nil, true
	s.syncMu.Unlock()
	for _, w := range ws {
		w(store.ErrClosed)
	}
}
