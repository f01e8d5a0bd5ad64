package minirocketmq_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Panic isolation of the code that serves a request off the connection's
// reader, and (grpc_recover_test.go, http_recover_test.go) of the other
// endpoints. The bug is planted in the store (panicStore), which every
// endpoint reaches, so the broker needs no hook of its own for it.

// Topics whose store calls panic.
const (
	putBoomTopic = "BoomOnPut" // Put panics
	getBoomTopic = "BoomOnGet" // Get panics once there is a message to read
)

// panicStore is an in-memory store with a planted bug: Put of
// putBoomTopic panics, and so does a Get of getBoomTopic that would find a
// message (an empty queue is read fine, so a pull of it can be held).
type panicStore struct{ store.Store }

func newPanicStore() panicStore { return panicStore{store.NewMemory()} }

func (s panicStore) Put(msgs []*message.Message) error {
	if len(msgs) > 0 && msgs[0].Topic == putBoomTopic {
		var m map[string]int
		m["put"]++ // assignment to entry in nil map
	}
	return s.Store.Put(msgs)
}

func (s panicStore) Get(req *store.GetRequest) (store.GetResult, error) {
	if req.Topic == getBoomTopic && s.Store.MaxOffset(req.Topic, req.QueueID) > req.Offset {
		var m map[string]int
		m["get"]++
	}
	return s.Store.Get(req)
}

// wantPanicAnswer fails t unless resp is the SYSTEM_ERROR a panicking
// request with code gets.
func wantPanicAnswer(t *testing.T, resp *remoting.Command, code int16) {
	t.Helper()
	if resp.Code != remoting.SystemError || !strings.Contains(resp.Remark, fmt.Sprintf("internal error serving request code %d", code)) {
		t.Fatalf("code %d remark %q, want SYSTEM_ERROR of a panic in request code %d", resp.Code, resp.Remark, code)
	}
}

// TestHeldPullPanicClosesOnlyItsConnection: a held pull is answered on
// the goroutine of the send that woke it. When answering it panics, the
// pull gets SYSTEM_ERROR and its connection is closed; the send that woke
// it succeeds and its connection stays open.
func TestHeldPullPanicClosesOnlyItsConnection(t *testing.T) {
	skipExternal(t)
	b := runBroker(t, minirocketmq.WithStore(newPanicStore()))
	if err := b.CreateTopic(getBoomTopic, 1); err != nil {
		t.Fatal(err)
	}
	puller := dial(t, b.BrokerAddr())
	consumerHeartbeat(t, puller, "puller@1", "BoomG", getBoomTopic)
	answered := make(chan *remoting.Command, 1)
	go func() {
		req := pullRequest("BoomG", getBoomTopic, 0, 0, 1<<1 /* SUSPEND */, 20000)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := puller.Invoke(ctx, req)
		if err != nil {
			resp = remoting.NewResponse(req, -1, err.Error())
		}
		answered <- resp
	}()
	waitFor(t, 10*time.Second, "the pull to be held", func() bool { return b.Stats().HeldPulls == 1 })

	sender := dial(t, b.BrokerAddr())
	sendV1(t, sender, getBoomTopic, "wake up", "", 0) // fails the test unless SUCCESS
	select {
	case resp := <-answered:
		wantPanicAnswer(t, resp, remoting.PullMessage)
	case <-time.After(10 * time.Second):
		t.Fatal("the held pull was not answered within 10 s of the send that woke it")
	}
	waitClosed(t, puller, 5*time.Second, "the connection of the panicking pull")
	resp := invoke(t, sender, remoting.NewRequest(remoting.GetMaxOffset, "topic", getBoomTopic, "queueId", "0"))
	if resp.Code != remoting.Success || resp.Get("offset") != "1" {
		t.Fatalf("sender's connection after the panic: code %d %s offset %q, want SUCCESS, 1", resp.Code, resp.Remark, resp.Get("offset"))
	}
	if n := b.Stats().HandlerPanics; n != 1 {
		t.Fatalf("Stats().HandlerPanics = %d, want 1", n)
	}
}

// TestReplyPanicClosesOnlyItsConnection: SEND_REPLY_MESSAGE pushes and
// stores the reply on a goroutine of its own. When storing it panics, the
// replier gets SYSTEM_ERROR and its connection is closed; the process and
// every other connection go on.
func TestReplyPanicClosesOnlyItsConnection(t *testing.T) {
	skipExternal(t)
	b := runBroker(t, minirocketmq.WithStore(newPanicStore()))
	for _, topic := range []string{putBoomTopic, "ReplyFineT"} {
		if err := b.CreateTopic(topic, 1); err != nil {
			t.Fatal(err)
		}
	}
	other := dial(t, b.BrokerAddr())
	replier := dial(t, b.BrokerAddr())
	props := message.AppendProperty(nil, message.PropertyMsgType, "reply")
	props = message.AppendProperty(props, message.PropertyCorrelationID, "c-1")
	props = message.AppendProperty(props, message.PropertyReplyToClient, "10.1.2.3@gone")
	req := remoting.NewRequest(remoting.SendReplyMessage,
		"producerGroup", "ReplyPG", "topic", putBoomTopic, "defaultTopic", "TBW102", "defaultTopicQueueNums", "4",
		"queueId", "0", "sysFlag", "0", "bornTimestamp", strconv.FormatInt(time.Now().UnixMilli(), 10), "flag", "0",
		"properties", string(props), "reconsumeTimes", "0")
	req.Body = []byte("reply")
	wantPanicAnswer(t, invoke(t, replier, req), remoting.SendReplyMessage)
	waitClosed(t, replier, 5*time.Second, "the connection of the panicking reply")
	sendV1(t, other, "ReplyFineT", "still served", "", 0)
	if n := b.Stats().HandlerPanics; n != 1 {
		t.Fatalf("Stats().HandlerPanics = %d, want 1", n)
	}
}
