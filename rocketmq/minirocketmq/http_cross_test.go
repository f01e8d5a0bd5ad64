package minirocketmq_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestHTTPCrossProtocolRemotingToHTTP: what the v2 remoting client sends
// (a compressed body and a binary one included) is consumed over HTTP with
// its id, tag, keys and properties; the binary body arrives base64 with the
// marker property.
func TestHTTPCrossProtocolRemotingToHTTP(t *testing.T) {
	b := startHTTP(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID")
	if err := b.CreateTopic(topic, 4); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, b.Addr())
	binary := string([]byte{0, 1, 2, 0xff, 0xfe})
	big := strings.Repeat("compress me ", 1000) // over the client's 4 KiB compression threshold
	want := map[string]string{}
	for _, body := range []string{"hello", big, binary} {
		res, err := p.SendSync(ctxT(t, 10*time.Second), remotingMessage(topic, body))
		if err != nil {
			t.Fatal(err)
		}
		want[res.MsgID] = body
	}
	c := newHTTPClient(t, b)
	var got []gotMsg
	waitFor(t, 10*time.Second, "3 messages over HTTP", func() bool {
		got = append(got, c.messages(c.consume(topic, group, "waitseconds", "1"))...)
		return len(got) >= 3
	})
	for _, m := range got {
		body, ok := want[m.MessageID]
		p := m.props()
		text := m.MessageBody
		if p["__BODYENCODING"] == "base64" {
			dec, err := base64.StdEncoding.DecodeString(text)
			if err != nil {
				t.Fatal(err)
			}
			text = string(dec)
		}
		switch {
		case !ok:
			t.Fatalf("message id %s is not one the remoting producer got", m.MessageID)
		case text != body:
			t.Fatalf("body of %s: %q..., want %q...", m.MessageID, text[:min(len(text), 10)], body[:min(len(body), 10)])
		case (body == binary) != (p["__BODYENCODING"] == "base64"):
			t.Fatalf("encoding marker %q for %q", p["__BODYENCODING"], body[:min(len(body), 10)])
		case m.MessageTag != "tagX" || p["KEYS"] != "key1 key2" || p["color"] != "blue":
			t.Fatalf("message %+v", m)
		}
		if r := c.ack(topic, group, "", m.ReceiptHandle); r.status != http.StatusNoContent {
			t.Fatalf("ack: %d %s", r.status, r.body)
		}
	}
}

// TestHTTPCrossProtocolHTTPToRemoting: what is published over HTTP (a
// base64-marked binary body included) is consumed by the v2 remoting push
// consumer with its tag, keys, properties, sharding key and id, and by a
// gRPC consumer.
func TestHTTPCrossProtocolHTTPToRemoting(t *testing.T) {
	b := startHTTP(t, minirocketmq.WithGRPCAddr("127.0.0.1:0"))
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 4); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	binary := []byte{0, 1, 2, 0xff}
	text := c.publish(topic, pubMsg{Body: "from HTTP", Tag: "tagH", Properties: "KEYS:k1 k2|source:http|__SHARDINGKEY:g1|"})
	bin := c.publish(topic, pubMsg{Body: base64.StdEncoding.EncodeToString(binary), Tag: "tagH", Properties: "KEYS:k1 k2|source:http|__BODYENCODING:base64|"})
	sent := map[string][]byte{text.MessageID: []byte("from HTTP"), bin.MessageID: binary}
	for _, m := range consumeRemoting(t, b.Addr(), rmqtest.Name(t, "G"), topic, 2) {
		body, ok := sent[m.MsgId]
		switch {
		case !ok:
			t.Fatalf("remoting consumer got id %s, not one published", m.MsgId)
		case !bytes.Equal(m.Body, body):
			t.Fatalf("body %q, want %q", m.Body, body)
		case m.GetTags() != "tagH" || m.GetKeys() != "k1 k2" || m.GetProperty("source") != "http" || m.GetProperty("__BODYENCODING") != "":
			t.Fatalf("message %v", m)
		}
	}
	g := dialV5(t, b)
	group := rmqtest.Name(t, "GV5")
	g.consumer(group, topic)
	for _, m := range g.receiveN(group, topic, 2) {
		if _, ok := sent[m.GetSystemProperties().GetMessageId()]; !ok || m.GetSystemProperties().GetTag() != "tagH" {
			t.Fatalf("gRPC consumer got %v", m)
		}
	}
}

