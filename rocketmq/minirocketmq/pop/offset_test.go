package pop_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
)

// ackAll acknowledges msgs of group g in topic T.
func ackAll(t *testing.T, e *pop.Engine, g string, msgs []*pop.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := e.Ack(g, "T", m.ReceiptHandle); err != nil {
			t.Fatalf("ack of %s: %v", m.Body, err)
		}
	}
}

// expired checks that every handle of msgs answers ErrHandleExpired.
func expired(t *testing.T, e *pop.Engine, g string, msgs []*pop.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := e.Ack(g, "T", m.ReceiptHandle); !errors.Is(err, pop.ErrHandleExpired) {
			t.Fatalf("ack of %s with a handle from before the offset change: %v, want ErrHandleExpired", m.Body, err)
		}
	}
}

// TestSetOffset: an offset set from outside the engine (a reset, a client's
// UpdateOffset) is where the next receive reads, whatever the engine held:
// messages from the new offset on are delivered again with attempt 1,
// messages below it are not, handles of earlier deliveries have expired
// and their acks move no offset.
func TestSetOffset(t *testing.T) {
	for _, tc := range []struct {
		name   string
		acked  int   // of the 5 first deliveries a..e, the first acked
		offset int64 // set after that
		want   []string
	}{
		{"back to the start, all acked", 5, 0, []string{"a", "b", "c", "d", "e"}},
		{"back to the start, some in flight", 3, 0, []string{"a", "b", "c", "d", "e"}},
		{"back into what is in flight", 0, 2, []string{"c", "d", "e"}},
		{"forward past what is in flight", 1, 3, []string{"d", "e"}},
		{"to the end", 2, 5, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for _, b := range []string{"a", "b", "c", "d", "e"} {
				f.put("T", 0, b)
			}
			first := f.receive(f.req("g", "T"))
			equal(t, "first delivery", bodies(first), []string{"a", "b", "c", "d", "e"})
			ackAll(t, f.e, "g", first[:tc.acked])

			f.e.SetOffset("g", "T", 0, tc.offset)
			equal(t, "offset after SetOffset", f.host.offset("g", "T", 0), tc.offset)
			expired(t, f.e, "g", first[tc.acked:])
			equal(t, "offset after the stale acks", f.host.offset("g", "T", 0), tc.offset)
			equal(t, "pending after SetOffset", f.e.Pending("g", "T"), pop.Stats{})

			again := f.receive(f.req("g", "T"))
			equal(t, "delivered after SetOffset", bodies(again), append([]string{}, tc.want...))
			for _, m := range again {
				equal(t, "attempt of "+string(m.Body), m.Attempt, 1)
			}
			equal(t, "offset while the redeliveries are in flight", f.host.offset("g", "T", 0), tc.offset)
			// Nothing below the new offset comes back when the old
			// deliveries' invisible time ends; what was delivered again
			// does, as attempt 2.
			f.clk.Advance(time.Minute)
			late := f.receive(f.req("g", "T"))
			equal(t, "after the old invisible time", bodies(late), append([]string{}, tc.want...))
			for _, m := range late {
				equal(t, "attempt of "+string(m.Body), m.Attempt, 2)
			}
			ackAll(t, f.e, "g", late)
			equal(t, "offset after acking", f.host.offset("g", "T", 0), int64(5))
			equal(t, "other group untouched", len(f.receive(f.req("other", "T"))), 5)
		})
	}
}

// TestSetOffsetUnblocksFIFO: a FIFO message group blocked by a message in
// flight goes on from the new offset (the real broker clears the queue's
// order block on a reset).
func TestSetOffsetUnblocksFIFO(t *testing.T) {
	f := newFixture(t)
	for _, b := range []string{"a1", "a2", "a3"} {
		f.put("T", 0, b, pop.PropertyShardingKey, "A")
	}
	r := f.req("g", "T")
	r.FIFO = true
	batch := f.receive(r)
	equal(t, "first", bodies(batch), []string{"a1", "a2", "a3"}) // the group's batch, in flight together
	equal(t, "blocked", len(f.receive(r)), 0)
	f.e.SetOffset("g", "T", 0, 1)
	equal(t, "after the reset past a1", bodies(f.receive(r)), []string{"a2", "a3"})
	expired(t, f.e, "g", batch)
	equal(t, "offset", f.host.offset("g", "T", 0), int64(1))
}

// TestSetOffsetDuringDeadLetter: a message being written to the dead-letter
// queue when the offset is set does not commit its own offset over the new
// one when the write ends.
func TestSetOffsetDuringDeadLetter(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "poison")
	entered, release := make(chan struct{}), make(chan struct{})
	f.host.mu.Lock()
	f.host.deadHook = func() {
		close(entered)
		<-release
	}
	f.host.mu.Unlock()
	r := f.req("g", "T")
	r.MaxAttempts = 1
	equal(t, "delivered", bodies(f.receive(r)), []string{"poison"})
	f.clk.Advance(r.InvisibleDuration) // the background goroutine dead-letters it
	<-entered
	f.e.SetOffset("g", "T", 0, 0)
	close(release)
	f.e.Close() // waits for the background goroutine, and so for the write
	f.host.mu.Lock()
	f.host.deadHook = nil
	f.host.mu.Unlock()
	equal(t, "dead letters", len(f.host.deadLetters()), 1)
	equal(t, "offset after the dead letter", f.host.offset("g", "T", 0), int64(0))
	f.e = f.open()
	equal(t, "after the reset", bodies(f.receive(r)), []string{"poison"})
}
