package cluster_test

import (
	"context"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// rocketmq-client-go starts a cache janitor when its package initialises, and leaves
		// these behind after a clean Shutdown (see transport/rocketmq's leak options).
		goleak.IgnoreTopFunction("github.com/patrickmn/go-cache.(*janitor).Run"),
		goleak.IgnoreTopFunction("time.Sleep"),
		goleak.IgnoreTopFunction("github.com/apache/rocketmq-client-go/v2/internal/remote.(*ResponseFuture).waitResponse"),
		goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/internal/remote.(*remotingClient).receiveResponse"),
		goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/producer.(*transactionProducer).checkTransactionState"))
}

var quiet = log.NewStdLogger(io.Discard)

// free is the embedded broker on free loopback ports.
var free = &cluster.Embedded{NameServerAddr: "127.0.0.1:0", BrokerAddr: "127.0.0.1:0"}

func open(t *testing.T, producer, consumer cluster.Settings, opts ...cluster.Option) *cluster.Endpoint {
	t.Helper()
	ep, err := cluster.Open(context.Background(), producer, consumer, append([]cluster.Option{cluster.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ep.Close(); err != nil {
			t.Error(err)
		}
	})
	return ep
}

func TestInheritFillsWhatOneSideLeavesOut(t *testing.T) {
	producer := cluster.Settings{
		Driver: cluster.DriverV5, Endpoint: "10.0.0.1:8081",
		NameServers: []string{"10.0.0.1:9876"}, Namespace: "ns", RetryCount: 4, SendTimeout: time.Second,
		Credentials: &cluster.Credentials{AccessKey: "ak", SecretKey: "sk"},
		Trace:       &cluster.Trace{Enabled: true},
	}
	consumer := cluster.Settings{Namespace: "other", Trace: &cluster.Trace{}, Codec: "proto"}
	c := consumer.Inherit(producer)
	p := producer.Inherit(consumer)
	checks := []struct {
		name      string
		got, want any
	}{
		{"consumer name servers", strings.Join(c.NameServers, ","), "10.0.0.1:9876"},
		{"consumer driver", c.Driver, cluster.DriverV5},
		{"consumer endpoint", c.Endpoint, "10.0.0.1:8081"},
		{"consumer keeps its namespace", c.Namespace, "other"},
		{"consumer credentials", c.Credentials.AccessKey, "ak"},
		{"consumer retry", c.RetryCount, 4},
		{"consumer send timeout", c.SendTimeout, time.Second},
		{"consumer keeps its trace (set, all off)", c.Trace.Enabled, false},
		{"producer codec", p.Codec, "proto"},
		{"producer keeps its name servers", strings.Join(p.NameServers, ","), "10.0.0.1:9876"},
		{"no embedded settings", c.Embedded == nil, true},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	c.Credentials.AccessKey = "changed"
	if producer.Credentials.AccessKey != "ak" {
		t.Error("Inherit shares state with its input")
	}
	var none cluster.Settings
	if !none.Inherit(none).UsesEmbedded() {
		t.Error("no settings must mean the embedded broker")
	}
	domain := cluster.Settings{NameServerDomain: "http://ns.example/list"}
	if got := domain.Inherit(producer); len(got.NameServers) != 0 || got.UsesEmbedded() {
		t.Errorf("a name server domain is a cluster: got name servers %v, embedded %v", got.NameServers, got.UsesEmbedded())
	}
}

func TestIsEmbedded(t *testing.T) {
	for _, tc := range []struct {
		ns   []string
		want bool
	}{
		{nil, true}, {[]string{"embedded"}, true}, {[]string{" embedded:// "}, true},
		{[]string{"127.0.0.1:9876"}, false}, {[]string{"embedded", "10.0.0.1:9876"}, false},
	} {
		if got := cluster.IsEmbedded(tc.ns); got != tc.want {
			t.Errorf("IsEmbedded(%q) = %v, want %v", tc.ns, got, tc.want)
		}
	}
}

func TestOpenStartsEmbeddedBroker(t *testing.T) {
	ep := open(t, cluster.Settings{NameServers: []string{"embedded"}, Embedded: free, Namespace: "n"}, cluster.Settings{},
		cluster.WithTopics("opened_topic"))
	if ep.Embedded == nil {
		t.Fatal("no embedded broker started")
	}
	if _, ok := ep.Embedded.Topic("n%opened_topic"); !ok {
		t.Errorf("WithTopics did not create %s", "n%opened_topic")
	}
	want := ep.Embedded.Addr()
	for name, c := range map[string]*cluster.Client{"producer": ep.Producer, "consumer": ep.Consumer} {
		if got := strings.Join(c.NameServers(), ","); got != want {
			t.Errorf("%s name servers = %q, want %q", name, got, want)
		}
	}
	if err := ep.Producer.HealthCheck().Check(context.Background()); err != nil {
		t.Errorf("readiness of the embedded broker: %v", err)
	}
}

func TestOpenDurableEmbeddedBroker(t *testing.T) {
	dir := t.TempDir()
	emb := &cluster.Embedded{NameServerAddr: "127.0.0.1:0", BrokerAddr: "127.0.0.1:0", DataDir: dir}
	ep, err := cluster.Open(context.Background(), cluster.Settings{Embedded: emb}, cluster.Settings{}, cluster.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Embedded.CreateTopic("durable_topic", 2); err != nil {
		t.Fatal(err)
	}
	if err := ep.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) == 0 {
		t.Fatalf("data dir %s is empty after a run (%v)", dir, err)
	}
	ep = open(t, cluster.Settings{Embedded: emb}, cluster.Settings{})
	if _, ok := ep.Embedded.Topic("durable_topic"); !ok {
		t.Error("topic created before the restart is gone: the data dir was not used")
	}
}

func TestOpenExternalClusterStartsNothing(t *testing.T) {
	ep := open(t, cluster.Settings{NameServers: []string{"127.0.0.1:1"}}, cluster.Settings{})
	if ep.Embedded != nil {
		t.Fatal("embedded broker started for an external cluster")
	}
	if err := ep.Consumer.HealthCheck().Check(context.Background()); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("readiness of an unreachable name server = %v, want an error naming it", err)
	}
}

func TestBrokerOptions(t *testing.T) {
	mp := sdkmetric.NewMeterProvider()
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	for _, tc := range []struct {
		name    string
		s       cluster.Settings
		check   func(t *testing.T, o broker.Options)
		wantErr string
	}{
		{"defaults", cluster.Settings{NameServers: []string{"a:1", "b:2"}}, func(t *testing.T, o broker.Options) {
			if strings.Join(o.Addrs, ",") != "a:1,b:2" || o.CodecName != "json" || o.Secure || o.ClientLogLevel != log.LevelWarn {
				t.Errorf("options = addrs %v codec %q secure %v level %v", o.Addrs, o.CodecName, o.Secure, o.ClientLogLevel)
			}
			if o.MeterProvider == nil || o.TracerProvider != nil {
				t.Error("want metrics always, spans only with Trace.Enabled")
			}
		}, ""},
		{"codec, level, trace", cluster.Settings{NameServers: []string{"a:1"}, Codec: "proto", ClientLogLevel: "error",
			Trace: &cluster.Trace{Enabled: true}}, func(t *testing.T, o broker.Options) {
			if o.CodecName != "proto" || o.ClientLogLevel != log.LevelError || o.TracerProvider == nil {
				t.Errorf("options = codec %q level %v tracer %v", o.CodecName, o.ClientLogLevel, o.TracerProvider)
			}
		}, ""},
		{"tls", cluster.Settings{NameServers: []string{"a:1"}, TLS: &cluster.TLS{Enabled: true, InsecureSkipVerify: true}}, func(t *testing.T, o broker.Options) {
			if !o.Secure || o.TLSConfig == nil || !o.TLSConfig.InsecureSkipVerify {
				t.Errorf("options = secure %v tls %+v", o.Secure, o.TLSConfig)
			}
		}, ""},
		{"tls off", cluster.Settings{NameServers: []string{"a:1"}, TLS: &cluster.TLS{}}, func(t *testing.T, o broker.Options) {
			if o.Secure {
				t.Error("TLS without Enabled turned TLS on")
			}
		}, ""},
		{"name server domain", cluster.Settings{NameServers: []string{"embedded"}, NameServerDomain: "http://ns.example/list"}, func(t *testing.T, o broker.Options) {
			if len(o.Addrs) != 0 {
				t.Errorf("addresses %v given with a name server domain: the driver would dial them instead", o.Addrs)
			}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			producer := cluster.Settings{NameServers: []string{"10.0.0.1:9876"}, TLS: tc.s.TLS}
			ep := open(t, producer, tc.s, cluster.WithTelemetry(mp, noop.NewTracerProvider()))
			opts, err := ep.Consumer.BrokerOptions()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, broker.NewOptions(opts...))
		})
	}
}

