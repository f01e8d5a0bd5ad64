package minirocketmq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// fastLevels are delay levels short enough for retry tests: every level
// 100 ms (the retries of a consumer that asks for no level use 3 +
// reconsume times).
func fastLevels() minirocketmq.Option {
	levels := make([]time.Duration, 18)
	for i := range levels {
		levels[i] = 100 * time.Millisecond
	}
	return minirocketmq.WithDelayLevels(levels...)
}

// retryLevels makes level 1, the back-off TestRetryThenDLQ asks for, short
// and every other level 30 s: a redelivery that waits a level it was not
// asked for breaks the test's upper bound.
func retryLevels() minirocketmq.Option {
	levels := make([]time.Duration, 18)
	for i := range levels {
		levels[i] = 30 * time.Second
	}
	levels[0] = 100 * time.Millisecond
	return minirocketmq.WithDelayLevels(levels...)
}

// attempts records every delivery of each message, by its "idx" property.
type attempts struct {
	mu  sync.Mutex
	rcs map[string][]int32 // idx → ReconsumeTimes of each delivery, in order
}

func (a *attempts) add(m *primitive.MessageExt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rcs == nil {
		a.rcs = make(map[string][]int32)
	}
	k := m.GetProperty("idx")
	a.rcs[k] = append(a.rcs[k], m.ReconsumeTimes)
}

func (a *attempts) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, l := range a.rcs {
		n += len(l)
	}
	return n
}

