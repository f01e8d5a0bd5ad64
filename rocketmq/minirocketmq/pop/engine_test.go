package pop_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
)

// TestReceiveAck: a receive takes every visible message once, an ack
// consumes it, and the committed offset is the oldest message not yet
// acknowledged.
func TestReceiveAck(t *testing.T) {
	f := newFixture(t)
	for _, b := range []string{"a", "b", "c"} {
		f.put("T", 0, b, "UNIQ_KEY", "id-"+b)
	}
	msgs := f.receive(f.req("g", "T"))
	equal(t, "bodies", bodies(msgs), []string{"a", "b", "c"})
	for i, m := range msgs {
		equal(t, "attempt", m.Attempt, 1)
		equal(t, "reconsume times", m.ReconsumeTimes, int32(0))
		equal(t, "queue offset", m.QueueOffset, int64(i))
		equal(t, "invisible duration", m.InvisibleDuration, 30*time.Second)
		h, err := pop.ParseHandle(m.ReceiptHandle)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "handle offset", h.Offset, int64(i))
	}
	equal(t, "second receive", len(f.receive(f.req("g", "T"))), 0)
	equal(t, "other group", len(f.receive(f.req("other", "T"))), 3)

	if err := f.e.Ack("g", "T", msgs[1].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	equal(t, "offset after acking b", f.host.offset("g", "T", 0), int64(0))
	if err := f.e.Ack("g", "T", msgs[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	equal(t, "offset after acking a", f.host.offset("g", "T", 0), int64(2))
	if err := f.e.Ack("g", "T", msgs[2].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	equal(t, "offset after acking c", f.host.offset("g", "T", 0), int64(3))
	if err := f.e.Ack("g", "T", msgs[2].ReceiptHandle); !errors.Is(err, pop.ErrHandleExpired) {
		t.Fatalf("second ack: %v, want ErrHandleExpired", err)
	}
	f.clk.Advance(time.Hour)
	equal(t, "after an hour", len(f.receive(f.req("g", "T"))), 0)
}

// TestExpiryRedelivers: a message not acknowledged within its invisible
// duration comes back with the next attempt number and a new handle; the
// old handle is dead.
func TestExpiryRedelivers(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "a")
	first := f.receive(f.req("g", "T"))
	equal(t, "first", bodies(first), []string{"a"})

	f.clk.Advance(30*time.Second - time.Millisecond)
	equal(t, "just before the end of the invisible duration", len(f.receive(f.req("g", "T"))), 0)
	f.clk.Advance(time.Millisecond)
	second := f.receive(f.req("g", "T"))
	equal(t, "redelivered", bodies(second), []string{"a"})
	equal(t, "attempt", second[0].Attempt, 2)
	equal(t, "reconsume times", second[0].ReconsumeTimes, int32(1))
	if second[0].ReceiptHandle == first[0].ReceiptHandle {
		t.Fatal("the redelivery has the first delivery's handle")
	}
	if err := f.e.Ack("g", "T", first[0].ReceiptHandle); !errors.Is(err, pop.ErrHandleExpired) {
		t.Fatalf("ack with the expired handle: %v, want ErrHandleExpired", err)
	}
	if err := f.e.Ack("g", "T", second[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Minute)
	equal(t, "after the ack", len(f.receive(f.req("g", "T"))), 0)
	equal(t, "offset", f.host.offset("g", "T", 0), int64(1))
}

// TestAckAfterVisibleTime: an ack that comes when the invisible duration
// has passed is refused even before anything else noticed the expiry.
func TestAckAfterVisibleTime(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "a")
	m := f.receive(f.req("g", "T"))[0]
	f.clk.Advance(30 * time.Second)
	if err := f.e.Ack("g", "T", m.ReceiptHandle); !errors.Is(err, pop.ErrHandleExpired) {
		t.Fatalf("late ack: %v, want ErrHandleExpired", err)
	}
	equal(t, "redelivered after the late ack", bodies(f.receive(f.req("g", "T"))), []string{"a"})
}

func TestChangeInvisibleDuration(t *testing.T) {
	cases := []struct {
		name        string
		d           time.Duration
		suspend     bool
		wait        time.Duration // until the redelivery
		wantAttempt int
	}{
		{"longer", 5 * time.Minute, false, 5 * time.Minute, 2},
		{"shorter", time.Second, false, time.Second, 2},
		{"zero gives it back", 0, false, 0, 2},
		{"suspend keeps the attempt", time.Second, true, time.Second, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.put("T", 0, "a")
			m := f.receive(f.req("g", "T"))[0]
			h, err := f.e.ChangeInvisibleDuration("g", "T", m.ReceiptHandle, tc.d, tc.suspend)
			if err != nil {
				t.Fatal(err)
			}
			if h == m.ReceiptHandle {
				t.Fatal("the new handle is the old one")
			}
			if err := f.e.Ack("g", "T", m.ReceiptHandle); !errors.Is(err, pop.ErrHandleExpired) {
				t.Fatalf("ack with the replaced handle: %v, want ErrHandleExpired", err)
			}
			if tc.wait > 0 {
				f.clk.Advance(tc.wait - time.Millisecond)
				equal(t, "before the new visible time", len(f.receive(f.req("g", "T"))), 0)
				f.clk.Advance(time.Millisecond)
			}
			again := f.receive(f.req("g", "T"))
			equal(t, "redelivered", bodies(again), []string{"a"})
			equal(t, "attempt", again[0].Attempt, tc.wantAttempt)
		})
	}
}

// TestChangeInvisibleDurationThenAck: the new handle acknowledges.
func TestChangeInvisibleDurationThenAck(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "a")
	m := f.receive(f.req("g", "T"))[0]
	h, err := f.e.ChangeInvisibleDuration("g", "T", m.ReceiptHandle, time.Minute, false)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(59 * time.Second)
	if err := f.e.Ack("g", "T", h); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Hour)
	equal(t, "after the ack", len(f.receive(f.req("g", "T"))), 0)
}