func TestSubscriptionOptions(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		sub  cluster.Subscription
		want broker.SubscribeOptions
	}{
		{"defaults", cluster.Subscription{}, broker.SubscribeOptions{}},
		{"tags", cluster.Subscription{TagExpression: "A || B"}, broker.SubscribeOptions{FilterType: broker.FilterTag, Filter: "A || B"}},
		{"sql wins over tags", cluster.Subscription{TagExpression: "A", SQLExpression: "a > 1"}, broker.SubscribeOptions{FilterType: broker.FilterSQL92, Filter: "a > 1"}},
		{"everything", cluster.Subscription{Broadcast: true, Orderly: true, MaxReconsumeTimes: 3, Concurrency: 5,
			ConsumeFrom: broker.ConsumeFromTimestamp, ConsumeTimestamp: ts},
			broker.SubscribeOptions{Broadcast: true, Orderly: true, MaxReconsumeTimes: 3, Concurrency: 5,
				ConsumeFrom: broker.ConsumeFromTimestamp, ConsumeTimestamp: ts}},
		{"first", cluster.Subscription{ConsumeFrom: broker.ConsumeFromFirst}, broker.SubscribeOptions{ConsumeFrom: broker.ConsumeFromFirst}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := broker.NewSubscribeOptions(tc.sub.Options()...)
			want := broker.NewSubscribeOptions(func(o *broker.SubscribeOptions) {
				ctx, autoAck := o.Context, o.AutoAck
				*o = tc.want
				o.Context, o.AutoAck = ctx, autoAck
			})
			if got.FilterType != want.FilterType || got.Filter != want.Filter || got.Broadcast != want.Broadcast ||
				got.Orderly != want.Orderly || got.MaxReconsumeTimes != want.MaxReconsumeTimes || got.Concurrency != want.Concurrency ||
				got.ConsumeFrom != want.ConsumeFrom || !got.ConsumeTimestamp.Equal(want.ConsumeTimestamp) {
				t.Errorf("options = %+v, want %+v", got, want)
			}
		})
	}
}

