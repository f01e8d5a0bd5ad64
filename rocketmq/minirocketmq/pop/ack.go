package pop

import (
	"errors"
	"fmt"
	"time"
)

// ErrHandleExpired is returned for a receipt handle whose delivery is over:
// its invisible duration has passed, it was acknowledged, dead-lettered, or
// replaced by ChangeInvisibleDuration's new handle. The real proxy's text
// for it is "receipt handle is expired".
var ErrHandleExpired = errors.New("receipt handle is expired")

// lookup finds the in-flight entry of a handle. Call with e.mu held, after
// expireLocked.
func (e *Engine) lookup(group, topic string, h Handle) (*entry, error) {
	if h.BrokerName != e.cfg.brokerName {
		return nil, fmt.Errorf("%w: broker %s is not this one (%s)", ErrInvalidHandle, h.BrokerName, e.cfg.brokerName)
	}
	q := e.queues[queueKey{group, topic, h.QueueID}]
	if q == nil {
		return nil, ErrHandleExpired
	}
	en := q.byOffset[h.Offset]
	if en == nil || en.state != stateInflight || en.seq != h.Seq {
		return nil, ErrHandleExpired
	}
	return en, nil
}

// withHandle runs fn on the in-flight entry of handle with the lock held
// (released by a defer, whatever fn does), after expiring what is due, then
// does the work found. fn is not called when the handle is not one of ours
// or its delivery is over.
func (e *Engine) withHandle(group, topic, handle string, fn func(en *entry, now time.Time, w *work) error) error {
	h, err := ParseHandle(handle)
	if err != nil {
		return err
	}
	w, err := func() (w work, err error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			return work{}, ErrClosed
		}
		now := e.cfg.clock.Now()
		w = e.expireLocked(now)
		en, err := e.lookup(group, topic, h)
		if err != nil {
			return w, err
		}
		return w, fn(en, now, &w)
	}()
	e.finish(w)
	return err
}

// Ack ends the delivery of handle: its message is consumed for the group.
// ErrInvalidHandle (wrapped) for a handle this engine did not make,
// ErrHandleExpired for one whose delivery is over.
func (e *Engine) Ack(group, topic, handle string) error {
	return e.withHandle(group, topic, handle, func(en *entry, _ time.Time, w *work) error {
		if en.fifo {
			w.notify = append(w.notify, topic) // its group may go on
		}
		e.drop(en)
		return nil
	})
}

// ChangeInvisibleDuration makes the delivery of handle invisible for d from
// now (0: visible at once, which is how a consumer gives a message back)
// and returns the handle that replaces it. With suspend, the next delivery
// keeps the attempt number (the proto's "suspend": no retry counted).
// Errors as Ack.
func (e *Engine) ChangeInvisibleDuration(group, topic, handle string, d time.Duration, suspend bool) (string, error) {
	if d < 0 {
		return "", fmt.Errorf("pop: invisible duration %v is negative", d)
	}
	var fresh string
	err := e.withHandle(group, topic, handle, func(en *entry, now time.Time, w *work) error {
		e.disown(en)
		en.autoRenew = false
		en.seq = e.nextSeq()
		en.popTime = now
		en.invisible = d
		en.visibleAt = now.Add(d)
		en.suspended = suspend
		e.schedule(en)
		fresh = e.handle(en).String()
		w.add(e.expireLocked(now)) // d == 0: ready now
		return nil
	})
	return fresh, err
}

// DeadLetter moves the message of handle to the group's dead-letter queue
// now (ForwardMessageToDeadLetterQueue: the consumer gave up on it). Errors
// as Ack, or the dead-letter write's (the delivery then stays in flight and
// the write is tried again when it expires).
func (e *Engine) DeadLetter(group, topic, handle string) error {
	var job deadJob
	if err := e.withHandle(group, topic, handle, func(en *entry, _ time.Time, _ *work) error {
		job = e.moving(en)
		return nil
	}); err != nil {
		return err
	}
	return e.deadLetter(job)
}

// Release ends the auto-renewal of every delivery owned by owner (a client
// that went away): they become visible at once and are delivered again.
func (e *Engine) Release(owner string) {
	e.finish(func() work {
		e.mu.Lock()
		defer e.mu.Unlock()
		now := e.cfg.clock.Now()
		for en := range e.owners[owner] {
			en.autoRenew = false
			en.visibleAt = now
			e.schedule(en)
		}
		delete(e.owners, owner)
		return e.expireLocked(now)
	}())
}

// Stats counts the pending entries of a group in a topic.
type Stats struct {
	InFlight, Ready, Waiting int
}

// Pending returns what the engine holds for a group in a topic, after
// expiring what is due.
func (e *Engine) Pending(group, topic string) Stats {
	e.finish(func() work {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.expireLocked(e.cfg.clock.Now())
	}())
	e.mu.Lock()
	defer e.mu.Unlock()
	var s Stats
	for k, q := range e.queues {
		if k.group != group || k.topic != topic {
			continue
		}
		for _, en := range q.pending {
			switch en.state {
			case stateInflight, stateMoving:
				s.InFlight++
			case stateReady:
				s.Ready++
			case stateWaiting:
				s.Waiting++
			}
		}
	}
	return s
}
