// Package clock is the embedded broker's source of message time: the
// Clock interface, the system clock and a manual clock for tests. It is its
// own package so that the broker and its engines (package pop) share one
// Clock type; package minirocketmq re-exports it (minirocketmq.Clock,
// minirocketmq.NewManualClock).
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock is a source of message time: store timestamps, and (for the
// features that build on it) delay levels, retry back-off, transaction
// check intervals, pop consumption's invisible durations. Network timing
// (long-polling holds, idle client expiry) always uses real time, because
// the clients' own timeouts do.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine (System) or from Advance
	// (Manual) once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not happened yet and reports
	// whether it did so.
	Stop() bool
}

// System returns the Clock backed by package time.
func System() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Manual is a Clock that moves only when told to, for tests of time-driven
// behaviour (miniredis' FastForward). Timers fire from Advance and Set, in
// due order, on the caller's goroutine.
type Manual struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*manualTimer
}

// NewManual returns a Manual clock showing start.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

type manualTimer struct {
	c   *Manual
	at  time.Time
	seq uint64
	f   func()
}

// Now implements Clock.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements Clock. A d <= 0 fires at the next Advance or Set.
func (c *Manual) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &manualTimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, x := range t.c.timers {
		if x == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Advance moves the clock forward by d and runs the timers that became due.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	t := c.now.Add(d)
	c.mu.Unlock()
	c.Set(t)
}

// Set moves the clock to t (never backwards) and runs the timers that
// became due, earliest first. Timers added by those callbacks that are due
// too run in the same call.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	for {
		sort.Slice(c.timers, func(i, j int) bool {
			if !c.timers[i].at.Equal(c.timers[j].at) {
				return c.timers[i].at.Before(c.timers[j].at)
			}
			return c.timers[i].seq < c.timers[j].seq
		})
		if len(c.timers) == 0 || c.timers[0].at.After(c.now) {
			c.mu.Unlock()
			return
		}
		next := c.timers[0]
		c.timers = c.timers[1:]
		c.mu.Unlock()
		next.f()
		c.mu.Lock()
	}
}
