package minirocketmq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// routeQueues returns the write queue count of topic in the name server's
// route, -1 when the topic has no route.
func routeQueues(t testing.TB, ns, topic string) int {
	t.Helper()
	resp := invoke(t, dial(t, ns), remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", topic))
	if resp.Code == remoting.TopicNotExist {
		return -1
	}
	if resp.Code != remoting.Success {
		t.Fatalf("route of %s: code %d %s", topic, resp.Code, resp.Remark)
	}
	var route struct {
		QueueDatas []struct {
			WriteQueueNums int `json:"writeQueueNums"`
		} `json:"queueDatas"`
	}
	if err := json.Unmarshal(resp.Body, &route); err != nil {
		t.Fatalf("route of %s: %v in %s", topic, err, resp.Body)
	}
	n := 0
	for _, q := range route.QueueDatas {
		n += q.WriteQueueNums
	}
	return n
}

// allTopicConfigs asks the broker for GET_ALL_TOPIC_CONFIG.
func allTopicConfigs(t testing.TB, addr string) map[string]struct {
	ReadQueueNums  int `json:"readQueueNums"`
	WriteQueueNums int `json:"writeQueueNums"`
	Perm           int `json:"perm"`
} {
	t.Helper()
	resp := invoke(t, dial(t, addr), remoting.NewRequest(remoting.GetAllTopicConfig))
	if resp.Code != remoting.Success {
		t.Fatalf("all topic config: code %d %s", resp.Code, resp.Remark)
	}
	var body struct {
		TopicConfigTable map[string]struct {
			ReadQueueNums  int `json:"readQueueNums"`
			WriteQueueNums int `json:"writeQueueNums"`
			Perm           int `json:"perm"`
		} `json:"topicConfigTable"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatalf("all topic config: %v", err)
	}
	return body.TopicConfigTable
}

// TestAdminCreateAndDeleteTopic: a topic created with the admin API (8
// queues by default) is in the route with 8 queues and in the broker's
// topic configs; sends reach all 8 queues; after DeleteTopic it is gone
// from both.
func TestAdminCreateAndDeleteTopic(t *testing.T) {
	ns, b := rmqtest.Start(t)
	topic := rmqtest.Name(t, "T")
	broker := brokerAddr(t, ns)
	a := newAdmin(t, ns)
	if err := a.CreateTopic(context.Background(), admin.WithTopicCreate(topic), admin.WithBrokerAddrCreate(broker)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the route to show 8 queues", func() bool { return routeQueues(t, ns, topic) == 8 })
	if cfg, ok := allTopicConfigs(t, broker)[topic]; !ok || cfg.ReadQueueNums != 8 || cfg.WriteQueueNums != 8 || cfg.Perm != 6 {
		t.Fatalf("broker topic config %+v (present %v)", cfg, ok)
	}

	p := newProducer(t, ns)
	queues := map[int]bool{}
	for i := range 16 {
		res, err := p.SendSync(context.Background(), newMsg(topic, "x", fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		queues[res.MessageQueue.QueueId] = true
	}
	if len(queues) != 8 {
		t.Fatalf("16 round-robin sends used queues %v", queues)
	}

	err := a.DeleteTopic(context.Background(), admin.WithTopicDelete(topic), admin.WithBrokerAddrDelete(broker), admin.WithNameSrvAddr([]string{ns}))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the route to disappear", func() bool { return routeQueues(t, ns, topic) == -1 })
	if _, ok := allTopicConfigs(t, broker)[topic]; ok {
		t.Fatal("topic still in the broker's configs")
	}
	if b != nil {
		for q := range 8 {
			if n := b.MaxOffset(topic, q); n != 0 {
				t.Fatalf("queue %d still has %d messages", q, n)
			}
		}
	}
}

// TestQueryAndViewMessage: QUERY_MESSAGE finds messages by key (and by
// client id with _UNIQUE_KEY_QUERY), VIEW_MESSAGE_BY_ID by the commit-log
// offset of an offset message id. The real broker indexes asynchronously,
// hence the polling.
func TestQueryAndViewMessage(t *testing.T) {
	ns := rmqtest.NameServer(t)
	topic := rmqtest.Name(t, "T")
	p := newProducer(t, ns)
	key := rmqtest.Name(t, "K")
	var sent []*primitive.SendResult
	for i := range 3 {
		m := newMsg(topic, fmt.Sprintf("body-%d", i), fmt.Sprint(i))
		m.WithKeys([]string{key, fmt.Sprintf("other-%d", i)})
		res, err := p.SendSync(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, res)
	}
	conn := dial(t, brokerAddr(t, ns))
	query := func(key string, unique bool) []*message.Message {
		req := remoting.NewRequest(remoting.QueryMessage, "topic", topic, "key", key, "maxNum", "32",
			"beginTimestamp", "0", "endTimestamp", fmt.Sprint(time.Now().Add(time.Hour).UnixMilli()))
		if unique {
			req.Set("_UNIQUE_KEY_QUERY", "true")
		}
		resp := invoke(t, conn, req)
		if resp.Code == remoting.QueryNotFound {
			return nil
		}
		if resp.Code != remoting.Success {
			t.Fatalf("query %s: code %d %s", key, resp.Code, resp.Remark)
		}
		return decodeRecords(t, resp.Body)
	}
	var found []*message.Message
	waitFor(t, 30*time.Second, "the key to be indexed", func() bool {
		found = query(key, false)
		return len(found) == 3
	})
	bodies := map[string]bool{}
	for _, m := range found {
		if !strings.Contains(" "+message.ParseProperties(m.Properties)["KEYS"]+" ", " "+key+" ") {
			t.Fatalf("query returned a message with keys %q", message.ParseProperties(m.Properties)["KEYS"])
		}
		bodies[string(m.Body)] = true
	}
	if len(bodies) != 3 {
		t.Fatalf("bodies %v", bodies)
	}
	if got := query("no-such-key-"+key, false); len(got) != 0 {
		t.Fatalf("unknown key found %d messages", len(got))
	}
	waitFor(t, 30*time.Second, "the client id to be indexed", func() bool {
		got := query(sent[1].MsgID, true)
		return len(got) == 1 && string(got[0].Body) == "body-1"
	})

	_, off, err := message.ParseOffsetMsgID(sent[2].OffsetMsgID)
	if err != nil {
		t.Fatal(err)
	}
	resp := invoke(t, conn, remoting.NewRequest(remoting.ViewMessageByID, "offset", fmt.Sprint(off)))
	if resp.Code != remoting.Success {
		t.Fatalf("view by id: code %d %s", resp.Code, resp.Remark)
	}
	if got := decodeRecords(t, resp.Body); len(got) != 1 || string(got[0].Body) != "body-2" || got[0].CommitLogOffset != off {
		t.Fatalf("view by id returned %+v", got)
	}
}

func decodeRecords(t testing.TB, recs []byte) []*message.Message {
	t.Helper()
	var out []*message.Message
	for len(recs) > 0 {
		m, n, err := message.DecodeRecord(recs)
		if err != nil {
			t.Fatalf("decode record: %v", err)
		}
		out = append(out, m)
		recs = recs[n:]
	}
	return out
}

// TestRefusedSends: what the real broker refuses is refused with its codes
// and remarks, surfaced by the client as "CODE: n, DESC: ...", and nothing
// is stored.
func TestRefusedSends(t *testing.T) {
	ns, b := rmqtest.Start(t)
	p := newProducer(t, ns)
	tests := []struct {
		name  string
		msg   *primitive.Message
		wants []string
	}{
		{
			name: "body over maxMessageSize",
			// Random bytes: the client compresses bodies of 4 KiB and more,
			// and random data does not shrink.
			msg:   primitive.NewMessage(rmqtest.Name(t, "T"), randomBytes(4<<20+1)),
			wants: []string{"CODE: 13", "msg body length limit 4194304B"},
		},
		{
			name:  "illegal topic name",
			msg:   primitive.NewMessage("bad topic!", []byte("x")),
			wants: []string{"CODE: 1", "The specified topic contains illegal characters"},
		},
		{
			name:  "topic clients may not send to",
			msg:   primitive.NewMessage("SCHEDULE_TOPIC_XXXX", []byte("x")),
			wants: []string{"CODE: 16", "Sending message to topic[SCHEDULE_TOPIC_XXXX] is forbidden."},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.SendSync(context.Background(), tc.msg)
			if err == nil {
				t.Fatal("send succeeded")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
			if b != nil {
				for q := range 18 {
					if n := b.MaxOffset(tc.msg.Topic, q); n != 0 {
						t.Fatalf("queue %d of %s has %d messages", q, tc.msg.Topic, n)
					}
				}
			}
		})
	}
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestAdminListings: FetchAllTopicList (name server) and
// GetAllSubscriptionGroup (broker) through the admin API.
func TestAdminListings(t *testing.T) {
	ns := rmqtest.NameServer(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)
	if _, err := p.SendSync(context.Background(), newMsg(topic, "x", "0")); err != nil {
		t.Fatal(err)
	}
	addr := brokerAddr(t, ns)
	consumerHeartbeat(t, dial(t, addr), "10.0.0.3@listing", group, topic)
	a := newAdmin(t, ns)

	waitFor(t, 30*time.Second, "the topic in the topic list", func() bool {
		list, err := a.FetchAllTopicList(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range list.TopicList {
			if name == topic {
				return true
			}
		}
		return false
	})
	groups, err := a.GetAllSubscriptionGroup(context.Background(), addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cfg, ok := groups.SubscriptionGroupTable[group]
	if !ok || !cfg.ConsumeEnable || cfg.RetryMaxTimes != 16 || cfg.RetryQueueNums != 1 {
		t.Fatalf("group config %+v (present %v)", cfg, ok)
	}
}
