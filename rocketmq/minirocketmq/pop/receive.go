package pop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// ReceiveRequest asks for messages of a topic on behalf of a consumer group.
type ReceiveRequest struct {
	Group, Topic string
	// QueueIDs are the queues to read (the topic's readable queues). Each
	// receive starts at another one, so queues take turns.
	QueueIDs []int32
	// MaxMessages is the most messages returned (1..MaxReceiveBatch; more
	// is read as MaxReceiveBatch).
	MaxMessages int
	// InvisibleDuration is how long a delivered message stays invisible to
	// the group (> 0). Without an Ack within it, it is delivered again.
	InvisibleDuration time.Duration
	// Filter selects the messages (nil: all). Messages it rejects are
	// consumed for this group without being delivered.
	Filter store.Filter
	// Wait is how long to wait (real time) for a message when none is
	// available; 0 returns at once.
	Wait time.Duration
	// FIFO delivers each message group in order: one batch of a group in
	// flight at a time, which may hold several of its messages (see the
	// package doc).
	FIFO bool
	// MaxAttempts is how many deliveries a message gets: when the last one
	// expires, the message goes to the dead-letter queue. 0: no limit.
	MaxAttempts int
	// Owner identifies the receiving client (its client id), for AutoRenew.
	Owner string
	// AutoRenew keeps the delivered messages invisible for as long as their
	// owner is alive (until Release(Owner)), renewing InvisibleDuration
	// each time it runs out, up to WithRenewMax.
	AutoRenew bool
}

func (r *ReceiveRequest) validate() error {
	switch {
	case r.Group == "" || r.Topic == "":
		return errors.New("pop: receive needs a group and a topic")
	case len(r.QueueIDs) == 0:
		return errors.New("pop: receive needs at least one queue")
	case r.MaxMessages <= 0:
		return fmt.Errorf("pop: receive of %d messages", r.MaxMessages)
	case r.InvisibleDuration <= 0:
		return fmt.Errorf("pop: invisible duration %v must be positive", r.InvisibleDuration)
	}
	return nil
}

// Message is a delivered message.
type Message struct {
	// Message is the stored message as read back (its topic, queue id and
	// offsets are where it is stored); ReconsumeTimes is Attempt - 1.
	*message.Message
	// ReceiptHandle identifies this delivery for Ack, ChangeInvisibleDuration
	// and DeadLetter (see Handle).
	ReceiptHandle string
	// Attempt is 1 on the first delivery and counts up with each one.
	Attempt int
	// PopTime is when it was delivered, on the engine's clock; it is
	// invisible until PopTime + InvisibleDuration.
	PopTime           time.Time
	InvisibleDuration time.Duration
	// FirstPopTime is when the first delivery was (the engine's clock;
	// since the engine's start: attempts restart after a restart).
	FirstPopTime time.Time
}

// PropertyShardingKey is the property holding a message's FIFO message
// group (MessageConst.PROPERTY_SHARDING_KEY).
const PropertyShardingKey = "__SHARDINGKEY"

// maxReadBytes bounds one store read (a message may be larger, and is then
// read alone).
const maxReadBytes = 4 << 20

// Receive returns up to req.MaxMessages visible messages, marking each
// invisible for req.InvisibleDuration. With nothing to deliver it waits up
// to req.Wait for a message to be stored or to become visible again, then
// returns what it has: possibly nothing, with a nil error. It returns
// ctx.Err() when ctx ends first (messages it had taken are returned
// instead), ErrClosed when the engine closes.
func (e *Engine) Receive(ctx context.Context, req *ReceiveRequest) ([]*Message, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	var (
		timeout <-chan time.Time
		w       *waiter
	)
	if req.Wait > 0 {
		t := time.NewTimer(req.Wait)
		defer t.Stop()
		timeout = t.C
		w = e.addWaiter(req.Topic)
		defer e.removeWaiter(req.Topic, w)
	}
	for {
		msgs, wk, err := e.tryReceive(req)
		e.finish(wk)
		if err == nil && len(msgs) == 0 && len(wk.dead) > 0 {
			continue // a dead letter may have let a FIFO group go on
		}
		if err != nil || len(msgs) > 0 || w == nil {
			return msgs, err
		}
		select {
		case <-w.ch:
		case <-timeout:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-e.done:
			return nil, ErrClosed
		}
	}
}

// tryReceive takes what is deliverable now.
func (e *Engine) tryReceive(req *ReceiveRequest) ([]*Message, work, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, work{}, ErrClosed
	}
	now := e.cfg.clock.Now()
	wk := e.expireLocked(now)
	budget := min(req.MaxMessages, MaxReceiveBatch)
	n := len(req.QueueIDs)
	start := int(e.rot % uint32(n))
	e.rot++
	var out []*Message
	for i := 0; i < n && budget > 0; i++ {
		q := e.queue(req.Group, req.Topic, req.QueueIDs[(start+i)%n])
		q.lastUsed = time.Now()
		out = e.receiveQueue(q, req, now, out, &budget)
		e.commit(q)
	}
	return out, wk, nil
}