// TestMaxAttemptsDeadLetter: when the last allowed delivery expires, the
// message goes to the dead-letter queue with its delivery count, and is not
// delivered again.
func TestMaxAttemptsDeadLetter(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "poison", "UNIQ_KEY", "id-1")
	f.put("T", 0, "fine")
	r := f.req("g", "T")
	r.MaxAttempts = 3
	for attempt := 1; attempt <= 3; attempt++ {
		msgs := f.receive(r)
		if attempt == 1 {
			equal(t, "first receive", bodies(msgs), []string{"poison", "fine"})
			if err := f.e.Ack("g", "T", msgs[1].ReceiptHandle); err != nil {
				t.Fatal(err)
			}
		} else {
			equal(t, "redelivery", bodies(msgs), []string{"poison"})
		}
		equal(t, "attempt", msgs[0].Attempt, attempt)
		equal(t, "dead letters before the last expiry", len(f.host.deadLetters()), 0)
		f.clk.Advance(r.InvisibleDuration)
	}
	equal(t, "after the last attempt", len(f.receive(r)), 0)
	eventually(t, "dead letter written", func() bool { return len(f.host.deadLetters()) == 1 })
	dead := f.host.deadLetters()
	equal(t, "dead letter body", string(dead[0].Body), "poison")
	equal(t, "dead letter reconsume times", dead[0].ReconsumeTimes, int32(3))
	equal(t, "offset", f.host.offset("g", "T", 0), int64(2))
	// The dead-letter queue is a topic like any other.
	dlq := f.receive(f.req("g", "%DLQ%g"))
	equal(t, "dead-letter queue", bodies(dlq), []string{"poison"})
}

