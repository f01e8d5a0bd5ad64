package minirocketmq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

const aclFrame = ", org.apache.rocketmq.acl.plain.PlainPermissionManager."

// aclBroker starts a broker with ACL: account "app-client" may publish and
// subscribe to everything but topic ReadOnly_<test> (SUB only) and group
// NoSub_<test> (PUB only).
func aclBroker(t *testing.T) (*minirocketmq.Broker, string, string) {
	t.Helper()
	skipExternal(t) // the shared real broker runs without ACL
	readOnly, noSub := rmqtest.Name(t, "ReadOnly"), rmqtest.Name(t, "NoSub")
	v, err := acl.Parse([]byte(fmt.Sprintf(`
accounts:
  - accessKey: app-client
    secretKey: app-secret-1
    defaultTopicPerm: PUB|SUB
    defaultGroupPerm: SUB
    topicPerms:
      - %s=SUB
    groupPerms:
      - %s=PUB
`, readOnly, noSub)))
	if err != nil {
		t.Fatal(err)
	}
	return minirocketmq.RunT(t, minirocketmq.WithACL(v)), readOnly, noSub
}

func creds(secret string) primitive.Credentials {
	return primitive.Credentials{AccessKey: "app-client", SecretKey: secret}
}

// TestACLRightCredentials: the official client with the right credentials
// sends and consumes through an ACL broker.
func TestACLRightCredentials(t *testing.T) {
	b, _, _ := aclBroker(t)
	topic := rmqtest.Name(t, "T")
	p := newProducer(t, b.Addr(), producer.WithCredentials(creds("app-secret-1")))
	for i := range 5 {
		if _, err := p.SendSync(ctxT(t, 10*time.Second), primitive.NewMessage(topic, []byte(fmt.Sprint(i)))); err != nil {
			t.Fatalf("send with the right credentials: %v", err)
		}
	}
	var got atomic.Int64
	c := newPushConsumer(t, b.Addr(), rmqtest.Name(t, "CG"), consumer.WithCredentials(creds("app-secret-1")))
	if err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		got.Add(int64(len(msgs)))
		return consumer.ConsumeSuccess, nil
	}); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	waitFor(t, 30*time.Second, "5 messages consumed", func() bool { return got.Load() == 5 })
}

// TestACLRefusedSends: wrong secret, no credentials, a topic without PUB:
// each send fails with the real broker's code and remark, and nothing is
// stored.
func TestACLRefusedSends(t *testing.T) {
	b, readOnly, _ := aclBroker(t)
	tests := []struct {
		name   string
		opts   []producer.Option
		topic  string
		remark string
	}{
		{"wrong secret", []producer.Option{producer.WithCredentials(creds("wrong-secret"))}, rmqtest.Name(t, "T"),
			"org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=app-client" + aclFrame + "validate(PlainPermissionManager.java:683)"},
		{"no credentials", nil, rmqtest.Name(t, "T"),
			"org.apache.rocketmq.acl.common.AclException: No accessKey is configured" + aclFrame + "validate(PlainPermissionManager.java:663)"},
		{"topic without PUB", []producer.Option{producer.WithCredentials(creds("app-secret-1"))}, readOnly,
			"org.apache.rocketmq.acl.common.AclException: No default permission for topic:" + readOnly + aclFrame + "checkPerm(PlainPermissionManager.java:610)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newProducer(t, b.Addr(), append(tc.opts, producer.WithRetry(0))...)
			_, err := p.SendSync(ctxT(t, 10*time.Second), primitive.NewMessage(tc.topic, []byte("x")))
			// The client reports a broker's refusal of a send as "CODE: n, DESC: remark".
			if err == nil || err.Error() != "CODE: 1, DESC: "+tc.remark {
				t.Fatalf("send: %v\nwant CODE: 1, DESC: %s", err, tc.remark)
			}
			assertNothingStored(t, b, tc.topic)
		})
	}
}

func assertNothingStored(t *testing.T, b *minirocketmq.Broker, topic string) {
	t.Helper()
	for q := range 16 {
		if n := b.MaxOffset(topic, q); n != 0 {
			t.Fatalf("%d message(s) stored in %s/%d after a refused send", n, topic, q)
		}
	}
	if _, ok := b.Topic(topic); ok {
		t.Fatalf("a refused send created topic %s", topic)
	}
}

