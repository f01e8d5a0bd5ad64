package minirocketmq

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// pullHolds parks pull requests that found nothing (PullRequestHoldService).
// A held pull is answered exactly once, by whichever comes first: a message
// arriving on its queue that passes its filter (the sender's goroutine runs
// the pull again and writes the answer), its hold time running out (a timer
// goroutine does the same), or its connection closing (dropped).
//
// Owner: the mutex guards the map; each heldPull's done flag decides who
// answers it. There is no periodic re-check: notify runs after every store
// append, and hold re-checks the queue after parking, so an append that
// races with parking is never missed.
type pullHolds struct {
	b     *Broker
	count atomic.Int64 // held pulls; lets notify skip the lock when zero
	mu    sync.Mutex
	m     map[queueKey][]*heldPull
	// perConn counts each connection's held pulls, capped by
	// WithMaxHeldPulls: a client cannot park requests without bound.
	perConn map[*conn]int
	// timers counts hold timers that are armed or running their callback,
	// so stopAll can wait for the callbacks to finish.
	timers sync.WaitGroup
}

type queueKey struct {
	topic   string
	queueID int32
}

type heldPull struct {
	c      *conn
	req    *remoting.Command
	key    queueKey
	offset int64
	filter store.Filter
	timer  *time.Timer
	done   atomic.Bool
}

func newPullHolds(b *Broker) *pullHolds {
	return &pullHolds{b: b, m: make(map[queueKey][]*heldPull), perConn: make(map[*conn]int)}
}

// hold parks a pull of key at offset for up to d. It returns false, and
// parks nothing, when c already has the most held pulls allowed.
func (h *pullHolds) hold(c *conn, req *remoting.Command, key queueKey, offset int64, filter store.Filter, d time.Duration) bool {
	hp := &heldPull{c: c, req: req, key: key, offset: offset, filter: filter}
	h.mu.Lock()
	if h.perConn[c] >= h.b.cfg.limits.maxHeldPulls {
		h.mu.Unlock()
		return false
	}
	h.perConn[c]++
	h.m[key] = append(h.m[key], hp)
	h.count.Add(1)
	h.timers.Add(1)
	hp.timer = time.AfterFunc(d, func() {
		defer h.timers.Done()
		h.answer(hp, false)
	})
	h.mu.Unlock()
	// A message stored between the pull's read and the parking above saw
	// no held pull; look again now that this one is visible.
	if h.b.store.MaxOffset(key.topic, key.queueID) > offset {
		h.answer(hp, true)
	}
	return true
}

// stopTimer disarms hp's timer; when that prevented the callback, the
// callback's share of the timers count is released here.
func (h *pullHolds) stopTimer(hp *heldPull) {
	if hp.timer.Stop() {
		h.timers.Done()
	}
}

// notify wakes the pulls held on the queue of msgs that wait for an offset
// below the queue's new end and whose filter accepts one of msgs.
func (h *pullHolds) notify(msgs []*message.Message) {
	if h.count.Load() == 0 || len(msgs) == 0 {
		return
	}
	key := queueKey{msgs[0].Topic, msgs[0].QueueID}
	end := msgs[len(msgs)-1].QueueOffset + 1
	var ready []*heldPull
	h.mu.Lock()
	list := h.m[key]
	for _, hp := range list {
		if hp.offset < end && matchesAny(hp.filter, msgs) {
			ready = append(ready, hp)
		}
	}
	h.mu.Unlock()
	for _, hp := range ready {
		h.answer(hp, true)
	}
}

func matchesAny(f store.Filter, msgs []*message.Message) bool {
	if f == nil {
		return true
	}
	for _, m := range msgs {
		if f.MatchTagsCode(m.TagsCode) {
			return true
		}
	}
	return false
}

// answer answers hp unless somebody already did: it runs the pull again,
// now without permission to hold, and writes the result. stop is false when
// called from hp's own timer (which must not touch hp.timer).
func (h *pullHolds) answer(hp *heldPull, stop bool) {
	if !hp.done.CompareAndSwap(false, true) {
		return
	}
	if stop {
		h.stopTimer(hp)
	}
	h.remove(hp)
	h.b.guard(hp.c, hp.req, func() {
		resp := h.b.pull(hp.c, hp.req, false)
		if resp != nil {
			if err := h.b.respond(hp.c, hp.req, resp); err != nil {
				_ = hp.c.Close()
			}
			h.b.recycle(hp.req, resp)
		}
	})
}

func (h *pullHolds) remove(hp *heldPull) {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.m[hp.key]
	for i, x := range list {
		if x == hp {
			list = append(list[:i:i], list[i+1:]...)
			h.count.Add(-1)
			if h.perConn[hp.c]--; h.perConn[hp.c] <= 0 {
				delete(h.perConn, hp.c)
			}
			break
		}
	}
	if len(list) == 0 {
		delete(h.m, hp.key)
	} else {
		h.m[hp.key] = list
	}
}

// dropConn forgets the pulls held for a closed connection.
func (h *pullHolds) dropConn(c *conn) {
	var gone []*heldPull
	h.mu.Lock()
	for _, list := range h.m {
		for _, hp := range list {
			if hp.c == c {
				gone = append(gone, hp)
			}
		}
	}
	h.mu.Unlock()
	for _, hp := range gone {
		if hp.done.CompareAndSwap(false, true) {
			h.stopTimer(hp)
			h.remove(hp)
		}
	}
}

// stopAll stops every hold timer and waits for running callbacks (Close;
// by then no connection is left to park new pulls).
func (h *pullHolds) stopAll() {
	h.mu.Lock()
	var all []*heldPull
	for k, list := range h.m {
		all = append(all, list...)
		delete(h.m, k)
	}
	clear(h.perConn)
	h.count.Store(0)
	h.mu.Unlock()
	for _, hp := range all {
		if hp.done.CompareAndSwap(false, true) {
			h.stopTimer(hp)
		}
	}
	h.timers.Wait()
}