// TestHTTPCrossProtocolGRPCToHTTP: a gRPC send is consumed over HTTP.
func TestHTTPCrossProtocolGRPCToHTTP(t *testing.T) {
	b := startHTTP(t, minirocketmq.WithGRPCAddr("127.0.0.1:0"))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID")
	if err := b.CreateTopic(topic, 2); err != nil {
		t.Fatal(err)
	}
	prod := dialV5(t, b)
	prod.producer(topic)
	tag := "tagG"
	id := prod.mustSend(prod.newMsg(topic, "from gRPC", func(m *v2.Message) {
		m.SystemProperties.Tag = &tag
		m.UserProperties = map[string]string{"source": "grpc"}
	})).GetMessageId()
	c := newHTTPClient(t, b)
	msgs := c.messages(c.consume(topic, group, "waitseconds", "3"))
	if len(msgs) != 1 || msgs[0].MessageID != id || msgs[0].MessageBody != "from gRPC" || msgs[0].MessageTag != tag || msgs[0].props()["source"] != "grpc" {
		t.Fatalf("HTTP got %+v, want the gRPC message %s", msgs, id)
	}
}

// TestHTTPNamespace: the instance id is the namespace, shared with the
// remoting client's WithNamespace.
func TestHTTPNamespace(t *testing.T) {
	b := startHTTP(t)
	ns, topic := "MQ_INST_test", rmqtest.Name(t, "T")
	if err := b.CreateTopic(ns+"%"+topic, 2); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	c.ns = ns
	id := c.publish(topic, pubMsg{Body: "namespaced"}).MessageID
	got := consumeRemotingNS(t, b.Addr(), ns, rmqtest.Name(t, "G"), topic)
	if got.MsgId != id || string(got.Body) != "namespaced" {
		t.Fatalf("remoting consumer in the namespace got %v", got)
	}
	plain := newHTTPClient(t, b)
	if r := plain.publishRaw(topic, pubMsg{Body: "no namespace"}); r.code() != "TopicNotExist" {
		t.Fatalf("publish without the instance id: %d %s", r.status, r.body)
	}
}

// consumeRemotingNS consumes one message of topic in namespace ns.
func consumeRemotingNS(t testing.TB, addr, ns, group, topic string) *primitive.MessageExt {
	t.Helper()
	got := make(chan *primitive.MessageExt, 4)
	c := newPushConsumer(t, addr, group, consumer.WithNamespace(ns), consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset))
	if err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			got <- m
		}
		return consumer.ConsumeSuccess, nil
	}); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	select {
	case m := <-got:
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("nothing consumed in the namespace")
		return nil
	}
}