// receiveQueue delivers from one queue: pending entries that are visible
// first, then new messages from the cursor. Call with e.mu held.
//
// FIFO: a message group with a message in flight (or being dead-lettered)
// is blocked; any other group hands out its ready and waiting messages in
// queue order, then its new ones, as many as the budget allows, all in
// flight together (the real broker's orderly pop returns a run of a queue's
// messages and blocks the queue until all are acknowledged).
func (e *Engine) receiveQueue(q *queueState, req *ReceiveRequest, now time.Time, out []*Message, budget *int) []*Message {
	// blocked holds the FIFO message groups that may not deliver now: one of
	// their messages was in flight before this receive, or one could not be
	// read (its younger ones wait for it). A group this receive delivers
	// from is not blocked: its next messages may follow in the same batch.
	var blocked map[string]bool
	if req.FIFO {
		blocked = make(map[string]bool)
		for _, en := range q.pending {
			if en.state == stateInflight || en.state == stateMoving {
				blocked[en.msgGroup] = true
			}
		}
	}
	for i := 0; i < len(q.pending) && *budget > 0; i++ {
		en := q.pending[i]
		if en.state == stateInflight || en.state == stateMoving || blocked[en.msgGroup] {
			continue
		}
		m, keep := e.read(q, en, req.Filter)
		if m == nil {
			if !keep {
				e.drop(en)
				i--
			} else if blocked != nil {
				blocked[en.msgGroup] = true
			}
			continue
		}
		out = append(out, e.deliver(en, m, req, now))
		*budget--
	}
	for *budget > 0 && len(q.pending) < e.cfg.maxPending {
		want := *budget
		if req.FIFO {
			want = MaxReceiveBatch // some may be held back for their group
		}
		res, err := e.st.Get(&store.GetRequest{
			Topic: q.key.topic, QueueID: q.key.queueID, Offset: q.cursor,
			MaxMsgs: want, MaxBytes: maxReadBytes, Filter: req.Filter,
		})
		if err != nil {
			e.cfg.logf("pop: read %s/%d at %d for group %s: %v", q.key.topic, q.key.queueID, q.cursor, q.key.group, err)
			return out
		}
		switch res.Status {
		case store.Found:
		case store.NoMatchedMessage, store.OffsetTooSmall, store.OffsetOverflowBadly:
			if res.NextOffset == q.cursor {
				return out
			}
			q.cursor = res.NextOffset
			continue
		default:
			return out
		}
		stopped := false
		for rec := res.Records; len(rec) > 0; {
			m, n, err := message.DecodeRecord(rec)
			if err != nil {
				e.cfg.logf("pop: %s/%d: skipping undecodable records from %d: %v", q.key.topic, q.key.queueID, q.cursor, err)
				break
			}
			rec = rec[n:]
			if m.QueueOffset < q.cursor {
				continue
			}
			g, _ := message.Property(m.Properties, PropertyShardingKey)
			if len(q.pending) >= e.cfg.maxPending || (!blocked[g] && *budget == 0) {
				stopped = true
				break
			}
			en := &entry{offset: m.QueueOffset, commitLogOffset: m.CommitLogOffset, msgGroup: g, state: stateWaiting}
			q.add(en)
			if blocked[g] {
				continue // waits behind its group
			}
			m.Body = append([]byte(nil), m.Body...)
			out = append(out, e.deliver(en, m, req, now))
			*budget--
		}
		if stopped {
			return out
		}
		q.cursor = max(q.cursor, res.NextOffset)
	}
	return out
}

// read looks up a pending entry's message for redelivery. A nil message
// with keep false means the entry is done: its message is gone from the
// store, or no longer matches the consumer's filter.
func (e *Engine) read(q *queueState, en *entry, f store.Filter) (m *message.Message, keep bool) {
	rec, err := e.st.Lookup(nil, en.commitLogOffset)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			e.cfg.logf("pop: %s/%d offset %d (group %s) is no longer stored; dropping it", q.key.topic, q.key.queueID, en.offset, q.key.group)
			return nil, false
		}
		e.cfg.logf("pop: read %s/%d offset %d: %v", q.key.topic, q.key.queueID, en.offset, err)
		return nil, true
	}
	if f != nil && !f.MatchRecord(rec) {
		return nil, false
	}
	m, _, err = message.DecodeRecord(rec)
	if err != nil || m.Topic != q.key.topic || m.QueueID != q.key.queueID || m.QueueOffset != en.offset {
		e.cfg.logf("pop: %s/%d offset %d (group %s): the store holds another record there; dropping it", q.key.topic, q.key.queueID, en.offset, q.key.group)
		return nil, false
	}
	return m, true
}

// deliver marks en in flight for a new delivery of m. Call with e.mu held.
func (e *Engine) deliver(en *entry, m *message.Message, req *ReceiveRequest, now time.Time) *Message {
	if en.suspended {
		en.suspended = false
	} else {
		en.attempt++
	}
	e.disown(en)
	en.state = stateInflight
	en.seq = e.nextSeq()
	en.popTime = now
	en.invisible = req.InvisibleDuration
	en.visibleAt = now.Add(req.InvisibleDuration)
	en.deliveredAt = now
	if en.firstPop.IsZero() {
		en.firstPop = now
	}
	en.fifo = req.FIFO
	en.maxAttempts = req.MaxAttempts
	en.owner, en.autoRenew = req.Owner, req.AutoRenew
	e.own(en)
	e.schedule(en)
	m.ReconsumeTimes = int32(en.attempt - 1)
	return &Message{
		Message:           m,
		ReceiptHandle:     e.handle(en).String(),
		Attempt:           en.attempt,
		PopTime:           now,
		InvisibleDuration: req.InvisibleDuration,
		FirstPopTime:      en.firstPop,
	}
}

func (e *Engine) handle(en *entry) Handle {
	return Handle{
		PopTime:         en.popTime,
		Invisible:       en.invisible,
		FIFO:            en.fifo,
		BrokerName:      e.cfg.brokerName,
		QueueID:         en.q.key.queueID,
		Offset:          en.offset,
		CommitLogOffset: en.commitLogOffset,
		Seq:             en.seq,
	}
}
