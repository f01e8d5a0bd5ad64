package cluster_test

import (
	"context"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// TestLagGaugePerQueue: the consumer lag gauge reports, per queue, the messages sent to
// it that the group has not consumed: all of them before the group consumes, none
// once it has consumed and committed, and the ones sent after.
func TestLagGaugePerQueue(t *testing.T) {
	settings := cluster.Settings{Embedded: free}
	if ext := rmqtest.External(); ext != "" {
		settings.NameServers = []string{ext}
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	ep := open(t, settings, cluster.Settings{}, cluster.WithTelemetry(mp, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic, group := rmqtest.Name(t, "topic"), rmqtest.Name(t, "group")
	if err := ep.Producer.EnsureTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	sub := cluster.Subscription{Topic: topic, Group: group, ConsumeFrom: broker.ConsumeFromFirst}
	if err := ep.Consumer.RegisterLagMetrics(sub); err != nil {
		t.Fatal(err)
	}
	pub, err := ep.Producer.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Disconnect() })
	send := func(n int) map[int]int64 {
		t.Helper()
		perQueue := map[int]int64{}
		for i := 0; i < n; i++ {
			var res broker.PublishResult
			if err := pub.Publish(ctx, topic, struct{ N int }{i}, broker.WithPublishResult(&res)); err != nil {
				t.Fatal(err)
			}
			perQueue[res.Partition]++
		}
		return perQueue
	}
	gauge := func() map[int]int64 {
		t.Helper()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(ctx, &rm); err != nil {
			t.Fatal(err)
		}
		out := map[int]int64{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				g, ok := m.Data.(metricdata.Gauge[int64])
				if m.Name != cluster.MetricConsumerLag || !ok {
					continue
				}
				for _, dp := range g.DataPoints {
					if v, _ := dp.Attributes.Value("group"); v.AsString() != group {
						continue
					}
					q, _ := dp.Attributes.Value("queue")
					if v, _ := dp.Attributes.Value("topic"); v.AsString() != topic {
						t.Errorf("lag reported for topic %s", v.AsString())
					}
					out[int(q.AsInt64())] = dp.Value
				}
			}
		}
		return out
	}
	// want fills in the queues nothing was sent to.
	want := func(perQueue map[int]int64) map[int]int64 {
		w := map[int]int64{}
		for q := range gauge() {
			w[q] = 0
		}
		maps.Copy(w, perQueue)
		return w
	}

	sent := send(12)
	if g, w := gauge(), want(sent); !maps.Equal(g, w) || len(g) == 0 {
		t.Fatalf("lag before the group consumed = %v, want %v (the messages sent per queue)", g, w)
	}

	srvOpts, err := ep.Consumer.ServerOptions()
	if err != nil {
		t.Fatal(err)
	}
	srv := rocketmq.NewServer(rocketmq.DriverTypeV2, append(srvOpts, rocketmq.WithEnableKeepAlive(false))...)
	var got atomic.Int32
	if err := rocketmq.RegisterSubscriber(srv, ctx, topic, group,
		func(context.Context, string, broker.Headers, *struct{ N int }) error { got.Add(1); return nil }, sub.Options()...); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "the group to consume the 12 messages", func() bool { return got.Load() == 12 })
	// The v2 client commits consumed offsets every 5 s. Waiting for that commit, not for
	// the one Stop makes: the client records a message's offset only after the handler
	// returned, so the offset Stop persists can miss the message finished just before it
	// (redelivered after a restart: at least once).
	poll.Until(t, 60*time.Second, "the lag of every queue to be 0", func() bool {
		return maps.Equal(gauge(), want(nil))
	})
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if g, w := gauge(), want(nil); !maps.Equal(g, w) {
		t.Errorf("lag after Stop = %v, want %v", g, w)
	}

	later := send(5)
	if g, w := gauge(), want(later); !maps.Equal(g, w) {
		t.Errorf("lag after 5 more sends = %v, want %v", g, w)
	}
}