// TestHTTPTransaction: a half message is invisible until committed;
// rolled back it never shows; left undecided it is handed to the producer
// by a trans=pop consume once its check time has come, and committed with
// that handle. Each such delivery counts as a check.
func TestHTTPTransaction(t *testing.T) {
	clk := minirocketmq.NewManualClock(time.Now())
	b := startHTTP(t, minirocketmq.WithClock(clk), minirocketmq.WithTransactionCheckInterval(time.Minute))
	topic, group, producerGroup := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID"), rmqtest.Name(t, "GID_P")
	if err := b.CreateTopic(topic, 2); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	commit := c.publish(topic, pubMsg{Body: "commit me", Properties: "__TransCheckT:10|"})
	rollback := c.publish(topic, pubMsg{Body: "roll me back", Properties: "__TransCheckT:10|"})
	undecided := c.publish(topic, pubMsg{Body: "decide later", Tag: "t", Properties: "__TransCheckT:20|KEYS:u-1|"})
	if commit.ReceiptHandle == "" || b.PendingTransactions() != 3 {
		t.Fatalf("half messages: %+v, pending %d", commit, b.PendingTransactions())
	}
	if msgs := c.messages(c.consume(topic, group)); len(msgs) != 0 {
		t.Fatalf("half messages visible: %+v", msgs)
	}
	if r := c.ack(topic, producerGroup, "commit", commit.ReceiptHandle); r.status != http.StatusNoContent {
		t.Fatalf("commit: %d %s", r.status, r.body)
	}
	if r := c.ack(topic, producerGroup, "rollback", rollback.ReceiptHandle); r.status != http.StatusNoContent {
		t.Fatalf("rollback: %d %s", r.status, r.body)
	}
	if r := c.ack(topic, producerGroup, "commit", commit.ReceiptHandle); ackErrors(t, r)[commit.ReceiptHandle] != "ReceiptHandleError" {
		t.Fatalf("second commit: %d %s", r.status, r.body)
	}
	msgs := c.messages(c.consume(topic, group, "waitseconds", "3"))
	if len(msgs) != 1 || msgs[0].MessageID != commit.MessageID {
		t.Fatalf("after commit and rollback: %+v", msgs)
	}
	half := func() []gotMsg { return c.messages(c.consume(topic, producerGroup, "trans", "pop")) }
	if h := half(); len(h) != 0 {
		t.Fatalf("half message handed out before its check time: %+v", h)
	}
	clk.Advance(21 * time.Second)
	h := half()
	if len(h) != 1 || h[0].MessageID != undecided.MessageID || h[0].ConsumedTimes != 1 || h[0].MessageBody != "decide later" ||
		h[0].MessageTag != "t" || h[0].props()["KEYS"] != "u-1" || h[0].props()["__TransCheckT"] != "20" {
		t.Fatalf("half message to check: %+v", h)
	}
	if again := half(); len(again) != 0 {
		t.Fatalf("checked again before the check interval: %+v", again)
	}
	clk.Advance(61 * time.Second)
	h = half()
	if len(h) != 1 || h[0].ConsumedTimes != 2 {
		t.Fatalf("second check: %+v", h)
	}
	if r := c.ack(topic, producerGroup, "commit", h[0].ReceiptHandle); r.status != http.StatusNoContent {
		t.Fatalf("commit by the checked handle: %d %s", r.status, r.body)
	}
	msgs = c.messages(c.consume(topic, group, "waitseconds", "3"))
	if len(msgs) != 1 || msgs[0].MessageID != undecided.MessageID || b.PendingTransactions() != 0 {
		t.Fatalf("after the checked commit: %+v, pending %d", msgs, b.PendingTransactions())
	}
}

// TestHTTPCloseEndsLongPolls: Close answers waiting consumes and leaves no
// goroutine of the endpoint behind.
func TestHTTPCloseEndsLongPolls(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("the HTTP endpoint is the embedded broker's")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		// net/http's client keeps idle connections' goroutines until they close.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
	b, err := minirocketmq.Run(minirocketmq.WithHTTPAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	var wg sync.WaitGroup
	codes := make(chan int, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 2 {
				codes <- c.consume(topic, "GID_half", "trans", "pop", "waitseconds", "30").status
				return
			}
			codes <- c.consume(topic, "GID_wait", "waitseconds", "30").status
		}()
	}
	waitFor(t, 10*time.Second, "the consumes to wait", func() bool { return b.PopWaiting(topic) })
	time.Sleep(100 * time.Millisecond) // let the half-message consume start its wait too
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusServiceUnavailable {
			t.Errorf("waiting consume answered %d at Close, want 503", code)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
