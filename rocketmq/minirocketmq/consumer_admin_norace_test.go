//go:build !race

// The Go client races with itself when the broker asks it for its running
// info during a rebalance (ConsumerRunningInfo.Encode reads
// SubscriptionData.SubVersion while messageQueueChanged writes it), so the
// test that asks a Go consumer runs in the non-race pass only (make test:
// go test -run NoRace ./...).

package minirocketmq_test

import (
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestNoRaceConsumerRunningInfo: the broker asks a live Go consumer for its
// running info, through the Go API and relayed for an admin tool.
func TestNoRaceConsumerRunningInfo(t *testing.T) {
	ns, b := rmqtest.Start(t)
	if b == nil {
		t.Skip("uses the embedded broker's Go API")
	}
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)
	if _, err := p.SendSync(ctxT(t, 10*time.Second), newMsg(topic, "x", "1")); err != nil {
		t.Fatal(err)
	}
	col := consume(t, ns, group, topic, consumer.MessageSelector{})
	waitFor(t, 30*time.Second, "the message", func() bool { return col.len() == 1 })
	ids := b.ConsumerIDs(group)
	if len(ids) != 1 {
		t.Fatalf("consumer ids %v", ids)
	}
	// The Go client samples its rates every 10 s and cannot encode them
	// (NaN) while it has one sample, from 10 s to 20 s after its start;
	// ask now, and until it answers.
	var info *minirocketmq.ConsumerRunningInfo
	var err error
	waitFor(t, 20*time.Second, "the running info", func() bool {
		info, err = b.ConsumerRunningInfo(ctxT(t, 10*time.Second), group, ids[0])
		return err == nil
	})
	if info.Properties["PROP_CONSUME_TYPE"] != "CONSUME_PASSIVELY" || info.Properties["PROP_CONSUMEORDERLY"] != "false" {
		t.Errorf("running info properties %v", info.Properties)
	}
	subs := map[string]string{}
	for _, s := range info.Subscriptions {
		subs[s.Topic] = s.SubString
	}
	if subs[topic] != "*" || subs[minirocketmq.RetryTopic(group)] != "*" {
		t.Errorf("running info subscriptions %+v", info.Subscriptions)
	}
	var queues int
	for _, q := range info.Queues {
		if q.Topic == topic {
			queues++
			if q.BrokerName != minirocketmq.DefaultBrokerName {
				t.Errorf("running info queue %+v", q)
			}
		}
	}
	if queues != 4 {
		t.Errorf("running info has %d queues of %s: %+v", queues, topic, info.Queues)
	}
	if _, ok := info.Status[topic]; !ok {
		t.Errorf("running info status %v", info.Status)
	}

	// An admin tool asks the broker, which relays to the consumer.
	resp := invoke(t, dial(t, b.BrokerAddr()), remoting.NewRequest(remoting.GetConsumerRunningInfo,
		"consumerGroup", group, "clientId", ids[0], "jstackEnable", "false"))
	if resp.Code != remoting.Success || len(resp.Body) == 0 {
		t.Fatalf("relayed running info: code %d %s", resp.Code, resp.Remark)
	}
	if relayed, err := minirocketmq.ParseConsumerRunningInfo(resp.Body); err != nil || len(relayed.Queues) != len(info.Queues) {
		t.Fatalf("relayed running info: %v", err)
	}
}
