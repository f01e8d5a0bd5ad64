package rocketmq

import (
	"context"
	"sync"
	"sync/atomic"
)

// inflight counts running handlers so Drain can wait for them. The count and a
// "draining" bit share one atomic word: enter and leave are one atomic add each on the
// hot path, and no handler can start after the bit is set.
type inflight struct {
	n        atomic.Int64
	idle     chan struct{}
	idleOnce sync.Once
}

const drainBit = int64(1) << 62

func newInflight() *inflight { return &inflight{idle: make(chan struct{})} }

// enter reports whether a handler may start; false once draining.
func (f *inflight) enter() bool {
	if f.n.Add(1)&drainBit != 0 {
		f.leave()
		return false
	}
	return true
}

func (f *inflight) leave() {
	if f.n.Add(-1) == drainBit {
		f.idleOnce.Do(func() { close(f.idle) })
	}
}

// drain forbids new handlers and waits until running ones have left or ctx is done.
func (f *inflight) drain(ctx context.Context) error {
	if old := f.n.Or(drainBit); old&^drainBit == 0 {
		f.idleOnce.Do(func() { close(f.idle) })
	}
	select {
	case <-f.idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// running returns the number of running handlers.
func (f *inflight) running() int64 { return f.n.Load() &^ drainBit }
