package minirocketmq

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Transactions (TransactionalMessageService). A send with TRAN_MSG=true
// stores a half message: the message with REAL_TOPIC and REAL_QID added and
// its transaction bits cleared, in RMQ_SYS_TRANS_HALF_TOPIC queue 0, which
// no client can route or pull. END_TRANSACTION (37) then commits it (the
// message is stored in its real queue, DELAY honoured) or rolls it back;
// either way an op record (tag "d", body = the half message's queue offset)
// goes to RMQ_SYS_TRANS_OP_HALF_TOPIC to say it is resolved.
//
// A half message still unresolved transactionTimeout after it was stored
// (or after its CHECK_IMMUNITY_TIME_IN_SECONDS, when longer) is checked
// back: CHECK_TRANSACTION_STATE (39) goes to one live connection of its
// producer group (PGROUP), which answers with END_TRANSACTION: the one
// that sent the half message while it is connected (it counts as a member
// of the group from its send on, even before its first heartbeat), else
// one picked at random as the real broker does. (A group's plain producers
// heartbeat with the same group name, and the Go client queues a check it
// receives on a plain producer where nobody reads it.) Checks repeat
// every check interval; after transactionCheckMax checks, one interval
// later, the message is discarded: logged at warn level and kept in
// TRANS_CHECK_MAX_TIME_TOPIC (as 4.9.4). Better than the real broker: a
// check is not counted while no producer of the group is connected (the
// real broker counts it, and discards the message of a producer that
// stayed away for 15 intervals); and a transaction is resolved once (the
// real broker commits a message twice if asked twice).
//
// Persistence: half and op records are in the Store, so recover (run by
// Start) rebuilds the pending table from a durable store: every half record
// without an op record is pending again, to be checked from its first
// check time on. Check counts are not persisted; they restart at zero.
//
// Owner: the mutex guards pending and nextWake, never held during I/O. The
// checker goroutine (run) sleeps on the broker's Clock until the earliest
// check is due.
type transactions struct {
	b     *Broker
	timer *clockTimer

	mu       sync.Mutex
	pending  map[int64]*halfMessage // by commit-log offset of the half record
	nextWake time.Time              // what run's timer is armed for; zero: nothing
}

// halfMessage is a pending transaction.
type halfMessage struct {
	commitLogOffset int64 // of the half record
	queueOffset     int64 // in RMQ_SYS_TRANS_HALF_TOPIC queue 0 (tranStateTableOffset)
	group           string
	due             time.Time // next check
	checks          int       // checks sent
	sender          *conn     // the connection that sent it; nil after recovery
}

func newTransactions(b *Broker) *transactions {
	return &transactions{b: b, timer: newClockTimer(b.clock), pending: make(map[int64]*halfMessage)}
}

// firstCheck is when a half message stored at stored is checked first.
func (t *transactions) firstCheck(props string, stored int64) time.Time {
	wait := t.b.cfg.sem.transactionTimeout()
	if v, ok := message.Property(props, propertyCheckImmunityTime); ok {
		if s, err := strconv.Atoi(v); err == nil && time.Duration(s)*time.Second > wait {
			wait = time.Duration(s) * time.Second
		}
	}
	return time.UnixMilli(stored).Add(wait)
}

// propertyCheckImmunityTime lets a producer delay the first check of its
// half message (seconds).
const propertyCheckImmunityTime = "CHECK_IMMUNITY_TIME_IN_SECONDS"

// prepare stores m, a message sent with TRAN_MSG=true, as a half message
// and registers it for check-back (parseHalfMessageInner). m is rewritten:
// afterwards it says where the half record is.
func (t *transactions) prepare(c *conn, m *message.Message) error {
	m.Properties = message.EditProperties(m.Properties, nil,
		message.PropertyRealTopic, m.Topic,
		message.PropertyRealQueueID, strconv.Itoa(int(m.QueueID)))
	m.SysFlag &^= message.TransactionRollbackType
	m.Topic, m.QueueID = TransHalfTopic, 0
	if err := t.b.putMessages([]*message.Message{m}); err != nil {
		return err
	}
	group, _ := message.Property(m.Properties, message.PropertyProducerGroup)
	if c != nil && group != "" {
		t.b.clients.addProducer(c, group, t.b.nowReal())
	}
	t.add(&halfMessage{
		commitLogOffset: m.CommitLogOffset,
		queueOffset:     m.QueueOffset,
		group:           group,
		due:             t.firstCheck(m.Properties, m.StoreTimestamp),
		sender:          c,
	})
	return nil
}

