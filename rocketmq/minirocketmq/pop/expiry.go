package pop

import (
	"container/heap"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// work is what a call found to do after releasing the engine's lock:
// messages to move to a dead-letter queue, topics whose waiting receives
// have something new.
type work struct {
	dead   []deadJob
	notify []string
}

// deadJob is an entry in state moving, with what writing it needs (copied
// under the lock).
type deadJob struct {
	en              *entry
	group, topic    string
	commitLogOffset int64
	attempt         int
}

func (w *work) add(o work) {
	w.dead = append(w.dead, o.dead...)
	w.notify = append(w.notify, o.notify...)
}

// expireLocked ends the deliveries whose visible time has come: an
// auto-renewed one of a live owner is renewed, one that was the message's
// last attempt is handed to the dead-letter queue, any other becomes ready
// for redelivery. Call with e.mu held.
func (e *Engine) expireLocked(now time.Time) work {
	var w work
	for len(e.timers) > 0 && !e.timers[0].visibleAt.After(now) {
		en := heap.Pop(&e.timers).(*entry)
		if en.state != stateInflight {
			continue
		}
		if en.autoRenew && now.Sub(en.deliveredAt) < e.cfg.renewMax {
			en.visibleAt = now.Add(max(en.invisible, time.Second))
			e.schedule(en)
			continue
		}
		e.disown(en)
		en.autoRenew = false
		if en.maxAttempts > 0 && en.attempt >= en.maxAttempts && !en.suspended {
			w.dead = append(w.dead, e.moving(en))
			continue
		}
		en.state = stateReady
		w.notify = append(w.notify, en.q.key.topic)
	}
	return w
}

// moving marks an entry as being dead-lettered and returns the job. Call
// with e.mu held.
func (e *Engine) moving(en *entry) deadJob {
	e.unschedule(en)
	e.disown(en)
	en.state = stateMoving
	return deadJob{en: en, group: en.q.key.group, topic: en.q.key.topic, commitLogOffset: en.commitLogOffset, attempt: en.attempt}
}

// finish does the work found under the lock: dead letters, then wake-ups.
func (e *Engine) finish(w work) {
	for _, j := range w.dead {
		e.deadLetterRecovered(j)
	}
	seen := make(map[string]bool, len(w.notify))
	for _, t := range w.notify {
		if !seen[t] {
			seen[t] = true
			e.Notify(t)
		}
	}
}

// deadLetterRecovered is deadLetter for the background goroutine: a panic
// of the store or the Host (a user's Store, a bug) counts as a failed
// write, so the entry is tried again after deadLetterRetry, and goes to
// WithPanicHandler.
func (e *Engine) deadLetterRecovered(j deadJob) {
	defer func() {
		if p := recover(); p != nil {
			e.cfg.panicked(p, debug.Stack())
			e.settle(j, fmt.Errorf("pop: dead letter of %s at commit-log offset %d panicked: %v", j.topic, j.commitLogOffset, p))
		}
	}()
	_ = e.deadLetter(j)
}

// deadLetter writes a moving entry's message to its group's dead-letter
// queue and drops the entry. When the write fails the entry goes back in
// flight for deadLetterRetry and is tried again when that ends.
func (e *Engine) deadLetter(j deadJob) error {
	if e.isClosed() {
		return ErrClosed
	}
	rec, err := e.st.Lookup(nil, j.commitLogOffset)
	var m *message.Message
	if err == nil {
		m, _, err = message.DecodeRecord(rec)
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, message.ErrMalformedRecord) {
		e.cfg.logf("pop: group %s: message of %s at commit-log offset %d cannot be read for the dead-letter queue (%v); dropping it", j.group, j.topic, j.commitLogOffset, err)
		e.settle(j, nil)
		return nil
	}
	if err == nil {
		m.ReconsumeTimes = int32(j.attempt)
		err = e.host.DeadLetter(j.group, m)
	}
	if err != nil {
		err = fmt.Errorf("pop: move message of %s at commit-log offset %d to the dead-letter queue of %s: %w", j.topic, j.commitLogOffset, j.group, err)
		e.cfg.logf("%v; trying again in %v", err, deadLetterRetry)
	}
	e.settle(j, err)
	return err
}

// settle ends a dead-letter job: the entry is dropped, or (err != nil) put
// back in flight until its retry.
func (e *Engine) settle(j deadJob, err error) {
	settled := func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		if j.en.state != stateMoving {
			return false
		}
		if err == nil {
			e.drop(j.en)
			return true
		}
		j.en.state = stateInflight
		j.en.maxAttempts = j.en.attempt // the retry dead-letters it again
		j.en.suspended = false
		j.en.visibleAt = e.cfg.clock.Now().Add(deadLetterRetry)
		e.schedule(j.en)
		return false
	}()
	if settled {
		e.Notify(j.topic) // a FIFO group may deliver its next message
	}
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}
