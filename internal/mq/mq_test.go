package mq

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/pkg/minirocketmq"
	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/rmqtest"
)

func TestMain(m *testing.M) {
	// rocketmq-client-go starts a cache janitor when its package initialises (imported
	// here through the broker options); it is not ours to stop.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/patrickmn/go-cache.(*janitor).Run"))
}

func TestResolveInheritsConnectionSettings(t *testing.T) {
	producer := &conf.RocketMQ{
		NameServers: []string{"10.0.0.1:9876"}, Namespace: "ns", Group: "pg", RetryCount: 4,
		Credentials: &conf.RocketMQ_Credentials{AccessKey: "ak", SecretKey: "sk"},
		SendTimeout: durationpb.New(time.Second),
	}
	consumer := &conf.RocketMQ{Group: "cg", Namespace: "other", Subscriptions: []*conf.RocketMQ_Subscription{{Topic: "t"}}}
	p, c := Resolve(producer, consumer)
	checks := []struct {
		name      string
		got, want any
	}{
		{"consumer name servers", strings.Join(c.GetNameServers(), ","), "10.0.0.1:9876"},
		{"consumer keeps namespace", c.GetNamespace(), "other"},
		{"consumer keeps group", c.GetGroup(), "cg"},
		{"consumer credentials", c.GetCredentials().GetAccessKey(), "ak"},
		{"consumer retry", c.GetRetryCount(), int32(4)},
		{"consumer timeout", c.GetSendTimeout().AsDuration(), time.Second},
		{"producer keeps group", p.GetGroup(), "pg"},
		{"producer gets no subscriptions", len(p.GetSubscriptions()), 0},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	c.Credentials.AccessKey = "changed"
	if producer.GetCredentials().GetAccessKey() != "ak" {
		t.Error("Resolve shares state with its input")
	}
	if p, c := Resolve(nil, nil); !conf.IsEmbedded(p.GetNameServers()) || !conf.IsEmbedded(c.GetNameServers()) {
		t.Error("no settings must mean the embedded broker")
	}
}

func TestEndpointStartsEmbeddedBroker(t *testing.T) {
	emb := &conf.RocketMQ_Embedded{NameServerAddr: "127.0.0.1:0", BrokerAddr: "127.0.0.1:0"}
	ep, cleanup, err := NewEndpoint(
		&conf.Server{Rocketmq: &conf.RocketMQ{Group: "cg"}},
		&conf.Data{Rocketmq: &conf.RocketMQ{NameServers: []string{"embedded"}, Embedded: emb}},
		log.DefaultLogger)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if ep.Embedded == nil {
		t.Fatal("no embedded broker started")
	}
	want := ep.Embedded.Addr()
	if got := strings.Join(ep.Producer.GetNameServers(), ","); got != want {
		t.Errorf("producer name servers = %q, want %q", got, want)
	}
	if got := strings.Join(ep.Consumer.GetNameServers(), ","); got != want {
		t.Errorf("consumer name servers = %q, want %q", got, want)
	}
	if err := NewHealthChecker(ep).Check(context.Background()); err != nil {
		t.Errorf("readiness of the embedded broker: %v", err)
	}
}

func TestEndpointDurableEmbeddedBroker(t *testing.T) {
	dir := t.TempDir()
	emb := &conf.RocketMQ_Embedded{NameServerAddr: "127.0.0.1:0", BrokerAddr: "127.0.0.1:0", DataDir: dir}
	open := func() (*Endpoint, func()) {
		ep, cleanup, err := NewEndpoint(nil, &conf.Data{Rocketmq: &conf.RocketMQ{Embedded: emb}}, log.DefaultLogger)
		if err != nil {
			t.Fatal(err)
		}
		return ep, cleanup
	}
	ep, cleanup := open()
	if err := ep.Embedded.CreateTopic("durable_topic", 2); err != nil {
		t.Fatal(err)
	}
	cleanup()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("data dir %s is empty after a run (%v)", dir, err)
	}
	ep, cleanup = open()
	defer cleanup()
	if _, ok := ep.Embedded.Topic("durable_topic"); !ok {
		t.Error("topic created before the restart is gone: the data dir was not used")
	}
}

func TestEndpointExternalClusterStartsNothing(t *testing.T) {
	ep, cleanup, err := NewEndpoint(nil, &conf.Data{Rocketmq: &conf.RocketMQ{NameServers: []string{"127.0.0.1:1"}}}, log.DefaultLogger)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if ep.Embedded != nil {
		t.Fatal("embedded broker started for an external cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := NewHealthChecker(ep).Check(ctx); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("readiness of an unreachable name server = %v, want an error naming it", err)
	}
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
