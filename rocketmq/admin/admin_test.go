package admin

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestProbe(t *testing.T) {
	ns := rmqtest.NameServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	topic := "probe_" + strings.ReplaceAll(t.Name(), "/", "_")
	rep := Probe(ctx, []string{ns}, []string{topic, "TBW102"})
	if !rep.OK() {
		t.Fatalf("probe of %s not OK: %v", ns, rep.Err())
	}
	if len(rep.NameServers[0].Brokers) == 0 || len(rep.Brokers) == 0 {
		t.Fatalf("no broker found: %+v", rep)
	}
	if r := rep.NameServers[0].Routes; r[topic] != nil || len(r["TBW102"]) == 0 {
		t.Errorf("routes = %v: want none for the unknown topic, one for TBW102", r)
	}
}

func TestProbeFindsUnreachableBroker(t *testing.T) {
	if os.Getenv("ROCKETMQ_NAMESRV") != "" {
		t.Skip("needs an embedded broker advertising a wrong address")
	}
	// The brokerIP1 pitfall: the name server hands out an address nobody listens on.
	b := minirocketmq.RunT(t, minirocketmq.WithAdvertisedAddr("127.0.0.1:1"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep := Probe(ctx, []string{b.Addr()}, nil)
	if rep.OK() {
		t.Fatal("probe OK although the advertised broker is unreachable")
	}
	if err := rep.Brokers["127.0.0.1:1"]; err == nil {
		t.Errorf("brokers = %v, want a dial error for 127.0.0.1:1", rep.Brokers)
	}
	if !strings.Contains(rep.Err().Error(), "127.0.0.1:1") {
		t.Errorf("Err() = %v, want the address named", rep.Err())
	}
}

func TestStandardJSON(t *testing.T) {
	in := `{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10912"},"brokerName":"broker-a","cluster":"DefaultCluster"}}}`
	var v struct {
		BrokerAddrTable map[string]brokerData `json:"brokerAddrTable"`
	}
	if err := json.Unmarshal(standardJSON([]byte(in)), &v); err != nil {
		t.Fatal(err)
	}
	if got := v.BrokerAddrTable["broker-a"].BrokerAddrs["0"]; got != "127.0.0.1:10911" {
		t.Errorf("master = %q", got)
	}
	std := `{"brokerAddrs":{"0":"10.0.0.1:10911"}}`
	if string(standardJSON([]byte(std))) != std {
		t.Error("standard JSON was changed")
	}
}

// TestEnsureAndDeleteTopics: EnsureTopics creates routed topics, DeleteTopics removes
// their routes, and both succeed again on what they already did.
func TestEnsureAndDeleteTopics(t *testing.T) {
	ns := rmqtest.NameServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topics := []string{rmqtest.Name(t, "a"), rmqtest.Name(t, "b")}
	routed := func() int {
		rep := Probe(ctx, []string{ns}, topics)
		if err := rep.Err(); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tp := range topics {
			if len(rep.NameServers[0].Routes[tp]) > 0 {
				n++
			}
		}
		return n
	}
	for range 2 {
		if err := EnsureTopics(ctx, []string{ns}, topics); err != nil {
			t.Fatal(err)
		}
		if n := routed(); n != len(topics) {
			t.Fatalf("%d of %d topics routed after EnsureTopics", n, len(topics))
		}
	}
	for range 2 {
		if err := DeleteTopics(ctx, []string{ns}, topics); err != nil {
			t.Fatal(err)
		}
		if n := routed(); n != 0 {
			t.Fatalf("%d topics still routed after DeleteTopics", n)
		}
	}
}

// TestEnsureTopicsMessageType: WithMessageType reaches the broker as the RocketMQ 5 topic
// attribute (the embedded broker keeps it; a 4.x broker ignores it).
func TestEnsureTopicsMessageType(t *testing.T) {
	ns, b := rmqtest.Start(t)
	if b == nil {
		t.Skip("reads the embedded broker's topic attributes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	typed, plain := rmqtest.Name(t, "typed"), rmqtest.Name(t, "plain")
	if err := EnsureTopics(ctx, []string{ns}, []string{typed}, WithMessageType("MIXED")); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, []string{ns}, []string{plain}); err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]string{typed: "MIXED", plain: ""} {
		tc, ok := b.Topic(topic)
		if !ok {
			t.Fatalf("topic %s not created", topic)
		}
		if got := tc.Attributes["message.type"]; got != want {
			t.Errorf("%s: message.type = %q, want %q", topic, got, want)
		}
	}
}