// TestACLRefusedRequests checks what the official client cannot be made to
// send: a request without a signature, and a pull and an offset commit by a
// group without SUB, as signed requests of our own remoting client.
func TestACLRefusedRequests(t *testing.T) {
	b, _, noSub := aclBroker(t)
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 10*time.Second)
	nc, err := remoting.Dial(ctx, b.BrokerAddr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sign := func(req *remoting.Command) *remoting.Command {
		req.Set("AccessKey", "app-client")
		req.Set("Signature", acl.Sign(req, "app-secret-1", false))
		return req
	}
	send := func() *remoting.Command {
		r := remoting.NewRequest(remoting.SendMessage, "producerGroup", "PG", "topic", topic, "defaultTopic", "TBW102",
			"defaultTopicQueueNums", "4", "queueId", "0", "sysFlag", "0", "bornTimestamp", "1", "flag", "0", "properties", "")
		r.Body = []byte("x")
		return r
	}
	noSignature := send()
	noSignature.Set("AccessKey", "app-client")
	tests := []struct {
		name   string
		req    *remoting.Command
		remark string
	}{
		{"missing signature", noSignature,
			"org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=app-client" + aclFrame + "validate(PlainPermissionManager.java:683)"},
		{"pull by a group without SUB", sign(remoting.NewRequest(remoting.PullMessage, "consumerGroup", noSub, "topic", topic,
			"queueId", "0", "queueOffset", "0", "maxMsgNums", "32", "sysFlag", "0", "commitOffset", "0",
			"suspendTimeoutMillis", "0", "subVersion", "0")),
			"org.apache.rocketmq.acl.common.AclException: No default permission for group:" + noSub + aclFrame + "checkPerm(PlainPermissionManager.java:610)"},
		{"offset commit by a group without SUB", sign(remoting.NewRequest(remoting.UpdateConsumerOffset, "consumerGroup", noSub, "topic", topic,
			"queueId", "0", "commitOffset", "7")),
			"org.apache.rocketmq.acl.common.AclException: No default permission for group:" + noSub + aclFrame + "checkPerm(PlainPermissionManager.java:610)"},
		{"create topic without admin", sign(remoting.NewRequest(remoting.UpdateAndCreateTopic, "topic", rmqtest.Name(t, "New"),
			"defaultTopic", "TBW102", "readQueueNums", "1", "writeQueueNums", "1", "perm", "6", "topicFilterType", "SINGLE_TAG", "topicSysFlag", "0", "order", "false")),
			"org.apache.rocketmq.acl.common.AclException: Need admin permission for request code=17, but accessKey=app-client is not" + aclFrame + "checkPerm(PlainPermissionManager.java:580)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := nc.Invoke(ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Code != remoting.SystemError || resp.Remark != tc.remark {
				t.Fatalf("code %d remark %q\nwant code 1 remark %q", resp.Code, resp.Remark, tc.remark)
			}
		})
	}
	if n := b.MaxOffset(topic, 0); n != 0 {
		t.Fatalf("%d message(s) stored", n)
	}
	if _, ok := b.ConsumerOffset(noSub, topic, 0); ok {
		t.Fatal("a refused offset commit was stored")
	}
	// The same requests, signed and allowed, go through.
	resp, err := nc.Invoke(ctx, sign(send()))
	if err != nil || resp.Code != remoting.Success {
		t.Fatalf("signed send: %v %+v", err, resp)
	}
	// A heartbeat of the refused group is refused too; the real broker
	// logs it, the client retries every 30 s.
	hb, _ := json.Marshal(map[string]any{"clientID": "c", "consumerDataSet": []map[string]any{{"groupName": noSub, "subscriptionDataSet": []map[string]any{{"topic": topic}}}}})
	req := remoting.NewRequest(remoting.HeartBeat)
	req.Body = hb
	resp, err = nc.Invoke(ctx, sign(req))
	if err != nil || resp.Code != remoting.SystemError || !strings.Contains(resp.Remark, "No default permission for group:"+noSub) {
		t.Fatalf("heartbeat of a group without SUB: %v %+v", err, resp)
	}
}