// TestDeadLetterOnRequest: ForwardMessageToDeadLetterQueue moves a message
// at once; a failed write keeps it in flight and is retried.
func TestDeadLetterOnRequest(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "a")
	m := f.receive(f.req("g", "T"))[0]
	f.host.failDead = 1
	if err := f.e.DeadLetter("g", "T", m.ReceiptHandle); !errors.Is(err, errDiskFull) {
		t.Fatalf("dead letter with a failing host: %v, want %v", err, errDiskFull)
	}
	equal(t, "pending after the failure", f.e.Pending("g", "T"), pop.Stats{InFlight: 1})
	f.clk.Advance(time.Second) // the retry
	eventually(t, "dead letter written by the retry", func() bool { return len(f.host.deadLetters()) == 1 })
	equal(t, "pending after the retry", f.e.Pending("g", "T"), pop.Stats{})
	equal(t, "redelivered", len(f.receive(f.req("g", "T"))), 0)

	f.put("T", 0, "b")
	m = f.receive(f.req("g", "T"))[0]
	if err := f.e.DeadLetter("g", "T", m.ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	equal(t, "dead letters", len(f.host.deadLetters()), 2)
	if err := f.e.Ack("g", "T", m.ReceiptHandle); !errors.Is(err, pop.ErrHandleExpired) {
		t.Fatalf("ack after the dead letter: %v", err)
	}
	equal(t, "offset", f.host.offset("g", "T", 0), int64(2))
}

// TestFIFO: a receive hands out a message group's ready messages in queue
// order, several at once; the group then delivers nothing more until every
// one of them is acknowledged or has expired, and the unacknowledged ones
// of an expired batch come back first, in order, with the attempt + 1,
// followed by the group's younger messages. Messages without a group are
// one group per queue; groups do not wait for each other.
func TestFIFO(t *testing.T) {
	f := newFixture(t)
	put := func(msgs ...[2]string) {
		t.Helper()
		for _, m := range msgs {
			if m[0] == "" {
				f.put("T", 0, m[1])
			} else {
				f.put("T", 0, m[1], pop.PropertyShardingKey, m[0])
			}
		}
	}
	r := f.req("g", "T")
	r.FIFO = true
	step := func(want ...string) map[string]*pop.Message {
		t.Helper()
		got := f.receive(r)
		equal(t, "delivered", bodies(got), append([]string{}, want...))
		out := make(map[string]*pop.Message, len(got))
		for _, m := range got {
			out[string(m.Body)] = m
		}
		return out
	}
	ack := func(ms ...*pop.Message) {
		t.Helper()
		for _, m := range ms {
			if err := f.e.Ack("g", "T", m.ReceiptHandle); err != nil {
				t.Fatalf("ack %s: %v", m.Body, err)
			}
		}
	}
	attempts := func(ms map[string]*pop.Message, want map[string]int) {
		t.Helper()
		for body, n := range want {
			equal(t, body+" attempt", ms[body].Attempt, n)
		}
	}

	put([2]string{"A", "a1"}, [2]string{"B", "b1"}, [2]string{"A", "a2"}, [2]string{"", "x1"}, [2]string{"B", "b2"})
	first := step("a1", "b1", "a2", "x1", "b2")
	put([2]string{"A", "a3"}, [2]string{"B", "b3"}, [2]string{"", "x2"}, [2]string{"C", "c1"})
	second := step("c1") // A, B and x have a batch in flight: a3, b3 and x2 wait
	ack(first["b1"])
	step() // b2 is still in flight: B stays blocked
	ack(first["b2"], first["x1"], first["a2"])
	third := step("b3", "x2") // a1 is still in flight: A stays blocked
	ack(second["c1"], third["b3"], third["x2"])

	// a1 expires: it comes back with attempt 2 (a2 was acknowledged), and a3
	// follows in the same batch.
	f.clk.Advance(r.InvisibleDuration)
	fourth := step("a1", "a3")
	attempts(fourth, map[string]int{"a1": 2, "a3": 1})
	if err := f.e.Ack("g", "T", first["a1"].ReceiptHandle); !errors.Is(err, pop.ErrHandleExpired) {
		t.Fatalf("ack of a1's expired delivery: %v", err)
	}
	// The whole batch expires: both come back, in order.
	f.clk.Advance(r.InvisibleDuration)
	fifth := step("a1", "a3")
	attempts(fifth, map[string]int{"a1": 3, "a3": 2})
	ack(fifth["a1"], fifth["a3"])
	step()
	equal(t, "offset", f.host.offset("g", "T", 0), int64(9))
	equal(t, "pending", f.e.Pending("g", "T"), pop.Stats{})
}

