package rocketmq

import (
	"context"
	"sync"

	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// acker acknowledges a subscription's messages in batches: one AckMessage carries
// every acknowledgement that came while the previous one was in flight. The first
// handler to finish while none is in flight sends at once (alone, on an idle
// subscription: no added latency); handlers finishing meanwhile join the next batch,
// which the same goroutine sends when its call returns. Each handler waits for its own
// entry's outcome, so it stays in flight (Drain waits for it) until the server has its
// acknowledgement. A batch holds at most one entry per handler slot.
type acker struct {
	s *v5Sub

	mu   sync.Mutex
	next *ackBatch // collecting; nil when empty
	busy bool      // a goroutine is sending batches
}

type ackBatch struct {
	entries []*v2.AckMessageEntry
	errs    []error
	done    chan struct{}
}

// ack acknowledges one message and returns its outcome.
func (a *acker) ack(e *v2.AckMessageEntry) error {
	a.mu.Lock()
	if a.next == nil {
		a.next = &ackBatch{done: make(chan struct{})}
	}
	b, i := a.next, len(a.next.entries)
	b.entries = append(b.entries, e)
	if a.busy {
		a.mu.Unlock()
		<-b.done
		return b.errs[i]
	}
	a.busy = true
	a.mu.Unlock()
	for {
		a.mu.Lock()
		batch := a.next
		a.next = nil
		if batch == nil {
			a.busy = false
			a.mu.Unlock()
			break
		}
		a.mu.Unlock()
		a.send(batch)
	}
	return b.errs[i]
}

// send makes the batch's AckMessage call (tried again as settle says) and hands each
// entry its status.
func (a *acker) send(b *ackBatch) {
	defer close(b.done)
	s := a.s
	conn := s.g.ses.conn
	b.errs = make([]error, len(b.entries))
	req := &v2.AckMessageRequest{Group: conn.resource(s.g.name), Topic: conn.resource(s.topic), Entries: b.entries}
	var resp *v2.AckMessageResponse
	err := s.settleCall(func(ctx context.Context) error {
		var err error
		resp, err = conn.api.AckMessage(ctx, req)
		if err != nil {
			return err
		}
		if len(resp.GetEntries()) == 0 {
			return statusErr("ack message", resp.GetStatus())
		}
		return nil
	})
	if err != nil {
		for i := range b.errs {
			b.errs[i] = err
		}
		return
	}
	byHandle := make(map[string]*v2.Status, len(resp.GetEntries()))
	for _, re := range resp.GetEntries() {
		byHandle[re.GetReceiptHandle()] = re.GetStatus()
	}
	for i, e := range b.entries {
		st, ok := byHandle[e.GetReceiptHandle()]
		if !ok {
			st = resp.GetStatus() // a server that answers with the overall status only
		}
		b.errs[i] = statusErr("ack message", st)
	}
}