// TestClientsMeetInTheirNamespace publishes with Connect and consumes with
// ServerOptions of a namespaced endpoint on the embedded broker (or ROCKETMQ_NAMESRV),
// with driver v2 and v5: the topic EnsureTopics created carries the namespace (and with
// v5 message.type MIXED), the message arrives, and the lag gauge and ConsumerLag (admin
// calls over remoting with either driver) report the group's queues under their
// namespaced names.
func TestClientsMeetInTheirNamespace(t *testing.T) {
	for _, driver := range []string{cluster.DriverV2, cluster.DriverV5} {
		t.Run(driver, func(t *testing.T) { testClientsMeetInTheirNamespace(t, driver) })
	}
}

func testClientsMeetInTheirNamespace(t *testing.T, driver string) {
	ns := ""
	if ext := rmqtest.External(); ext != "" {
		if driver == cluster.DriverV5 {
			t.Skip("driver v5 needs the embedded broker's gRPC endpoint (RocketMQ 4.9.4 has none)")
		}
		ns = ext
	}
	settings := cluster.Settings{Driver: driver, NameServers: []string{ns}, Namespace: "cl",
		Embedded: &cluster.Embedded{NameServerAddr: "127.0.0.1:0", BrokerAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"}}
	if ns == "" {
		settings.NameServers = nil
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	ep := open(t, settings, cluster.Settings{}, cluster.WithTelemetry(mp, nil))
	topic, group := rmqtest.Name(t, "topic"), rmqtest.Name(t, "group")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := ep.Producer.EnsureTopics(ctx, topic, topic); err != nil {
		t.Fatal(err)
	}
	if ep.Embedded != nil {
		tc, ok := ep.Embedded.Topic("cl%" + topic)
		if !ok {
			t.Fatalf("EnsureTopics did not create cl%%%s", topic)
		}
		if want := map[string]string{cluster.DriverV5: "MIXED"}[driver]; tc.Attributes["message.type"] != want {
			t.Errorf("message.type of the topic = %q, want %q", tc.Attributes["message.type"], want)
		}
		if grpc := ep.Embedded.GRPCAddr(); (grpc != "") != (driver == cluster.DriverV5) {
			t.Errorf("gRPC endpoint %q with driver %s", grpc, driver)
		}
	}
	if want := map[string]rocketmq.DriverType{cluster.DriverV2: rocketmq.DriverTypeV2, cluster.DriverV5: rocketmq.DriverTypeV5}[driver]; ep.Producer.Driver() != want || ep.Consumer.Driver() != want {
		t.Errorf("drivers %s/%s, want %s on both sides", ep.Producer.Driver(), ep.Consumer.Driver(), want)
	}

	srvOpts, err := ep.Consumer.ServerOptions()
	if err != nil {
		t.Fatal(err)
	}
	srv := rocketmq.NewServer(ep.Consumer.Driver(), append(srvOpts, rocketmq.WithEnableKeepAlive(false))...)
	var got atomic.Int32
	sub := cluster.Subscription{Topic: topic, Group: group, ConsumeFrom: broker.ConsumeFromFirst}
	if err := rocketmq.RegisterSubscriber(srv, context.Background(), topic, group,
		func(context.Context, string, broker.Headers, *struct{ N int }) error { got.Add(1); return nil },
		sub.Options()...); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	if err := ep.Consumer.RegisterLagMetrics(sub); err != nil {
		t.Fatal(err)
	}

	pub, err := ep.Producer.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Disconnect() })
	if err := pub.Publish(ctx, topic, struct{ N int }{1}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "the message to be consumed", func() bool { return got.Load() == 1 })

	poll.Until(t, 60*time.Second, "the lag of every queue to be 0", func() bool {
		lags, err := ep.Consumer.ConsumerLag(ctx, sub)
		if err != nil || len(lags) == 0 {
			return false
		}
		for _, l := range lags {
			if l.Topic != "cl%"+topic || l.Group != "cl%"+group {
				t.Fatalf("lag reported for %s/%s, want the namespaced names", l.Topic, l.Group)
			}
			if l.Lag() != 0 {
				return false
			}
		}
		return true
	})
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	if !hasMetric(rm, cluster.MetricConsumerLag) {
		t.Errorf("no %s gauge collected", cluster.MetricConsumerLag)
	}
	if broadcastOnly, _ := ep.Consumer.ConsumerLag(ctx, cluster.Subscription{Topic: topic, Group: group, Broadcast: true}); len(broadcastOnly) != 0 {
		t.Errorf("lag of a broadcast subscription = %v: the broker keeps no offsets for it", broadcastOnly)
	}
}

func hasMetric(rm metricdata.ResourceMetrics, name string) bool {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return true
			}
		}
	}
	return false
}
