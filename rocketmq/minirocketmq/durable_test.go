package minirocketmq_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

func skipExternal(t *testing.T) {
	t.Helper()
	if rmqtest.External() != "" {
		t.Skip("restarts the embedded broker")
	}
}

func runBroker(t *testing.T, opts ...minirocketmq.Option) *minirocketmq.Broker {
	t.Helper()
	b, err := minirocketmq.Run(opts...)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// TestDataDirRestart: messages, topics, groups and consumer offsets survive
// a restart on the same data directory; a consumer of the same group goes
// on where it stopped.
func TestDataDirRestart(t *testing.T) {
	skipExternal(t)
	dir := t.TempDir()
	opts := []minirocketmq.Option{minirocketmq.WithDataDir(dir), minirocketmq.WithPersistInterval(50 * time.Millisecond)}
	b1 := runBroker(t, opts...)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	if err := b1.CreateTopic(topic, 2); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, b1.Addr())
	for i := range 20 {
		if _, err := p.SendSync(ctxT(t, 10*time.Second), primitive.NewMessage(topic, []byte(fmt.Sprint("early-", i)))); err != nil {
			t.Fatal(err)
		}
	}
	var got atomic.Int64
	c := newPushConsumer(t, b1.Addr(), group)
	if err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		got.Add(int64(len(msgs)))
		return consumer.ConsumeSuccess, nil
	}); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	startConsumer(t, c)
	waitFor(t, 30*time.Second, "20 messages consumed", func() bool { return got.Load() == 20 })
	stopConsumer(c, started) // commits the offsets
	committed := func(b *minirocketmq.Broker) int64 {
		var sum int64
		for q := range 2 {
			off, _ := b.ConsumerOffset(group, topic, q)
			sum += off
		}
		return sum
	}
	waitFor(t, 10*time.Second, "offsets committed", func() bool { return committed(b1) == 20 })
	for i := range 10 {
		if _, err := p.SendSync(ctxT(t, 10*time.Second), primitive.NewMessage(topic, []byte(fmt.Sprint("late-", i)))); err != nil {
			t.Fatal(err)
		}
	}
	_ = p.Shutdown()
	if err := b1.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, f := range []string{"topics.json", "subscriptionGroup.json", "consumerOffset.json"} {
		if _, err := os.Stat(filepath.Join(dir, "config", f)); err != nil {
			t.Fatalf("data directory: %v", err)
		}
	}

	b2 := runBroker(t, opts...)
	if tc, ok := b2.Topic(topic); !ok || tc.WriteQueueNums != 2 {
		t.Fatalf("topic after restart: %+v %v", tc, ok)
	}
	if n := committed(b2); n != 20 {
		t.Fatalf("offsets after restart sum to %d, want 20", n)
	}
	var stored int
	for q := range 2 {
		ms, err := b2.Messages(topic, q)
		if err != nil {
			t.Fatal(err)
		}
		stored += len(ms)
	}
	if stored != 30 {
		t.Fatalf("%d messages after restart, want 30", stored)
	}
	var mu sync.Mutex
	var bodies []string
	c2 := newPushConsumer(t, b2.Addr(), group)
	if err := c2.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			bodies = append(bodies, string(m.Body))
		}
		return consumer.ConsumeSuccess, nil
	}); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c2)
	waitFor(t, 30*time.Second, "10 new messages consumed", func() bool { mu.Lock(); defer mu.Unlock(); return len(bodies) >= 10 })
	mu.Lock()
	defer mu.Unlock()
	for _, body := range bodies {
		if !strings.HasPrefix(body, "late-") {
			t.Fatalf("consumed %q again after the restart (all: %v)", body, bodies)
		}
	}
}

// gateStore is an in-memory store whose fsyncs the test performs by hand.
type gateStore struct {
	*store.Memory
	mu      sync.Mutex
	waiting []func(error)
	called  chan struct{}
}

func (g *gateStore) AfterSync(fn func(error)) {
	g.mu.Lock()
	g.waiting = append(g.waiting, fn)
	g.mu.Unlock()
	g.called <- struct{}{}
}

func (g *gateStore) release(err error) {
	g.mu.Lock()
	ws := g.waiting
	g.waiting = nil
	g.mu.Unlock()
	for _, fn := range ws {
		fn(err)
	}
}

// TestSyncFlushTimeout: with SYNC_FLUSH, a send whose fsync takes longer
// than syncFlushTimeout is answered FLUSH_DISK_TIMEOUT (10) with its send
// result, as the real broker does: the Go client reports the message as
// sent with that status instead of timing out and sending it again (no
// duplicate); a late fsync answers nothing more.
func TestSyncFlushTimeout(t *testing.T) {
	skipExternal(t)
	g := &gateStore{Memory: store.NewMemory(), called: make(chan struct{}, 16)}
	b := runBroker(t, minirocketmq.WithStore(g), minirocketmq.WithFlushDiskType(minirocketmq.SyncFlush),
		minirocketmq.WithSyncFlushTimeout(300*time.Millisecond))
	t.Cleanup(func() { g.release(nil) })
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, b.Addr())
	res, err := p.SendSync(context.Background(), primitive.NewMessage(topic, []byte("slow disk")))
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if res.Status != primitive.SendFlushDiskTimeout || res.OffsetMsgID == "" {
		t.Fatalf("send result %+v, want status FLUSH_DISK_TIMEOUT with the message id", res)
	}
	g.release(nil)
	if n := b.MaxOffset(topic, 0); n != 1 {
		t.Fatalf("%d messages stored, want 1 (no resend)", n)
	}
	conn := dial(t, b.BrokerAddr())
	req := remoting.NewRequest(remoting.SendMessage, "producerGroup", "PG", "topic", topic, "defaultTopic", "TBW102",
		"defaultTopicQueueNums", "4", "queueId", "0", "sysFlag", "0", "bornTimestamp", "0", "flag", "0", "properties", "")
	req.Body = []byte("raw")
	if resp := invoke(t, conn, req); resp.Code != remoting.FlushDiskTimeout || resp.Get("msgId") == "" || resp.Get("queueOffset") != "1" {
		t.Fatalf("raw send: code %d ext %v", resp.Code, resp.Ext)
	}
}

