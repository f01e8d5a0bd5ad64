package pop

import (
	"container/heap"
	"sort"
	"time"
)

type queueKey struct {
	group, topic string
	queueID      int32
}

// Entry states; see the package doc.
const (
	stateWaiting = iota
	stateInflight
	stateReady
	stateMoving
	stateGone // its queue state was dropped by SetOffset
)

// entry is a pending message of a group in a queue.
type entry struct {
	q               *queueState
	offset          int64
	commitLogOffset int64
	msgGroup        string // FIFO key
	state           int
	attempt         int // deliveries so far
	maxAttempts     int // of the latest delivery; 0: no limit
	suspended       bool
	firstPop        time.Time // of the first delivery

	// The current delivery (state inflight).
	seq         uint64
	popTime     time.Time
	invisible   time.Duration
	visibleAt   time.Time
	deliveredAt time.Time // first receive of this delivery, for WithRenewMax
	fifo        bool
	owner       string
	autoRenew   bool
	heapIdx     int // index in Engine.timers, -1 when not there
}

// queueState is what the engine knows of one group in one queue.
type queueState struct {
	key       queueKey
	cursor    int64    // first offset never looked at
	pending   []*entry // sorted by offset, all below cursor
	byOffset  map[int64]*entry
	committed int64 // what the host was last told
	lastUsed  time.Time
}

// queue returns the state of a group in a queue, creating it from the
// committed offset (or, for a group new to the queue, the start of a young
// queue or the end of an old one: what a new consumer gets). Call with e.mu
// held.
func (e *Engine) queue(group, topic string, queueID int32) *queueState {
	k := queueKey{group, topic, queueID}
	if q := e.queues[k]; q != nil {
		return q
	}
	q := &queueState{key: k, byOffset: make(map[int64]*entry)}
	off, ok := e.host.ConsumerOffset(group, topic, queueID)
	switch {
	case ok:
		q.committed = off
	case e.st.MinOffset(topic, queueID) <= 0:
		off = 0
		q.committed = -1 // not committed yet
	default:
		off = e.st.MaxOffset(topic, queueID)
		q.committed = -1
	}
	q.cursor = max(off, e.st.MinOffset(topic, queueID))
	e.queues[k] = q
	return q
}

// SetOffset commits offset as group's consumer offset of a queue on behalf
// of someone other than the engine (an admin's reset, a client's
// UpdateOffset) and drops what the engine held for the group there, so that
// the next receive reads from offset. Every pending entry goes: its receipt
// handles answer ErrHandleExpired from now on, and a message at or above
// offset is delivered again from the new cursor with attempt 1 (a FIFO
// group blocked by one of them is unblocked); one below offset is not
// delivered again. The commit happens under the engine's lock, so no
// commit of the engine's can overwrite it. Safe after Close.
func (e *Engine) SetOffset(group, topic string, queueID int32, offset int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.forget(queueKey{group, topic, queueID})
	e.host.CommitOffset(group, topic, queueID, offset)
}

// forget drops the state of a group in a queue and its pending entries,
// marking them gone so that nothing done outside the lock (a dead-letter
// write in progress) commits for them. Call with e.mu held.
func (e *Engine) forget(k queueKey) {
	q := e.queues[k]
	if q == nil {
		return
	}
	for _, en := range q.pending {
		e.unschedule(en)
		e.disown(en)
		en.state = stateGone
	}
	delete(e.queues, k)
}

// add appends a pending entry for offset, which must be at least the
// cursor (pending stays sorted), and moves the cursor past it.
func (q *queueState) add(en *entry) {
	en.q = q
	en.heapIdx = -1
	q.pending = append(q.pending, en)
	q.byOffset[en.offset] = en
	q.cursor = en.offset + 1
}

// remove forgets a pending entry.
func (q *queueState) remove(en *entry) {
	i := sort.Search(len(q.pending), func(i int) bool { return q.pending[i].offset >= en.offset })
	if i < len(q.pending) && q.pending[i] == en {
		q.pending = append(q.pending[:i], q.pending[i+1:]...)
	}
	delete(q.byOffset, en.offset)
}

// low is the group's consumer offset: the oldest pending offset, else the
// cursor.
func (q *queueState) low() int64 {
	if len(q.pending) > 0 {
		return q.pending[0].offset
	}
	return q.cursor
}

// commit tells the host the consumer offset when it moved. Call with e.mu
// held.
func (e *Engine) commit(q *queueState) {
	if low := q.low(); low != q.committed {
		q.committed = low
		e.host.CommitOffset(q.key.group, q.key.topic, q.key.queueID, low)
	}
}

// drop removes an entry for good (acknowledged, dead-lettered, vanished).
// Call with e.mu held.
func (e *Engine) drop(en *entry) {
	e.unschedule(en)
	e.disown(en)
	en.q.remove(en)
	e.commit(en.q)
}

// schedule puts an in-flight entry in the expiry heap (or moves it there),
// and wakes the background goroutine when it is now the first to expire,
// so that it re-arms its alarm.
func (e *Engine) schedule(en *entry) {
	if en.heapIdx >= 0 {
		heap.Fix(&e.timers, en.heapIdx)
	} else {
		heap.Push(&e.timers, en)
	}
	if en.heapIdx == 0 {
		e.alarm.signal()
	}
}

func (e *Engine) unschedule(en *entry) {
	if en.heapIdx >= 0 {
		heap.Remove(&e.timers, en.heapIdx)
	}
}

// own records an auto-renewed entry under its owner; disown forgets it.
func (e *Engine) own(en *entry) {
	if !en.autoRenew || en.owner == "" {
		return
	}
	m := e.owners[en.owner]
	if m == nil {
		m = make(map[*entry]struct{})
		e.owners[en.owner] = m
	}
	m[en] = struct{}{}
}

func (e *Engine) disown(en *entry) {
	if m := e.owners[en.owner]; m != nil {
		delete(m, en)
		if len(m) == 0 {
			delete(e.owners, en.owner)
		}
	}
}

// entryHeap orders in-flight entries by visible time (container/heap).
type entryHeap []*entry

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, j int) bool {
	if !h[i].visibleAt.Equal(h[j].visibleAt) {
		return h[i].visibleAt.Before(h[j].visibleAt)
	}
	return h[i].seq < h[j].seq
}
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *entryHeap) Push(x any) {
	en := x.(*entry)
	en.heapIdx = len(*h)
	*h = append(*h, en)
}
func (h *entryHeap) Pop() any {
	old := *h
	en := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	en.heapIdx = -1
	return en
}

// next is the earliest visible time, zero when nothing is in flight.
func (h entryHeap) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].visibleAt
}
