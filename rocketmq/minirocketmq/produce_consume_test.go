package minirocketmq_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

var offsetMsgIDPattern = regexp.MustCompile(`^[0-9A-F]{32}$`)

// TestSyncSendPushConsume: 1,000 messages sent with SendSync arrive at one
// push consumer with body, keys, tag, user properties and ids intact.
func TestSyncSendPushConsume(t *testing.T) {
	ns, b := rmqtest.Start(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)

	const n = 1000
	type sent struct{ msgID, offsetMsgID string }
	sentByIdx := make([]sent, n)
	for i := range n {
		m := primitive.NewMessage(topic, []byte(fmt.Sprintf("body-%d", i)))
		m.WithKeys([]string{fmt.Sprintf("key-%d", i), fmt.Sprintf("alt-%d", i)})
		m.WithTag("TagA")
		m.WithProperty("idx", strconv.Itoa(i))
		m.WithProperty("color", "blue")
		res, err := p.SendSync(context.Background(), m)
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if res.Status != primitive.SendOK {
			t.Fatalf("send %d: status %v", i, res.Status)
		}
		if res.MsgID == "" || !offsetMsgIDPattern.MatchString(res.OffsetMsgID) {
			t.Fatalf("send %d: ids %q / %q", i, res.MsgID, res.OffsetMsgID)
		}
		sentByIdx[i] = sent{res.MsgID, res.OffsetMsgID}
	}
	if b != nil {
		// The offset message id names the advertised broker address.
		id, err := primitive.UnmarshalMsgID([]byte(sentByIdx[0].offsetMsgID))
		if err != nil {
			t.Fatalf("parse offset msg id: %v", err)
		}
		if got := fmt.Sprintf("%s:%d", id.Addr, id.Port); got != b.AdvertisedAddr() {
			t.Fatalf("offset msg id address %s, want %s", got, b.AdvertisedAddr())
		}
	}

	var (
		mu   sync.Mutex
		got  = make(map[int]*primitive.MessageExt)
		dups int
	)
	c := newPushConsumer(t, ns, group)
	err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			i, err := strconv.Atoi(m.GetProperty("idx"))
			if err != nil {
				t.Errorf("message without idx: %v", m)
				continue
			}
			if got[i] != nil {
				dups++
			}
			got[i] = m
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	startConsumer(t, c)
	waitFor(t, 60*time.Second, "all messages consumed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})

	mu.Lock()
	defer mu.Unlock()
	if dups != 0 {
		t.Errorf("%d duplicate deliveries", dups)
	}
	for i := range n {
		m := got[i]
		if string(m.Body) != fmt.Sprintf("body-%d", i) {
			t.Fatalf("message %d: body %q", i, m.Body)
		}
		if want := fmt.Sprintf("key-%d alt-%d", i, i); m.GetKeys() != want {
			t.Fatalf("message %d: keys %q, want %q", i, m.GetKeys(), want)
		}
		if m.GetTags() != "TagA" || m.GetProperty("color") != "blue" {
			t.Fatalf("message %d: tags %q color %q", i, m.GetTags(), m.GetProperty("color"))
		}
		if m.Topic != topic {
			t.Fatalf("message %d: topic %q", i, m.Topic)
		}
		if m.MsgId != sentByIdx[i].msgID || m.OffsetMsgId != sentByIdx[i].offsetMsgID {
			t.Fatalf("message %d: ids %s/%s, sent %s/%s", i, m.MsgId, m.OffsetMsgId, sentByIdx[i].msgID, sentByIdx[i].offsetMsgID)
		}
		if m.StoreTimestamp == 0 || m.BornTimestamp == 0 || m.StoreTimestamp < m.BornTimestamp-1000 {
			t.Fatalf("message %d: born %d stored %d", i, m.BornTimestamp, m.StoreTimestamp)
		}
	}
}