// TestSyncFlushWaitsForFsync: with SYNC_FLUSH a send is answered only after
// the store's fsync, and a failed fsync fails the send.
func TestSyncFlushWaitsForFsync(t *testing.T) {
	skipExternal(t)
	g := &gateStore{Memory: store.NewMemory(), called: make(chan struct{}, 16)}
	b := runBroker(t, minirocketmq.WithStore(g), minirocketmq.WithFlushDiskType(minirocketmq.SyncFlush))
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, b.Addr(), producer.WithRetry(0))

	for _, fail := range []bool{false, true} {
		var released atomic.Bool
		done := make(chan error, 1)
		go func() {
			_, err := p.SendSync(context.Background(), primitive.NewMessage(topic, []byte("x")))
			if !released.Load() {
				err = errors.New("the send was answered before the fsync")
			}
			done <- err
		}()
		select {
		case <-g.called:
		case err := <-done:
			t.Fatalf("send returned before the broker asked for an fsync: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("the broker never asked for an fsync")
		}
		released.Store(true)
		if fail {
			g.release(errors.New("disk on fire"))
		} else {
			g.release(nil)
		}
		err := <-done
		switch {
		case !fail && err != nil:
			t.Fatalf("send: %v", err)
		case fail && (err == nil || !strings.Contains(err.Error(), "disk on fire")):
			t.Fatalf("send with a failed fsync: %v", err)
		}
	}
}

func TestDataDirOptions(t *testing.T) {
	if _, err := minirocketmq.New(minirocketmq.WithDataDir(t.TempDir()), minirocketmq.WithStore(store.NewMemory())); err == nil {
		t.Fatal("WithDataDir together with WithStore was accepted")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "store", "FORMAT"), []byte("minirocketmq store format 99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := minirocketmq.New(minirocketmq.WithDataDir(dir))
	if err == nil || !strings.Contains(err.Error(), "format version 99") {
		t.Fatalf("New on a data directory of another format: %v", err)
	}
	for in, want := range map[string]minirocketmq.FlushDiskType{"SYNC_FLUSH": minirocketmq.SyncFlush, "async_flush": minirocketmq.AsyncFlush} {
		if got, err := minirocketmq.ParseFlushDiskType(in); err != nil || got != want || !strings.EqualFold(got.String(), in) {
			t.Fatalf("ParseFlushDiskType(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := minirocketmq.ParseFlushDiskType("SOMETIMES"); err == nil {
		t.Fatal("ParseFlushDiskType accepted SOMETIMES")
	}
}

// TestDataDirKeepsDelayedAndHalfMessages: a delayed message and an
// unresolved transaction survive a restart: the first is delivered when
// its level's delay has passed on the restarted broker's clock, the second
// is pending again.
func TestDataDirKeepsDelayedAndHalfMessages(t *testing.T) {
	skipExternal(t)
	dir := t.TempDir()
	start := time.UnixMilli(1_700_000_000_000)
	topic := rmqtest.Name(t, "T")
	open := func() (*minirocketmq.Broker, *minirocketmq.ManualClock) {
		clk := minirocketmq.NewManualClock(start)
		b := runBroker(t, minirocketmq.WithDataDir(dir), minirocketmq.WithClock(clk),
			minirocketmq.WithDelayLevels(time.Second, 2*time.Second))
		return b, clk
	}
	b1, _ := open()
	if err := b1.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 10*time.Second)
	nc, err := remoting.Dial(ctx, b1.BrokerAddr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	send := func(props string, sysFlag int) {
		t.Helper()
		req := remoting.NewRequest(remoting.SendMessage, "producerGroup", "PG", "topic", topic, "defaultTopic", "TBW102",
			"defaultTopicQueueNums", "4", "queueId", "0", "sysFlag", fmt.Sprint(sysFlag), "bornTimestamp", "1", "flag", "0", "properties", props)
		req.Body = []byte("x")
		resp, err := nc.Invoke(ctx, req)
		if err != nil || resp.Code != remoting.Success {
			t.Fatalf("send %q: %v %+v", props, err, resp)
		}
	}
	send("DELAY\x012\x02", 0)
	send("TRAN_MSG\x01true\x02PGROUP\x01PG\x02", 4)
	_ = nc.Close()
	if n := b1.MaxOffset(topic, 0); n != 0 {
		t.Fatalf("%d message(s) visible before their time", n)
	}
	if n := b1.PendingTransactions(); n != 1 {
		t.Fatalf("%d pending transactions before the restart", n)
	}
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}

	b2, clk := open()
	if n := b2.PendingTransactions(); n != 1 {
		t.Fatalf("%d pending transactions after the restart, want 1", n)
	}
	clk.Advance(3 * time.Second)
	waitFor(t, 10*time.Second, "the delayed message delivered after the restart", func() bool { return b2.MaxOffset(topic, 0) == 1 })
}
