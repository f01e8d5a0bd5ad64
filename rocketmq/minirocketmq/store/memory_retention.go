package store

import (
	"sort"
	"time"
)

// Retention of the in-memory store (WithMemoryRetention). A pass removes
// sealed slabs, oldest first, while the oldest one's newest record is
// older than the age limit or the store holds more than the size limit;
// the slab being written is never removed. Every queue is then trimmed to
// the new start of the log: its min offset moves past the removed records
// (pulls below it get OFFSET_TOO_SMALL, as on the real broker), and the key
// index forgets them.
//
// Records the Keeper still needs (a pending transaction's half message, a
// delayed message not delivered yet) are copied out of a slab before it is
// removed and kept, by commit-log offset, until the Keeper lets them go;
// their queue keeps its entries from the first needed one on. So the size
// limit bounds the log, and what is kept past it is only what the broker
// still has to act on (RetentionStats.KeptBytes).
//
// A pass runs from Put when a limit is exceeded (so the store never holds
// more than the limit plus one slab and the records kept), and from Retain,
// which the broker calls periodically for the age limit.

var _ Retainer = (*Memory)(nil)

// SetKeeper implements Retainer.
func (m *Memory) SetKeeper(k Keeper) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keeper = k
}

// retentionDueLocked reports whether a retention pass would remove
// something at store time now (ms).
func (m *Memory) retentionDueLocked(now int64) bool {
	if m.maxBytes > 0 && m.size+m.pinnedBytes > m.maxBytes && len(m.segs) > 1 {
		return true
	}
	return m.maxAge > 0 && len(m.segs) > 1 && m.segs[0].maxTS < now-m.maxAge.Milliseconds()
}

// Retain implements Retainer: it runs a retention pass now.
func (m *Memory) Retain() error {
	if m.maxAge <= 0 && m.maxBytes <= 0 {
		return nil
	}
	if !m.retainMu.TryLock() {
		return nil // a pass is running
	}
	defer m.retainMu.Unlock()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	report := m.retainLocked(m.now().UnixMilli())
	m.mu.Unlock()
	if report != "" {
		m.logf("%s", report)
	}
	return nil
}

// retainLocked removes what the policy says at store time now and returns
// the log line saying what it removed ("" for nothing).
func (m *Memory) retainLocked(now int64) string {
	n := 0
	size := m.size
	var why string
	for n < len(m.segs)-1 {
		s := &m.segs[n]
		if s.buf != nil {
			expired := m.maxAge > 0 && s.maxTS < now-m.maxAge.Milliseconds()
			over := m.maxBytes > 0 && size+m.pinnedBytes > m.maxBytes
			if !expired && !over {
				break
			}
			if why == "" {
				why = map[bool]string{true: "older than " + m.maxAge.String(), false: "over " + sizeString(m.maxBytes)}[expired]
			}
			size -= int64(len(s.buf))
		}
		n++
	}
	if n == 0 {
		return ""
	}
	start := m.segs[n].base // the log starts here now
	removedBytes := m.size - size
	var removedMsgs, pinnedNow int64
	for k, q := range m.queues {
		i := sort.Search(len(q.entries), func(i int) bool { return q.entries[i].clOffset >= start })
		if i == 0 {
			continue
		}
		cut := i
		if m.keeper != nil {
			if first, ok := m.keeper(k.topic, k.id); ok {
				cut = int(min(max(first-q.min, 0), int64(i)))
			}
		}
		for _, e := range q.entries[cut:i] {
			if _, ok := m.pinned[e.clOffset]; ok {
				continue
			}
			if rec := m.record(e.clOffset); rec != nil {
				m.pinned[e.clOffset] = append([]byte(nil), rec...)
				m.pinnedBytes += int64(len(rec))
				pinnedNow++
			}
		}
		for _, e := range q.entries[:cut] {
			if rec, ok := m.pinned[e.clOffset]; ok {
				delete(m.pinned, e.clOffset)
				m.pinnedBytes -= int64(len(rec))
			}
		}
		removedMsgs += int64(cut)
		rest := q.entries[cut:]
		if cap(rest) > 2*len(rest)+1024 {
			rest = append([]entry(nil), rest...) // let the removed prefix go
		}
		q.entries = rest
		q.min += int64(cut)
	}
	for _, s := range m.segs[:n] {
		for _, ik := range s.keys {
			offs := m.keys[ik]
			j := sort.Search(len(offs), func(j int) bool { return offs[j] >= start })
			if j == len(offs) {
				delete(m.keys, ik)
			} else if j > 0 {
				m.keys[ik] = append(offs[:0:0], offs[j:]...)
			}
		}
	}
	removedSegs := 0
	for _, s := range m.segs[:n] {
		if s.buf != nil {
			removedSegs++
		}
	}
	m.segs = append([]segment(nil), m.segs[n:]...)
	m.size = size
	m.stats.RemovedSegments += int64(removedSegs)
	m.stats.RemovedBytes += removedBytes
	m.stats.RemovedMessages += removedMsgs
	m.stats.LastRemoval = time.UnixMilli(now)
	return sprintf("memory store: retention removed %d slab(s), %d messages, %s (%s); the log starts at %d, %s held, %d records (%s) kept past it for pending transactions and scheduled messages (%d new)",
		removedSegs, removedMsgs, sizeString(removedBytes), why, start, sizeString(m.size), len(m.pinned), sizeString(m.pinnedBytes), pinnedNow)
}

// RetentionStats implements Retainer.
func (m *Memory) RetentionStats() RetentionStats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st := m.stats
	st.MaxAge, st.MaxBytes = m.maxAge, m.maxBytes
	st.Bytes = m.size + m.pinnedBytes
	for _, s := range m.segs {
		if s.buf != nil {
			st.Segments++
		}
	}
	st.KeptMessages, st.KeptBytes = int64(len(m.pinned)), m.pinnedBytes
	return st
}