func (t *transactions) add(h *halfMessage) {
	t.mu.Lock()
	t.pending[h.commitLogOffset] = h
	wake := t.nextWake.IsZero() || h.due.Before(t.nextWake)
	t.mu.Unlock()
	if wake {
		t.timer.signal()
	}
}

// take removes the pending transaction of a half record after checking the
// producer group and queue offset END_TRANSACTION quotes, in one critical
// section so that a transaction is resolved once. It returns the remark of
// the error response when there is nothing to resolve.
func (t *transactions) take(commitLogOffset, queueOffset int64, group string) (*halfMessage, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.pending[commitLogOffset]
	switch {
	case h == nil:
		return nil, msgFindPreparedFailed
	case h.group != group:
		return nil, msgProducerGroupWrong
	case h.queueOffset != queueOffset:
		return nil, msgTranStateOffsetWrong
	}
	delete(t.pending, commitLogOffset)
	return h, ""
}

// remove forgets a pending transaction and reports whether it was there.
func (t *transactions) remove(commitLogOffset int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending[commitLogOffset] == nil {
		return false
	}
	delete(t.pending, commitLogOffset)
	return true
}

// countCheck records a check about to be sent, unless the transaction was
// resolved meanwhile.
func (t *transactions) countCheck(commitLogOffset int64) (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.pending[commitLogOffset]
	if h == nil {
		return 0, false
	}
	h.checks++
	return h.checks, true
}

// takeDue returns copies of the transactions due for a check at now,
// moving their next check one interval on, and the earliest due time left
// (which it records as what the timer will be armed for).
func (t *transactions) takeDue(now time.Time) ([]halfMessage, time.Time) {
	interval := t.b.cfg.sem.txCheckInterval
	t.mu.Lock()
	defer t.mu.Unlock()
	var due []halfMessage
	var next time.Time
	for _, h := range t.pending {
		if !h.due.After(now) {
			due = append(due, *h)
			h.due = now.Add(interval)
		}
		if next.IsZero() || h.due.Before(next) {
			next = h.due
		}
	}
	t.nextWake = next
	return due, next
}

// count returns the number of pending transactions.
func (t *transactions) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// run is the checker goroutine.
func (t *transactions) run() {
	defer t.b.wg.Done()
	defer t.timer.stop()
	for {
		due, next := t.takeDue(t.b.clock.Now())
		for i := range due {
			t.check(&due[i])
		}
		t.timer.arm(next)
		select {
		case <-t.timer.wake:
		case <-t.b.done:
			return
		}
	}
}

// check sends one check-back for h, or discards h when it has had its
// checks.
func (t *transactions) check(h *halfMessage) {
	if h.checks >= t.b.cfg.sem.txCheckMax {
		if t.remove(h.commitLogOffset) {
			t.discard(h)
		}
		return
	}
	conns := t.b.clients.producerConns(h.group)
	if len(conns) == 0 && t.b.checkTransactionV5(h) { // a gRPC producer of the topic (grpc_transaction.go)
		return
	}
	if len(conns) == 0 {
		t.b.log.Logf(LogLevelDebug, "transaction at %d: no producer of group %s connected, checking again later", h.commitLogOffset, h.group)
		return
	}
	n, ok := t.countCheck(h.commitLogOffset)
	if !ok {
		return // resolved meanwhile
	}
	if err := t.b.sendCheckTransactionState(conns, h, n); err != nil {
		t.b.log.Logf(LogLevelWarn, "transaction at %d: check %d with group %s: %v", h.commitLogOffset, n, h.group, err)
	}
}

// halfRecord reads and decodes the half record of h.
func (t *transactions) halfRecord(h *halfMessage) (*message.Message, error) {
	rec, err := t.b.store.Lookup(nil, h.commitLogOffset)
	if err != nil {
		return nil, fmt.Errorf("read half message at %d: %w", h.commitLogOffset, err)
	}
	m, _, err := message.DecodeRecord(rec)
	if err != nil {
		return nil, fmt.Errorf("decode half message at %d: %w", h.commitLogOffset, err)
	}
	return m, nil
}

// sentRecord is h's half record as its producer sent it, for a check-back
// over gRPC or HTTP: topic and queue id set back to REAL_TOPIC / REAL_QID,
// which are removed.
func (t *transactions) sentRecord(h *halfMessage) (*message.Message, error) {
	m, err := t.halfRecord(h)
	if err != nil {
		return nil, err
	}
	topic, _ := message.Property(m.Properties, message.PropertyRealTopic)
	qid, _ := message.Property(m.Properties, message.PropertyRealQueueID)
	q, _ := strconv.Atoi(qid)
	m.Topic, m.QueueID = topic, int32(q)
	m.Properties = message.EditProperties(m.Properties, []string{message.PropertyRealTopic, message.PropertyRealQueueID})
	return m, nil
}

