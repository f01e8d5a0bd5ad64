package minirocketmq

import (
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// Transactions over HTTP (Aliyun's MQTransProducer). A publish with
// __TransCheckT stores a half message (transactions.go; producer group =
// the topic, as for gRPC producers) and answers a ReceiptHandle naming it
// (the gRPC endpoint's transaction id). The producer then commits or rolls
// it back with DELETE trans=commit|rollback and that handle. When it does
// not (it crashed, or its local transaction was undecided), it finds out
// by consuming its half messages: GET trans=pop returns the pending half
// messages of the topic whose first check time has come (the store time
// plus max(transactionTimeout, __TransCheckT)), each with a ReceiptHandle
// to commit or roll back with, ConsumedTimes = the checks so far and
// NextConsumeTime = now + the check interval (WithTransactionCheckInterval):
// an undecided one comes again then. Each such delivery counts as a check,
// so after WithTransactionCheckMax checks the broker discards the message
// as it does for remoting producers. Remoting or gRPC producers of the
// group get their check-backs pushed as before; whoever answers first
// resolves the transaction (once).
//
// Owner: halfChecks' mutex guards its map, which holds the first and next
// check times of the half messages HTTP producers have seen, one entry per
// pending transaction at most (entries of resolved ones are dropped when
// their topic is consumed next, and by commit and rollback).

// halfChecks remembers when a half message may be consumed again.
type halfChecks struct {
	mu sync.Mutex
	m  map[int64]*halfCheck // by commit-log offset of the half record
}

type halfCheck struct {
	topic       string
	first, next time.Time
}

func newHalfChecks() *halfChecks { return &halfChecks{m: make(map[int64]*halfCheck)} }

// forget drops the entry of a resolved transaction.
func (hc *halfChecks) forget(commitLogOffset int64) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	delete(hc.m, commitLogOffset)
}

// pendingOf returns copies of the pending transactions of a producer
// group, oldest first.
func (t *transactions) pendingOf(group string) []halfMessage {
	t.mu.Lock()
	var out []halfMessage
	for _, h := range t.pending {
		if h.group == group {
			out = append(out, *h)
		}
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].queueOffset < out[j].queueOffset })
	return out
}

// httpHalfRescan bounds how long a waiting half-message consume sleeps
// before it looks at the pending transactions again.
const httpHalfRescan = time.Second

// consumeHalf serves GET trans=pop: up to num half messages due for a
// check, waiting up to wait for one.
func (s *httpServer) consumeHalf(c *httpCall, num int, wait time.Duration) {
	deadline := time.Now().Add(wait)
	for {
		msgs := s.dueHalf(c.topic, num)
		if len(msgs) > 0 {
			c.reply(http.StatusOK, &httpMessages{XMLNS: httpNamespace, Messages: msgs})
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			c.fail(errHTTPMessageNotExist, msgHTTPMessageNotExist)
			return
		}
		t := time.NewTimer(min(left, httpHalfRescan))
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			t.Stop()
			if s.base.Err() != nil {
				c.fail(errHTTPServiceShuttingDown, "The broker is shutting down.")
			}
			return
		}
	}
}

// dueHalf takes up to num half messages of topic whose check is due,
// counting a check for each.
func (s *httpServer) dueHalf(topic string, num int) []httpMessageX {
	pending := s.b.sem.tx.pendingOf(topic)
	live := make(map[int64]bool, len(pending))
	for _, h := range pending {
		live[h.commitLogOffset] = true
	}
	hc := s.half
	hc.mu.Lock()
	for off, e := range hc.m {
		if e.topic == topic && !live[off] {
			delete(hc.m, off)
		}
	}
	hc.mu.Unlock()

	now := s.b.clock.Now()
	interval := s.b.cfg.sem.txCheckInterval
	var out []httpMessageX
	for i := range pending {
		if len(out) >= num {
			break
		}
		h := &pending[i]
		hc.mu.Lock()
		e := hc.m[h.commitLogOffset]
		hc.mu.Unlock()
		var rec *message.Message
		if e == nil {
			m, err := s.b.sem.tx.sentRecord(h)
			if err != nil {
				s.b.log.Logf(LogLevelError, "HTTP half-message consume of %s: %v", topic, err)
				continue
			}
			rec = m
			first := s.b.sem.tx.firstCheck(m.Properties, m.StoreTimestamp)
			e = &halfCheck{topic: topic, first: first, next: first}
			hc.mu.Lock()
			if old := hc.m[h.commitLogOffset]; old != nil {
				e = old
			} else {
				hc.m[h.commitLogOffset] = e
			}
			hc.mu.Unlock()
		}
		hc.mu.Lock()
		due := !now.Before(e.next)
		if due {
			e.next = now.Add(interval)
		}
		first, next := e.first, e.next
		hc.mu.Unlock()
		if !due {
			continue
		}
		n, ok := s.b.sem.tx.countCheck(h.commitLogOffset)
		if !ok {
			continue // resolved meanwhile
		}
		if rec == nil {
			m, err := s.b.sem.tx.sentRecord(h)
			if err != nil {
				s.b.log.Logf(LogLevelError, "HTTP half-message consume of %s: %v", topic, err)
				continue
			}
			rec = m
		}
		out = append(out, s.httpMessage(rec, httpDelivery{
			handle:  transactionID(s.b.storeHost, h.commitLogOffset, h.queueOffset),
			attempt: n, first: first, next: next, half: true,
		}))
	}
	return out
}

// endTransaction commits or rolls back the half message a handle names.
func (s *httpServer) endTransaction(c *httpCall, handle string, commit bool) (httpErrorCode, string) {
	clo, qo, err := parseTransactionID(handle)
	if err != nil {
		return errHTTPReceiptHandle, msgHTTPReceiptHandle
	}
	half, _ := s.b.sem.tx.take(clo, qo, c.topic)
	if half == nil {
		return errHTTPReceiptHandle, msgHTTPReceiptExpired
	}
	if commit {
		if err := s.b.commitTransaction(half); err != nil {
			s.b.sem.tx.add(half) // still pending: checked again
			s.b.log.Logf(LogLevelError, "HTTP commit of transaction at %d on %s: %v", clo, c.topic, err)
			return errHTTPInternal, msgHTTPInternal
		}
	}
	if err := s.b.sem.tx.resolved(half); err != nil {
		s.b.log.Logf(LogLevelError, "%v", err)
	}
	s.half.forget(clo)
	return httpErrorCode{}, ""
}
