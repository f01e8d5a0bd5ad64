package minirocketmq_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// collector records what a push consumer receives, by the "idx" property.
type collector struct {
	mu   sync.Mutex
	got  map[string]*primitive.MessageExt
	dups int
}

func newCollector() *collector { return &collector{got: make(map[string]*primitive.MessageExt)} }

func (c *collector) handle(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		k := m.GetProperty("idx")
		if c.got[k] != nil {
			c.dups++
		}
		c.got[k] = m
	}
	return consumer.ConsumeSuccess, nil
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

func (c *collector) keys() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]bool, len(c.got))
	for k := range c.got {
		out[k] = true
	}
	return out
}

func consume(t *testing.T, ns, group, topic string, sel consumer.MessageSelector) *collector {
	t.Helper()
	col := newCollector()
	c := newPushConsumer(t, ns, group)
	if err := c.Subscribe(topic, sel, col.handle); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	return col
}

// TestTagFilter: a TagA || TagC consumer gets exactly those messages, and
// the broker does the filtering (checked with a raw pull, since the client
// filters again on its side).
func TestTagFilter(t *testing.T) {
	ns := rmqtest.NameServer(t)
	topic := rmqtest.Name(t, "T")
	p := newProducer(t, ns)
	tags := []string{"TagA", "TagB", "TagC", ""}
	want := map[string]bool{}
	for i := range 80 {
		tag := tags[i%len(tags)]
		m := newMsg(topic, "x", strconv.Itoa(i))
		if tag != "" {
			m.WithTag(tag)
		}
		if tag == "TagA" || tag == "TagC" {
			want[strconv.Itoa(i)] = true
		}
		if _, err := p.SendSync(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	// A sentinel TagC last in every queue: once it has arrived, everything
	// before it in that queue has been either delivered or filtered.
	manual := newProducer(t, ns, producer.WithQueueSelector(producer.NewManualQueueSelector()))
	for q := range 4 {
		m := newMsg(topic, "end", fmt.Sprintf("end-%d", q))
		m.WithTag("TagC")
		m.Queue = &primitive.MessageQueue{Topic: topic, BrokerName: brokerNameOf(t, ns, topic), QueueId: q}
		want[fmt.Sprintf("end-%d", q)] = true
		if _, err := manual.SendSync(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	col := consume(t, ns, rmqtest.Name(t, "CG"), topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "TagA || TagC"})
	waitFor(t, 60*time.Second, "TagA and TagC messages", func() bool { return col.len() >= len(want) })
	got := col.keys()
	for k := range got {
		if !want[k] {
			t.Errorf("received message %s that the filter excludes", k)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("message %s missing", k)
		}
	}

	// Broker-side: a raw pull of queue 0 with the same expression returns
	// TagA/TagC records only.
	conn := dial(t, brokerAddr(t, ns))
	req := pullRequest("raw-"+topic, topic, 0, 0, 4 /* subscription */, 0)
	req.Set("subscription", "TagA || TagC")
	resp := invoke(t, conn, req)
	if resp.Code != remoting.Success {
		t.Fatalf("raw pull: code %d %s", resp.Code, resp.Remark)
	}
	n := 0
	for rec := resp.Body; len(rec) > 0; n++ {
		m, size, err := message.DecodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		if tag, _ := message.Property(m.Properties, "TAGS"); tag != "TagA" && tag != "TagC" {
			t.Fatalf("broker returned a message tagged %q", tag)
		}
		rec = rec[size:]
	}
	if n == 0 {
		t.Fatal("raw pull returned no message")
	}
}

// newMsg returns a message with body and the "idx" property.
func newMsg(topic, body, idx string) *primitive.Message {
	m := primitive.NewMessage(topic, []byte(body))
	m.WithProperty("idx", idx)
	return m
}

// brokerNameOf returns the broker name of topic's first queue, waiting for
// the route: a real broker registers a topic it auto-created with the name
// server a moment after the send that created it.
func brokerNameOf(t testing.TB, ns, topic string) string {
	t.Helper()
	waitFor(t, 30*time.Second, "a route for "+topic, func() bool { return routeQueues(t, ns, topic) > 0 })
	a := newAdmin(t, ns)
	mqs, err := a.FetchPublishMessageQueues(context.Background(), topic)
	if err != nil || len(mqs) == 0 {
		t.Fatalf("queues of %s: %v", topic, err)
	}
	return mqs[0].BrokerName
}

// TestAsyncOnewayAndBatchSends: SendAsync, SendOneWay and multi-message
// SendSync, SendAsync and SendOneWay (SEND_BATCH_MESSAGE) all arrive.
func TestAsyncOnewayAndBatchSends(t *testing.T) {
	ns := rmqtest.NameServer(t)
	topic := rmqtest.Name(t, "T")
	p := newProducer(t, ns)
	// Create the topic first so the oneway sends (which never report
	// errors) have a route.
	if _, err := p.SendSync(context.Background(), newMsg(topic, "first", "first")); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	var asyncErrs []error
	for i := range n {
		wg.Add(1)
		m := newMsg(topic, "async", fmt.Sprintf("a%d", i))
		err := p.SendAsync(context.Background(), func(_ context.Context, res *primitive.SendResult, err error) {
			defer wg.Done()
			if err == nil && res.Status != primitive.SendOK {
				err = fmt.Errorf("status %v", res.Status)
			}
			if err != nil {
				mu.Lock()
				asyncErrs = append(asyncErrs, err)
				mu.Unlock()
			}
		}, m)
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		m := newMsg(topic, "oneway", fmt.Sprintf("o%d", i))
		if err := p.SendOneWay(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	var batch []*primitive.Message
	for i := range 10 {
		m := newMsg(topic, fmt.Sprintf("batch-%d", i), fmt.Sprintf("b%d", i))
		m.WithKeys([]string{fmt.Sprintf("bk%d", i)})
		batch = append(batch, m)
	}
	res, err := p.SendSync(context.Background(), batch...)
	if err != nil {
		t.Fatalf("batch send: %v", err)
	}
	if ids := strings.Split(res.OffsetMsgID, ","); len(ids) != 10 || !offsetMsgIDPattern.MatchString(ids[9]) {
		t.Fatalf("batch offset ids %q", res.OffsetMsgID)
	}
	batchOf := func(prefix string) []*primitive.Message {
		var ms []*primitive.Message
		for i := range 5 {
			ms = append(ms, newMsg(topic, prefix, fmt.Sprintf("%s%d", prefix, i)))
		}
		return ms
	}
	wg.Add(1)
	err = p.SendAsync(context.Background(), func(_ context.Context, res *primitive.SendResult, err error) {
		defer wg.Done()
		if err != nil {
			mu.Lock()
			asyncErrs = append(asyncErrs, err)
			mu.Unlock()
		}
	}, batchOf("ab")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SendOneWay(context.Background(), batchOf("ob")...); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(asyncErrs) > 0 {
		t.Fatalf("async sends failed: %v", asyncErrs)
	}

	col := consume(t, ns, rmqtest.Name(t, "CG"), topic, consumer.MessageSelector{})
	waitFor(t, 60*time.Second, "all messages", func() bool { return col.len() == 1+2*n+10+5+5 })
	col.mu.Lock()
	defer col.mu.Unlock()
	for i := range 10 {
		m := col.got[fmt.Sprintf("b%d", i)]
		if string(m.Body) != fmt.Sprintf("batch-%d", i) || m.GetKeys() != fmt.Sprintf("bk%d", i) {
			t.Fatalf("batch member %d: body %q keys %q", i, m.Body, m.GetKeys())
		}
		if ids := strings.Split(res.OffsetMsgID, ","); m.OffsetMsgId != ids[i] {
			t.Fatalf("batch member %d: offset id %s, send said %s", i, m.OffsetMsgId, ids[i])
		}
	}
	if col.dups != 0 {
		t.Fatalf("%d duplicates", col.dups)
	}
}
