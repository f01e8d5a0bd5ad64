package mq

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/layout/internal/conf"
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
