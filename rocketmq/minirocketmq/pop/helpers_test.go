package pop_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/clock"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var start = time.UnixMilli(1_700_000_000_000)

// fixture is an engine over a real in-memory store, with a host that keeps
// offsets in a map and dead letters in %DLQ%<group> of the same store.
type fixture struct {
	t     *testing.T
	clk   *clock.Manual
	st    store.Store
	host  *host
	e     *pop.Engine
	queue []int32
}

type host struct {
	st store.Store
	e  *pop.Engine

	mu       sync.Mutex
	offsets  map[string]int64
	dead     []*message.Message
	failDead int    // fail the next n DeadLetter calls
	deadHook func() // called by DeadLetter first, when set
}

func offsetKey(group, topic string, q int32) string {
	return group + "/" + topic + "/" + string(rune('0'+q))
}

func (h *host) ConsumerOffset(group, topic string, q int32) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	off, ok := h.offsets[offsetKey(group, topic, q)]
	return off, ok
}

func (h *host) CommitOffset(group, topic string, q int32, off int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.offsets[offsetKey(group, topic, q)] = off
}

var errDiskFull = errors.New("disk full")

func (h *host) DeadLetter(group string, m *message.Message) error {
	h.mu.Lock()
	hook := h.deadHook
	h.mu.Unlock()
	if hook != nil {
		hook()
	}
	h.mu.Lock()
	if h.failDead > 0 {
		h.failDead--
		h.mu.Unlock()
		return errDiskFull
	}
	h.dead = append(h.dead, m)
	h.mu.Unlock()
	dl := *m
	dl.Topic, dl.QueueID = "%DLQ%"+group, 0
	if err := h.st.Put([]*message.Message{&dl}); err != nil {
		return err
	}
	h.e.Notify(dl.Topic)
	return nil
}

func (h *host) deadLetters() []*message.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*message.Message(nil), h.dead...)
}

func (h *host) offset(group, topic string, q int32) int64 {
	off, ok := h.ConsumerOffset(group, topic, q)
	if !ok {
		return -1
	}
	return off
}

func newFixture(t *testing.T, opts ...pop.Option) *fixture {
	t.Helper()
	clk := clock.NewManual(start)
	st := store.NewMemory(store.WithNow(clk.Now))
	h := &host{st: st, offsets: make(map[string]int64)}
	f := &fixture{t: t, clk: clk, st: st, host: h, queue: []int32{0}}
	f.e = f.open(opts...)
	t.Cleanup(func() { _ = st.Close() })
	return f
}

// open starts an engine over the fixture's store and host (again, after a
// restart).
func (f *fixture) open(opts ...pop.Option) *pop.Engine {
	f.t.Helper()
	e := pop.New(f.st, f.host, append([]pop.Option{pop.WithClock(f.clk), pop.WithBrokerName("broker-a")}, opts...)...)
	f.host.e = e
	e.Start()
	f.t.Cleanup(e.Close)
	return e
}

// put stores one message with properties (name, value, ...) in topic's
// queue q and notifies the engine.
func (f *fixture) put(topic string, q int32, body string, props ...string) *message.Message {
	f.t.Helper()
	m := &message.Message{
		Topic:         topic,
		QueueID:       q,
		BornTimestamp: f.clk.Now().UnixMilli(),
		BornHost:      netip.MustParseAddrPort("127.0.0.1:1234"),
		StoreHost:     netip.MustParseAddrPort("127.0.0.1:10911"),
		Body:          []byte(body),
		Properties:    message.EditProperties("", nil, props...),
	}
	if tags, ok := message.Property(m.Properties, message.PropertyTags); ok {
		m.TagsCode = message.TagsHashCode(tags)
	}
	if err := f.st.Put([]*message.Message{m}); err != nil {
		f.t.Fatal(err)
	}
	f.e.Notify(topic)
	return m
}

// req is a receive request for group g of topic t over the fixture's queues.
func (f *fixture) req(g, t string) *pop.ReceiveRequest {
	return &pop.ReceiveRequest{Group: g, Topic: t, QueueIDs: f.queue, MaxMessages: 32, InvisibleDuration: 30 * time.Second, MaxAttempts: 17}
}

func (f *fixture) receive(r *pop.ReceiveRequest) []*pop.Message {
	f.t.Helper()
	msgs, err := f.e.Receive(context.Background(), r)
	if err != nil {
		f.t.Fatalf("receive: %v", err)
	}
	return msgs
}

func bodies(msgs []*pop.Message) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, string(m.Body))
	}
	return out
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !equalValues(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func equalValues(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}

// tagFilter accepts messages whose TAGS is one of its tags.
type tagFilter []string

func (f tagFilter) MatchTagsCode(code int64) bool {
	for _, t := range f {
		if message.TagsHashCode(t) == code {
			return true
		}
	}
	return false
}

func (f tagFilter) MatchRecord(rec []byte) bool {
	props, ok := message.RecordProperties(rec)
	if !ok {
		return false
	}
	tag, _ := message.PropertyBytes(props, message.PropertyTags)
	for _, t := range f {
		if t == string(tag) {
			return true
		}
	}
	return false
}

// eventually polls cond until it holds or 5 s have passed: for what the
// engine's background goroutine does after a manual clock's Advance.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after 5 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
