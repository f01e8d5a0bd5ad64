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

// begin parses a handle and takes the lock, after expiring what is due; the
// caller must call end.
func (e *Engine) begin(handle string) (Handle, time.Time, work, error) {
	h, err := ParseHandle(handle)
	if err != nil {
		return h, time.Time{}, work{}, err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return h, time.Time{}, work{}, ErrClosed
	}
	now := e.cfg.clock.Now()
	return h, now, e.expireLocked(now), nil
}

func (e *Engine) end(w work) {
	e.mu.Unlock()
	e.finish(w)
}

// Ack ends the delivery of handle: its message is consumed for the group.
// ErrInvalidHandle (wrapped) for a handle this engine did not make,
// ErrHandleExpired for one whose delivery is over.
func (e *Engine) Ack(group, topic, handle string) error {
	h, _, w, err := e.begin(handle)
	if err != nil {
		return err
	}
	en, err := e.lookup(group, topic, h)
	if err == nil {
		if en.fifo {
			w.notify = append(w.notify, topic) // its group may go on
		}
		e.drop(en)
	}
	e.end(w)
	return err
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
	h, now, w, err := e.begin(handle)
	if err != nil {
		return "", err
	}
	en, err := e.lookup(group, topic, h)
	var fresh string
	if err == nil {
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
	}
	e.end(w)
	return fresh, err
}

// DeadLetter moves the message of handle to the group's dead-letter queue
// now (ForwardMessageToDeadLetterQueue: the consumer gave up on it). Errors
// as Ack, or the dead-letter write's (the delivery then stays in flight and
// the write is tried again when it expires).
func (e *Engine) DeadLetter(group, topic, handle string) error {
	h, _, w, err := e.begin(handle)
	if err != nil {
		return err
	}
	en, err := e.lookup(group, topic, h)
	var job deadJob
	if err == nil {
		job = e.moving(en)
	}
	e.end(w)
	if err != nil {
		return err
	}
	return e.deadLetter(job)
}

// Release ends the auto-renewal of every delivery owned by owner (a client
// that went away): they become visible at once and are delivered again.
func (e *Engine) Release(owner string) {
	e.mu.Lock()
	now := e.cfg.clock.Now()
	for en := range e.owners[owner] {
		en.autoRenew = false
		en.visibleAt = now
		e.schedule(en)
	}
	delete(e.owners, owner)
	w := e.expireLocked(now)
	e.mu.Unlock()
	e.finish(w)
}

// Stats counts the pending entries of a group in a topic.
type Stats struct {
	InFlight, Ready, Waiting int
}

// Pending returns what the engine holds for a group in a topic, after
// expiring what is due.
func (e *Engine) Pending(group, topic string) Stats {
	e.mu.Lock()
	w := e.expireLocked(e.cfg.clock.Now())
	e.mu.Unlock()
	e.finish(w)
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