// resolved writes the op record saying h is done (deletePrepareMessage).
func (t *transactions) resolved(h *halfMessage) error {
	props := string(message.AppendProperty(nil, message.PropertyTags, "d"))
	op := &message.Message{
		Topic:         TransOpHalfTopic,
		BornTimestamp: t.b.clock.Now().UnixMilli(),
		BornHost:      t.b.storeHost,
		StoreHost:     t.b.storeHost,
		Body:          []byte(strconv.FormatInt(h.queueOffset, 10)),
		Properties:    props,
		TagsCode:      tagsCode(props),
	}
	if err := t.b.putMessages([]*message.Message{op}); err != nil {
		return fmt.Errorf("mark transaction at %d resolved: %w", h.commitLogOffset, err)
	}
	return nil
}

// discard gives up on h after its last check: the half message is kept in
// TRANS_CHECK_MAX_TIME_TOPIC and marked resolved.
func (t *transactions) discard(h *halfMessage) {
	m, err := t.halfRecord(h)
	if err == nil {
		tc := t.b.createSystemGroupTopic(TransCheckMaxTopic, 1)
		m.Topic, m.QueueID = tc.TopicName, 0
		m.Properties = message.EditProperties(m.Properties, nil, message.PropertyTransactionCheckTimes, strconv.Itoa(h.checks))
		err = t.b.putMessages([]*message.Message{m})
	}
	if err == nil {
		err = t.resolved(h)
	}
	if err != nil {
		t.b.log.Logf(LogLevelError, "discard transaction at %d: %v", h.commitLogOffset, err)
	}
	t.b.log.Logf(LogLevelWarn, "transaction %s of producer group %s (half message at %d) unresolved after %d checks: discarded, kept in %s",
		uniqueKeyOf(m), h.group, h.commitLogOffset, h.checks, TransCheckMaxTopic)
}

func uniqueKeyOf(m *message.Message) string {
	if m == nil {
		return "?"
	}
	return uniqueKey(m)
}

// recover rebuilds the pending table from the store: every half record
// without an op record is pending.
func (t *transactions) recover() error {
	done := make(map[int64]bool)
	err := t.b.forEachMessage(TransOpHalfTopic, 0, func(m *message.Message) {
		if off, err := strconv.ParseInt(string(m.Body), 10, 64); err == nil {
			done[off] = true
		}
	})
	if err != nil {
		return fmt.Errorf("minirocketmq: recover transactions: %w", err)
	}
	n := 0
	err = t.b.forEachMessage(TransHalfTopic, 0, func(m *message.Message) {
		if done[m.QueueOffset] {
			return
		}
		group, _ := message.Property(m.Properties, message.PropertyProducerGroup)
		t.add(&halfMessage{
			commitLogOffset: m.CommitLogOffset,
			queueOffset:     m.QueueOffset,
			group:           group,
			due:             t.firstCheck(m.Properties, m.StoreTimestamp),
		})
		n++
	})
	if err != nil {
		return fmt.Errorf("minirocketmq: recover transactions: %w", err)
	}
	if n > 0 {
		t.b.log.Logf(LogLevelInfo, "recovered %d unresolved transaction(s) from the store", n)
	}
	return nil
}

// forEachMessage calls fn for every stored message of a queue, oldest
// first. The message's Body aliases a buffer reused after fn returns.
func (b *Broker) forEachMessage(topic string, queueID int32, fn func(*message.Message)) error {
	off := b.store.MinOffset(topic, queueID)
	var buf []byte
	for {
		res, err := b.store.Get(&store.GetRequest{Topic: topic, QueueID: queueID, Offset: off, MaxMsgs: 1024, MaxBytes: 4 << 20, Dst: buf[:0]})
		if err != nil {
			return err
		}
		if res.Status != store.Found {
			return nil
		}
		buf = res.Records
		for rec := res.Records; len(rec) > 0; {
			m, n, err := message.DecodeRecord(rec)
			if err != nil {
				return fmt.Errorf("%s/%d near offset %d: %w", topic, queueID, off, err)
			}
			fn(m)
			rec = rec[n:]
		}
		off = res.NextOffset
	}
}
