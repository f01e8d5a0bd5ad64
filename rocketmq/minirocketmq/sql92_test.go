package minirocketmq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestSQL92Consumer: a push consumer subscribed with "a > 5 AND b = 'x'"
// receives exactly the messages whose properties match: not those with a
// smaller a, another b, a missing property or an a that is no integer.
func TestSQL92Consumer(t *testing.T) {
	// The shared real broker runs with enablePropertyFilter=false.
	skipExternal(t)
	b := minirocketmq.RunT(t)
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil { // one queue: the sentinel comes last
		t.Fatal(err)
	}
	p := newProducer(t, b.Addr())
	var want []string
	send := func(id string, props map[string]string) {
		t.Helper()
		m := primitive.NewMessage(topic, []byte(id))
		m.WithProperties(props)
		if _, err := p.SendSync(ctxT(t, 10*time.Second), m); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		props := map[string]string{"a": fmt.Sprint(i % 10), "b": []string{"x", "y"}[i%2]}
		switch i % 7 {
		case 3:
			delete(props, "a")
		case 4:
			delete(props, "b")
		case 5:
			props["a"] = "7.5" // compared with an Integer: does not parse, no match
		}
		id := fmt.Sprint("m", i)
		send(id, props)
		if a, ok := props["a"]; ok && props["b"] == "x" && len(a) == 1 && a[0] > '5' {
			want = append(want, id)
		}
	}
	send("end", map[string]string{"a": "100", "b": "x"})
	want = append(want, "end")

	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	c := newPushConsumer(t, b.Addr(), rmqtest.Name(t, "CG"), consumer.WithConsumeGoroutineNums(1))
	err := c.Subscribe(topic, consumer.MessageSelector{Type: consumer.SQL92, Expression: "a > 5 AND b = 'x'"},
		func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				got = append(got, string(m.Body))
				if string(m.Body) == "end" {
					close(done)
				}
			}
			return consumer.ConsumeSuccess, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the last message never arrived; got %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("consumed %v\nwant     %v", got, want)
	}
}

// TestSQL92Refused: a bad expression is refused with the real broker's
// codes: FILTER_DATA_NOT_EXIST on pulls of a group that registered it by
// heartbeat (what the Go client gets), SUBSCRIPTION_PARSE_FAILED for one
// sent with the pull or checked with CHECK_CLIENT_CONFIG (what the Java
// client asks before it starts), with the Java cause as remark.
func TestSQL92Refused(t *testing.T) {
	skipExternal(t)
	b := minirocketmq.RunT(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 10*time.Second)
	nc, err := remoting.Dial(ctx, b.BrokerAddr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	invoke := func(req *remoting.Command) *remoting.Command {
		t.Helper()
		resp, err := nc.Invoke(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	const bad = "a > 'x'"
	hb, _ := json.Marshal(map[string]any{"clientID": "c1", "consumerDataSet": []map[string]any{{
		"groupName": group, "consumeType": "CONSUME_PASSIVELY", "messageModel": "CLUSTERING",
		"subscriptionDataSet": []map[string]any{{"topic": topic, "subString": bad, "expressionType": "SQL92", "subVersion": 1}},
	}}})
	req := remoting.NewRequest(remoting.HeartBeat)
	req.Body = hb
	if resp := invoke(req); resp.Code != remoting.Success {
		t.Fatalf("heartbeat: %+v", resp)
	}
	pull := func(flag int, expr string) *remoting.Command {
		return remoting.NewRequest(remoting.PullMessage, "consumerGroup", group, "topic", topic, "queueId", "0",
			"queueOffset", "0", "maxMsgNums", "32", "sysFlag", fmt.Sprint(flag), "commitOffset", "0",
			"suspendTimeoutMillis", "0", "subscription", expr, "subVersion", "0", "expressionType", "SQL92")
	}
	tests := []struct {
		name   string
		req    *remoting.Command
		code   int16
		remark string
	}{
		{"pull of the registered expression", pull(0, ""), remoting.FilterDataNotExist,
			"The broker's consumer filter data is not exist!Your expression may be wrong!"},
		{"pull carrying the expression", pull(4, bad), remoting.SubscriptionParseFailed, "parse the consumer's subscription failed"},
		{"check client config", checkClientConfig(group, topic, bad), remoting.SubscriptionParseFailed,
			"java.lang.RuntimeException: Value ''x'' cannot be compared."},
		{"check client config, good expression", checkClientConfig(group, topic, "a > 5"), remoting.Success, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := invoke(tc.req)
			if resp.Code != tc.code || resp.Remark != tc.remark {
				t.Fatalf("code %d remark %q, want %d %q", resp.Code, resp.Remark, tc.code, tc.remark)
			}
		})
	}

	off := minirocketmq.RunT(t, minirocketmq.WithPropertyFilter(false))
	nc2, err := remoting.Dial(ctx, off.BrokerAddr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	resp, err := nc2.Invoke(ctx, checkClientConfig(group, topic, "a > 5"))
	if err != nil || resp.Code != remoting.SystemError || resp.Remark != "The broker does not support consumer to filter message by SQL92" {
		t.Fatalf("SQL92 with property filtering off: %v %+v", err, resp)
	}
}

func checkClientConfig(group, topic, expr string) *remoting.Command {
	body, _ := json.Marshal(map[string]any{"clientId": "c1", "group": group,
		"subscriptionData": map[string]any{"topic": topic, "subString": expr, "expressionType": "SQL92"}})
	req := remoting.NewRequest(remoting.CheckClientConfig)
	req.Body = body
	return req
}