// subscribeWhenRouted starts a push consumer of topic, retrying while the
// topic has no route (a real broker creates a dead-letter topic with the
// first dead letter).
func subscribeWhenRouted(t *testing.T, ns, group, topic string, h func(context.Context, ...*primitive.MessageExt) (consumer.ConsumeResult, error)) rocketmq.PushConsumer {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		c := newPushConsumer(t, ns, group)
		if err := c.Subscribe(topic, consumer.MessageSelector{}, h); err != nil {
			t.Fatal(err)
		}
		err := c.Start()
		if err == nil {
			t.Cleanup(func() { _ = c.Shutdown() })
			return c
		}
		_ = c.Shutdown()
		if time.Now().After(deadline) {
			t.Fatalf("consumer of %s: %v", topic, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestRetryThenDLQ: a handler that always asks to retry gets each message
// maxReconsumeTimes+1 times with ReconsumeTimes 0, 1, ..., max, each
// redelivery at least one back-off after the previous one; then the
// message is in %DLQ%<group>, once, with its body, keys, tag and
// properties, readable by a plain consumer. Nothing is lost or duplicated.
func TestRetryThenDLQ(t *testing.T) {
	const (
		msgs       = 5
		maxRecon   = 3
		retryLevel = 1 // 1 s on a real broker
	)
	ns, b := rmqtest.Start(t, retryLevels())
	backoff := time.Second
	if b != nil {
		backoff = 100 * time.Millisecond
	}
	// The upper bound, generous for a loaded machine, and shorter than the
	// other levels (30 s). Not on a real broker: its first redelivery waits
	// for the consumer's next route poll of the retry topic (20-40 s).
	const margin = 10 * time.Second
	var late []string
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)
	sent := make(map[string]*primitive.SendResult)
	for i := range msgs {
		m := newMsg(topic, fmt.Sprintf("body-%d", i), strconv.Itoa(i))
		m.WithKeys([]string{fmt.Sprintf("key-%d", i)})
		m.WithTag("TagR")
		m.WithProperty("color", "red")
		res, err := p.SendSync(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		sent[strconv.Itoa(i)] = res
	}
	brokerNameOf(t, ns, topic) // a real broker routes an auto-created topic a moment later

	var got attempts
	var mu sync.Mutex
	last := make(map[string]time.Time)
	var early []string
	c := newPushConsumer(t, ns, group, consumer.WithMaxReconsumeTimes(maxRecon))
	err := c.Subscribe(topic, consumer.MessageSelector{}, func(ctx context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		cc, _ := primitive.GetConcurrentlyCtx(ctx)
		cc.DelayLevelWhenNextConsume = retryLevel
		now := time.Now()
		mu.Lock()
		for _, m := range ms {
			got.add(m)
			k := m.GetProperty("idx")
			// The loose bound: a redelivery never comes before its
			// back-off.
			if prev, ok := last[k]; ok && now.Sub(prev) < backoff {
				early = append(early, fmt.Sprintf("%s after %v", k, now.Sub(prev)))
			}
			if prev, ok := last[k]; ok && b != nil && now.Sub(prev) > backoff+margin {
				late = append(late, fmt.Sprintf("%s after %v", k, now.Sub(prev)))
			}
			last[k] = now
		}
		mu.Unlock()
		return consumer.ConsumeRetryLater, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	waitFor(t, 120*time.Second, "every delivery", func() bool { return got.total() >= msgs*(maxRecon+1) })

	dlq := newCollector()
	subscribeWhenRouted(t, ns, rmqtest.Name(t, "DLQ"), minirocketmq.DLQTopic(group), dlq.handle)
	waitFor(t, 60*time.Second, "the dead letters", func() bool { return dlq.len() == msgs })

	got.mu.Lock()
	for k, rcs := range got.rcs {
		want := []int32{0, 1, 2, 3}
		if fmt.Sprint(rcs) != fmt.Sprint(want) {
			t.Errorf("message %s delivered with reconsume times %v, want %v", k, rcs, want)
		}
	}
	got.mu.Unlock()
	mu.Lock()
	if len(early) > 0 {
		t.Errorf("redelivered before the back-off of %v: %v", backoff, early)
	}
	if len(late) > 0 {
		t.Errorf("redelivered later than the back-off of %v + %v: %v", backoff, margin, late)
	}
	mu.Unlock()

	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	if dlq.dups != 0 {
		t.Errorf("%d duplicates in the DLQ", dlq.dups)
	}
	for i := range msgs {
		k := strconv.Itoa(i)
		m := dlq.got[k]
		if m == nil {
			t.Fatalf("message %s not in the DLQ: %v", k, dlq.keys())
		}
		if string(m.Body) != "body-"+k || m.GetKeys() != "key-"+k || m.GetTags() != "TagR" || m.GetProperty("color") != "red" {
			t.Errorf("dead letter %s: body %q keys %q tags %q color %q", k, m.Body, m.GetKeys(), m.GetTags(), m.GetProperty("color"))
		}
		if m.MsgId != sent[k].MsgID {
			t.Errorf("dead letter %s: msg id %s, sent as %s", k, m.MsgId, sent[k].MsgID)
		}
		if m.GetProperty(message.PropertyRetryTopic) != topic || m.GetProperty(message.PropertyOriginMessageID) == "" {
			t.Errorf("dead letter %s: RETRY_TOPIC %q ORIGIN_MESSAGE_ID %q", k, m.GetProperty(message.PropertyRetryTopic), m.GetProperty(message.PropertyOriginMessageID))
		}
		if m.ReconsumeTimes != maxRecon+1 {
			t.Errorf("dead letter %s: reconsume times %d, want %d", k, m.ReconsumeTimes, maxRecon+1)
		}
	}
	if b != nil {
		if tc, ok := b.Topic(minirocketmq.DLQTopic(group)); !ok || tc.Perm != minirocketmq.PermRead|minirocketmq.PermWrite || tc.ReadQueueNums != 1 {
			t.Errorf("DLQ topic %+v", tc)
		}
	}
}

// TestRetryFallbackSend: when CONSUMER_SEND_MSG_BACK fails, the Go client
// sends the message to %RETRY%<group> itself (SEND_MESSAGE with DELAY = 3 +
// reconsume times and reconsumeTimes + 1); the broker delays it like a
// send-back and turns it into a dead letter once reconsumeTimes reaches the
// maximum, as the real broker's handleRetryAndDLQ does (one delivery fewer
// than through CONSUMER_SEND_MSG_BACK, which compares before the +1).
func TestRetryFallbackSend(t *testing.T) {
	ns, b := rmqtest.Start(t, fastLevels())
	if b == nil {
		t.Skip("needs the embedded broker to fail CONSUMER_SEND_MSG_BACK")
	}
	refused := 0
	var mu sync.Mutex
	b.Control(remoting.ConsumerSendMsgBack, func(req *minirocketmq.Request) *remoting.Command {
		mu.Lock()
		refused++
		mu.Unlock()
		return remoting.NewResponse(req.Command, remoting.SystemError, "refused by the test")
	})
	const maxRecon = 3
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)
	if _, err := p.SendSync(context.Background(), newMsg(topic, "fallback", "f")); err != nil {
		t.Fatal(err)
	}
	var got attempts
	c := newPushConsumer(t, ns, group, consumer.WithMaxReconsumeTimes(maxRecon))
	err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range ms {
			got.add(m)
		}
		return consumer.ConsumeRetryLater, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	waitFor(t, 60*time.Second, "the dead letter", func() bool { return b.MaxOffset(minirocketmq.DLQTopic(group), 0) == 1 })
	got.mu.Lock()
	if rcs := got.rcs["f"]; fmt.Sprint(rcs) != "[0 1 2]" {
		t.Errorf("delivered with reconsume times %v, want [0 1 2]", rcs)
	}
	got.mu.Unlock()
	mu.Lock()
	if refused != maxRecon {
		t.Errorf("%d send-backs, want %d", refused, maxRecon)
	}
	mu.Unlock()
	dead, err := b.Messages(minirocketmq.DLQTopic(group), 0)
	if err != nil {
		t.Fatal(err)
	}
	props := message.ParseProperties(dead[0].Properties)
	if string(dead[0].Body) != "fallback" || props["idx"] != "f" || props[message.PropertyRetryTopic] != topic || props[message.PropertyDelayTimeLevel] != "" {
		t.Errorf("dead letter body %q properties %v", dead[0].Body, props)
	}
}

// TestRetryTopicRoutedFromStart: the name server routes %RETRY% and %DLQ%
// topics from the first request, so a consumer that routes its retry topic
// on Start pulls it at once (the real broker creates it on the group's
// first heartbeat, which the client's routes see up to 30 s later); the
// route query creates nothing (only the real broker's paths create them),
// and a pull of such a topic before it exists finds an empty queue.
func TestRetryTopicRoutedFromStart(t *testing.T) {
	ns, b := rmqtest.Start(t)
	if b == nil {
		t.Skip("the real broker does not route a retry topic before the group's first heartbeat")
	}
	c := dial(t, ns)
	for _, topic := range []string{"%RETRY%NewGroup", "%DLQ%NewGroup", "%RETRY%ns%NewGroup"} {
		resp := invoke(t, c, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", topic))
		if resp.Code != remoting.Success {
			t.Errorf("route of %s: code %d %s", topic, resp.Code, resp.Remark)
		}
		var route struct {
			QueueDatas []struct {
				ReadQueueNums, WriteQueueNums, Perm int
			} `json:"queueDatas"`
		}
		if err := json.Unmarshal(resp.Body, &route); err != nil || len(route.QueueDatas) != 1 ||
			route.QueueDatas[0].ReadQueueNums != 1 || route.QueueDatas[0].Perm != minirocketmq.PermRead|minirocketmq.PermWrite {
			t.Errorf("route of %s: %s (%v)", topic, resp.Body, err)
		}
		if tc, ok := b.Topic(topic); ok {
			t.Errorf("the route query created %s: %+v", topic, tc)
		}
	}
	pull := invoke(t, dial(t, b.BrokerAddr()), remoting.NewRequest(remoting.PullMessage,
		"consumerGroup", "NewGroup", "topic", "%RETRY%NewGroup", "queueId", "0", "queueOffset", "0", "maxMsgNums", "32",
		"sysFlag", "4", "commitOffset", "0", "suspendTimeoutMillis", "0", "subscription", "*", "subVersion", "0", "expressionType", "TAG"))
	if pull.Code != remoting.PullNotFound {
		t.Errorf("pull of a retry topic that does not exist yet: code %d %s", pull.Code, pull.Remark)
	}
	for _, topic := range []string{"%RETRY%", "%DLQ%", "NoSuchTopic", "%RETRY%bad name"} {
		if resp := invoke(t, c, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", topic)); resp.Code != remoting.TopicNotExist {
			t.Errorf("route of %q: code %d, want TOPIC_NOT_EXIST", topic, resp.Code)
		}
	}
	var names []string
	for _, tc := range b.Topics() {
		names = append(names, tc.TopicName)
	}
	sort.Strings(names)
	if i := sort.SearchStrings(names, "NoSuchTopic"); i < len(names) && names[i] == "NoSuchTopic" {
		t.Error("an unknown plain topic was created by a route request")
	}
}

// TestRetryBackoffManualClock: a message the consumer hands back with
// delay level 1 (10 s on the broker's manual clock) is redelivered neither
// before the clock has passed 10 s nor long after: once the clock is past
// it, the redelivery arrives within a generous 10 s of real time.
func TestRetryBackoffManualClock(t *testing.T) {
	skipExternal(t)
	clk := minirocketmq.NewManualClock(time.Now())
	b := runBroker(t, minirocketmq.WithClock(clk), minirocketmq.WithDelayLevels(10*time.Second, time.Hour))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, b.Addr())
	deliveries := make(chan int32, 4)
	c := newPushConsumer(t, b.Addr(), group)
	if err := c.Subscribe(topic, consumer.MessageSelector{}, func(ctx context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range ms {
			deliveries <- m.ReconsumeTimes
		}
		if ms[0].ReconsumeTimes == 0 {
			cc, _ := primitive.GetConcurrentlyCtx(ctx)
			cc.DelayLevelWhenNextConsume = 1
			return consumer.ConsumeRetryLater, nil
		}
		return consumer.ConsumeSuccess, nil
	}); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	if _, err := p.SendSync(context.Background(), newMsg(topic, "x", "0")); err != nil {
		t.Fatal(err)
	}
	select {
	case rc := <-deliveries:
		if rc != 0 {
			t.Fatalf("first delivery with reconsume times %d", rc)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("not delivered")
	}
	waitFor(t, 30*time.Second, "the message handed back", func() bool { return b.MaxOffset(minirocketmq.ScheduleTopic, 0) == 1 })
	clk.Advance(10 * time.Second) // due 1 ms later
	select {
	case rc := <-deliveries:
		t.Fatalf("redelivered (reconsume times %d) before the back-off", rc)
	case <-time.After(500 * time.Millisecond):
	}
	clk.Advance(time.Millisecond)
	select {
	case rc := <-deliveries:
		if rc != 1 {
			t.Fatalf("redelivered with reconsume times %d", rc)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not redelivered within 10 s once the back-off had passed")
	}
}
