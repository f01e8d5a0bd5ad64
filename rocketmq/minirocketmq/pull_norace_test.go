//go:build !race

// The official client's pull consumer races with itself
// (rocketmq-client-go/v2 consumer/pull_consumer.go: pull vs pullMessage, a data race
// the race detector reports in the client, not here), so these tests stay out of -race runs;
// `make test` runs them with `go test -run NoRace ./...`.

package minirocketmq_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// newPullConsumer starts a pull consumer assigned the queues mqs.
func newPullConsumer(t *testing.T, ns, topic string, mqs ...*primitive.MessageQueue) rocketmq.PullConsumer {
	t.Helper()
	c, err := rocketmq.NewPullConsumer(
		consumer.WithNameServer([]string{ns}),
		consumer.WithGroupName(rmqtest.Name(t, "PC")),
		consumer.WithInstance(instanceName(t)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Assign(topic, mqs); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown() })
	return c
}

// TestNoRacePullConsumer: reading a queue from a given offset, seeking by
// timestamp, min/max offsets, a pull past the end, and a pull at the end
// that is answered when a message arrives.
func TestNoRacePullConsumer(t *testing.T) {
	ns := rmqtest.NameServer(t)
	topic := rmqtest.Name(t, "T")
	p := newProducer(t, ns, producer.WithQueueSelector(producer.NewManualQueueSelector()))
	plain := newProducer(t, ns)
	if _, err := plain.SendSync(context.Background(), newMsg(topic, "create", "create")); err != nil {
		t.Fatal(err)
	}
	mq := &primitive.MessageQueue{Topic: topic, BrokerName: brokerNameOf(t, ns, topic), QueueId: 0}
	// The create message may have gone to queue 0: offsets below are
	// relative to where the test's messages start.
	c := newPullConsumer(t, ns, topic, mq)
	maxResp := invoke(t, dial(t, brokerAddr(t, ns)), remoting.NewRequest(remoting.GetMaxOffset, "topic", topic, "queueId", "0"))
	base, err := strconv.ParseInt(maxResp.Get("offset"), 10, 64)
	if err != nil {
		t.Fatalf("max offset: %q", maxResp.Get("offset"))
	}

	const n = 10
	for i := range n {
		m := newMsg(topic, fmt.Sprintf("body-%d", i), strconv.Itoa(i))
		m.Queue = mq
		if _, err := p.SendSync(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		// Distinct store times (ms) for the timestamp search.
		for until := time.Now().Add(3 * time.Millisecond); time.Now().Before(until); {
			time.Sleep(time.Millisecond)
		}
	}

	res, err := c.PullFrom(context.Background(), mq, base+3, 4)
	if err != nil {
		t.Fatal(err)
	}
	msgs := res.GetMessageExts()
	if res.Status != primitive.PullFound || len(msgs) != 4 {
		t.Fatalf("pull from %d: status %v, %d messages", base+3, res.Status, len(msgs))
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("body-%d", 3+i); string(m.Body) != want || m.QueueOffset != base+3+int64(i) {
			t.Fatalf("message %d: body %q offset %d", i, m.Body, m.QueueOffset)
		}
	}
	if res.NextBeginOffset != base+7 || res.MinOffset != 0 || res.MaxOffset != base+n {
		t.Fatalf("next %d min %d max %d, want %d 0 %d", res.NextBeginOffset, res.MinOffset, res.MaxOffset, base+7, base+n)
	}

	// Store times of every message, to search by.
	all, err := c.PullFrom(context.Background(), mq, base, n)
	if err != nil || len(all.GetMessageExts()) != n {
		t.Fatalf("pull all: %v", err)
	}
	stored := all.GetMessageExts()
	for _, tc := range []struct {
		name string
		ts   int64
		want int64
	}{
		{"exact time of message 5", stored[5].StoreTimestamp, base + 5},
		{"exact time of message 0", stored[0].StoreTimestamp, base},
		{"after everything: the last message", stored[n-1].StoreTimestamp + 60_000, base + n - 1},
	} {
		got, err := c.OffsetForTimestamp(mq, tc.ts)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: offset %d, want %d", tc.name, got, tc.want)
		}
	}

	// Past the end: offset moved, to the end of the queue.
	res, err = c.PullFrom(context.Background(), mq, base+n+50, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != primitive.PullOffsetIllegal || res.NextBeginOffset != base+n {
		t.Fatalf("pull past the end: status %v next %d", res.Status, res.NextBeginOffset)
	}

	// At the end: the broker holds the pull and answers it with the next
	// message as soon as it is stored (after the hold it would say "no new
	// message").
	type pulled struct {
		res *primitive.PullResult
		err error
	}
	done := make(chan pulled, 1)
	go func() {
		r, err := c.PullFrom(context.Background(), mq, base+n, 1)
		done <- pulled{r, err}
	}()
	late := newMsg(topic, "late", "late")
	late.Queue = mq
	if _, err := p.SendSync(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.res.Status != primitive.PullFound || string(r.res.GetMessageExts()[0].Body) != "late" {
			t.Fatalf("held pull: status %v", r.res.Status)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("held pull never answered")
	}
}