// TestFIFOBatchSize: a group's batch is cut at the receive's size, and the
// rest of the group waits for the whole batch while other groups go on.
func TestFIFOBatchSize(t *testing.T) {
	f := newFixture(t)
	for _, b := range []string{"a1", "a2", "a3"} {
		f.put("T", 0, b, pop.PropertyShardingKey, "A")
	}
	f.put("T", 0, "b1", pop.PropertyShardingKey, "B")
	r := f.req("g", "T")
	r.FIFO, r.MaxMessages = true, 2
	batch := f.receive(r)
	equal(t, "first batch", bodies(batch), []string{"a1", "a2"})
	equal(t, "second batch", bodies(f.receive(r)), []string{"b1"})
	equal(t, "third batch", bodies(f.receive(r)), []string{})
	if err := f.e.Ack("g", "T", batch[1].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	equal(t, "after a2's ack", bodies(f.receive(r)), []string{})
	if err := f.e.Ack("g", "T", batch[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	equal(t, "after a1's ack", bodies(f.receive(r)), []string{"a3"})
	equal(t, "pending", f.e.Pending("g", "T"), pop.Stats{InFlight: 2})
}

// TestFIFODeadLetterUnblocksGroup: a FIFO message that exhausts its
// attempts goes to the dead-letter queue, and the rest of its batch comes
// back (attempt + 1) without it, followed by its group's younger messages.
func TestFIFODeadLetterUnblocksGroup(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "a1", pop.PropertyShardingKey, "A")
	r := f.req("g", "T")
	r.FIFO, r.MaxAttempts = true, 2
	equal(t, "first delivery", bodies(f.receive(r)), []string{"a1"})
	f.put("T", 0, "a2", pop.PropertyShardingKey, "A")
	f.clk.Advance(r.InvisibleDuration)
	again := f.receive(r)
	equal(t, "second delivery", bodies(again), []string{"a1", "a2"})
	equal(t, "attempts", []string{strconv.Itoa(again[0].Attempt), strconv.Itoa(again[1].Attempt)}, []string{"2", "1"})
	f.put("T", 0, "a3", pop.PropertyShardingKey, "A")
	f.clk.Advance(r.InvisibleDuration)
	r.Wait = 5 * time.Second // the dead letter may be written by the background goroutine
	rest := f.receive(r)
	equal(t, "after a1's last attempt", bodies(rest), []string{"a2", "a3"})
	equal(t, "a2 attempt", rest[0].Attempt, 2)
	dead := f.host.deadLetters()
	equal(t, "dead letters", len(dead), 1)
	equal(t, "dead letter", string(dead[0].Body), "a1")
}

// TestFilter: messages the filter rejects are consumed without delivery.
func TestFilter(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "a", "TAGS", "x")
	f.put("T", 0, "b", "TAGS", "y")
	f.put("T", 0, "c", "TAGS", "x")
	r := f.req("g", "T")
	r.Filter = tagFilter{"x"}
	msgs := f.receive(r)
	equal(t, "delivered", bodies(msgs), []string{"a", "c"})
	for _, m := range msgs {
		if err := f.e.Ack("g", "T", m.ReceiptHandle); err != nil {
			t.Fatal(err)
		}
	}
	equal(t, "offset", f.host.offset("g", "T", 0), int64(3))
}

// TestQueuesTakeTurns: receives start at a different queue each time.
func TestQueuesTakeTurns(t *testing.T) {
	f := newFixture(t)
	f.queue = []int32{0, 1}
	for i := 0; i < 2; i++ {
		f.put("T", 0, "q0")
		f.put("T", 1, "q1")
	}
	r := f.req("g", "T")
	r.MaxMessages = 1
	seen := map[string]int{}
	for i := 0; i < 4; i++ {
		for _, m := range f.receive(r) {
			seen[string(m.Body)]++
		}
	}
	equal(t, "from queue 0", seen["q0"], 2)
	equal(t, "from queue 1", seen["q1"], 2)
}

// TestMaxPending bounds what one group holds of a queue.
func TestMaxPending(t *testing.T) {
	f := newFixture(t, pop.WithMaxPending(2))
	for _, b := range []string{"a", "b", "c"} {
		f.put("T", 0, b)
	}
	msgs := f.receive(f.req("g", "T"))
	equal(t, "at the limit", bodies(msgs), []string{"a", "b"})
	equal(t, "nothing more while at the limit", len(f.receive(f.req("g", "T"))), 0)
	if err := f.e.Ack("g", "T", msgs[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	equal(t, "after an ack", bodies(f.receive(f.req("g", "T"))), []string{"c"})
}

// TestAutoRenew: an auto-renewed delivery stays invisible while its owner
// lives (up to WithRenewMax) and comes back at once when it is released.
func TestAutoRenew(t *testing.T) {
	f := newFixture(t, pop.WithRenewMax(time.Hour))
	f.put("T", 0, "a")
	f.put("T", 0, "b")
	r := f.req("g", "T")
	r.Owner, r.AutoRenew, r.MaxMessages = "client-1", true, 1
	a := f.receive(r)
	equal(t, "first", bodies(a), []string{"a"})
	f.clk.Advance(10 * time.Minute)
	if err := f.e.Ack("g", "T", a[0].ReceiptHandle); err != nil {
		t.Fatalf("ack of a renewed delivery: %v", err)
	}
	b := f.receive(r)
	equal(t, "second", bodies(b), []string{"b"})
	f.e.Release("client-1")
	again := f.receive(f.req("g", "T"))
	equal(t, "after the release", bodies(again), []string{"b"})
	equal(t, "attempt", again[0].Attempt, 2)

	// Past WithRenewMax the delivery expires like any other.
	f.put("T", 0, "c")
	r.Owner = "client-2"
	if err := f.e.Ack("g", "T", again[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	equal(t, "third", bodies(f.receive(r)), []string{"c"})
	f.clk.Advance(59 * time.Minute)
	equal(t, "renewed", len(f.receive(f.req("g", "T"))), 0)
	f.clk.Advance(2 * time.Minute)
	equal(t, "past the renew limit", bodies(f.receive(f.req("g", "T"))), []string{"c"})
}

func TestHandleErrors(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "a")
	m := f.receive(f.req("g", "T"))[0]
	other := strings.Replace(m.ReceiptHandle, "broker-a", "broker-b", 1)
	cases := []struct {
		name, group, topic, handle string
		want                       error
	}{
		{"garbage", "g", "T", "not a handle", pop.ErrInvalidHandle},
		{"empty", "g", "T", "", pop.ErrInvalidHandle},
		{"another broker", "g", "T", other, pop.ErrInvalidHandle},
		{"another group", "h", "T", m.ReceiptHandle, pop.ErrHandleExpired},
		{"another topic", "g", "U", m.ReceiptHandle, pop.ErrHandleExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.e.Ack(tc.group, tc.topic, tc.handle); !errors.Is(err, tc.want) {
				t.Fatalf("ack: %v, want %v", err, tc.want)
			}
			if _, err := f.e.ChangeInvisibleDuration(tc.group, tc.topic, tc.handle, time.Second, false); !errors.Is(err, tc.want) {
				t.Fatalf("change invisible duration: %v, want %v", err, tc.want)
			}
			if err := f.e.DeadLetter(tc.group, tc.topic, tc.handle); !errors.Is(err, tc.want) {
				t.Fatalf("dead letter: %v, want %v", err, tc.want)
			}
		})
	}
	if err := f.e.Ack("g", "T", m.ReceiptHandle); err != nil {
		t.Fatalf("the real handle after the bad ones: %v", err)
	}
}

func TestHandleRoundTrip(t *testing.T) {
	h := pop.Handle{PopTime: start, Invisible: 30 * time.Second, FIFO: true, BrokerName: "broker-a", QueueID: 3, Offset: 42, CommitLogOffset: 4096, Seq: 7}
	s := h.String()
	equal(t, "text", s, "42 1700000000000 30000 999 0 broker-a 3 42 4096 7")
	back, err := pop.ParseHandle(s)
	if err != nil {
		t.Fatal(err)
	}
	if !back.PopTime.Equal(h.PopTime) || back.Invisible != h.Invisible || back.FIFO != h.FIFO || back.BrokerName != h.BrokerName ||
		back.QueueID != h.QueueID || back.Offset != h.Offset || back.CommitLogOffset != h.CommitLogOffset || back.Seq != h.Seq {
		t.Fatalf("round trip: %+v, want %+v", back, h)
	}
}

// TestRestart: a new engine resumes at the committed offset, the oldest
// message not acknowledged: nothing is lost, acknowledged messages after it
// come again.
func TestRestart(t *testing.T) {
	f := newFixture(t)
	for _, b := range []string{"a", "b", "c"} {
		f.put("T", 0, b)
	}
	msgs := f.receive(f.req("g", "T"))
	for _, m := range msgs[1:] {
		if err := f.e.Ack("g", "T", m.ReceiptHandle); err != nil {
			t.Fatal(err)
		}
	}
	f.e.Close()
	f.e = f.open()
	again := f.receive(f.req("g", "T"))
	equal(t, "after the restart", bodies(again), []string{"a", "b", "c"})
	equal(t, "attempt", again[0].Attempt, 1)
	if err := f.e.Ack("g", "T", msgs[0].ReceiptHandle); !errors.Is(err, pop.ErrHandleExpired) {
		t.Fatalf("handle of the old engine: %v", err)
	}
}

// TestNewGroupStart: a group new to a young queue starts at its beginning.
func TestNewGroupStart(t *testing.T) {
	f := newFixture(t)
	f.put("T", 0, "a")
	equal(t, "young queue", bodies(f.receive(f.req("g", "T"))), []string{"a"})
}

func TestReceiveRequestValidation(t *testing.T) {
	f := newFixture(t)
	for name, mod := range map[string]func(*pop.ReceiveRequest){
		"no group":           func(r *pop.ReceiveRequest) { r.Group = "" },
		"no topic":           func(r *pop.ReceiveRequest) { r.Topic = "" },
		"no queues":          func(r *pop.ReceiveRequest) { r.QueueIDs = nil },
		"no messages":        func(r *pop.ReceiveRequest) { r.MaxMessages = 0 },
		"invisible duration": func(r *pop.ReceiveRequest) { r.InvisibleDuration = 0 },
	} {
		r := f.req("g", "T")
		mod(r)
		if _, err := f.e.Receive(context.Background(), r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestLongPolling: a waiting receive returns when a message is stored,
// when a delivery expires, at its deadline, or when its context ends.
func TestLongPolling(t *testing.T) {
	f := newFixture(t)
	r := f.req("g", "T")
	r.Wait = 10 * time.Second

	type result struct {
		msgs []*pop.Message
		err  error
	}
	wait := func(ctx context.Context, r *pop.ReceiveRequest) <-chan result {
		ch := make(chan result, 1)
		go func() {
			msgs, err := f.e.Receive(ctx, r)
			ch <- result{msgs, err}
		}()
		return ch
	}
	get := func(ch <-chan result) result {
		t.Helper()
		select {
		case res := <-ch:
			return res
		case <-time.After(5 * time.Second):
			t.Fatal("the waiting receive did not return")
			return result{}
		}
	}
	waitWaiting := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !f.e.Waiting("T") {
			if time.Now().After(deadline) {
				t.Fatal("the receive never waited")
			}
			time.Sleep(time.Millisecond)
		}
	}

	ch := wait(context.Background(), r)
	waitWaiting()
	f.put("T", 0, "a")
	res := get(ch)
	equal(t, "woken by a new message", bodies(res.msgs), []string{"a"})

	ch = wait(context.Background(), r)
	waitWaiting()
	f.clk.Advance(r.InvisibleDuration) // a expires: the engine's alarm wakes the receive
	res = get(ch)
	equal(t, "woken by an expiry", bodies(res.msgs), []string{"a"})

	short := *r
	short.Wait = 20 * time.Millisecond
	res = get(wait(context.Background(), &short))
	if res.err != nil || len(res.msgs) != 0 {
		t.Fatalf("at the deadline: %v %v", bodies(res.msgs), res.err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	ch = wait(ctx, r)
	waitWaiting()
	cancel()
	if res = get(ch); !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled: %v", res.err)
	}

	ch = wait(context.Background(), r)
	waitWaiting()
	f.e.Close()
	if res = get(ch); !errors.Is(res.err, pop.ErrClosed) {
		t.Fatalf("closed: %v", res.err)
	}
}
