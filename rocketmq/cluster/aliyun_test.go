package cluster_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// TestAliyunOnTheEmbeddedBroker: driver "aliyun" without an endpoint starts the embedded
// broker with its HTTP endpoint and points both sides at it; topics are created over
// remoting (the admin calls), messages travel over HTTP, and the consumer lag is read
// over remoting.
func TestAliyunOnTheEmbeddedBroker(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("the HTTP endpoint is the embedded broker's")
	}
	emb := &cluster.Embedded{NameServerAddr: "127.0.0.1:0", BrokerAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}
	ep := open(t, cluster.Settings{Driver: cluster.DriverAliyun, Namespace: "INST", Embedded: emb}, cluster.Settings{})
	if ep.Embedded == nil || ep.Embedded.HTTPAddr() == "" {
		t.Fatal("no embedded broker with an HTTP endpoint")
	}
	want := "http://" + ep.Embedded.HTTPAddr()
	for _, c := range []*cluster.Client{ep.Producer, ep.Consumer} {
		if c.Driver() != rmq.DriverTypeAliyun || c.Settings.Endpoint != want || len(c.NameServers()) != 1 {
			t.Fatalf("client %+v, want driver aliyun at %s with the embedded name server", c.Settings, want)
		}
	}
	topic, group := rmqtest.Name(t, "topic"), rmqtest.Name(t, "GID")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := ep.Producer.EnsureTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	srvOpts, err := ep.Consumer.ServerOptions()
	if err != nil {
		t.Fatal(err)
	}
	srv := rocketmq.NewServer(ep.Consumer.Driver(), append(srvOpts, rocketmq.WithEnableKeepAlive(false))...)
	var got atomic.Int32
	sub := cluster.Subscription{Topic: topic, Group: group, ConsumeFrom: broker.ConsumeFromFirst, MaxReconsumeTimes: 16}
	if err := rocketmq.RegisterSubscriber(srv, context.Background(), topic, group,
		func(context.Context, string, broker.Headers, *struct{ N int }) error { got.Add(1); return nil },
		sub.Options()...); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	pub, err := ep.Producer.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Disconnect() })
	if pub.Name() != "aliyun-mq-http" {
		t.Fatalf("publisher is %s", pub.Name())
	}
	if err := pub.Publish(ctx, topic, struct{ N int }{1}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "the message over HTTP", func() bool { return got.Load() == 1 })
	if err := ep.Consumer.HealthCheck().Check(ctx); err != nil {
		t.Errorf("health check: %v", err)
	}
	poll.Until(t, 30*time.Second, "the group's lag read over remoting", func() bool {
		lags, err := ep.Consumer.ConsumerLag(ctx, sub)
		return err == nil && len(lags) > 0 && lags[0].Group == "INST%"+group
	})
}

// TestAliyunInstance: driver "aliyun" with an endpoint of its own starts no broker and
// has no name servers (["embedded"] left in a configuration means none): topic creation
// and lag are the instance's console's, the health check and the doctor dial the
// endpoint.
func TestAliyunInstance(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("the HTTP endpoint is the embedded broker's")
	}
	mb := minirocketmq.RunT(t, minirocketmq.WithHTTPAddr("127.0.0.1:0"))
	ep := open(t, cluster.Settings{Driver: cluster.DriverAliyun, Endpoint: "http://" + mb.HTTPAddr(), NameServers: []string{"embedded"}}, cluster.Settings{})
	if ep.Embedded != nil || len(ep.Producer.NameServers()) != 0 || ep.Consumer.Settings.Endpoint != "http://"+mb.HTTPAddr() {
		t.Fatalf("endpoint %+v / %+v", ep.Producer.Settings, ep.Consumer.Settings)
	}
	ctx := context.Background()
	if err := ep.Producer.EnsureTopics(ctx, "orders"); err != nil {
		t.Errorf("EnsureTopics: %v", err)
	}
	if lags, err := ep.Consumer.ConsumerLag(ctx, cluster.Subscription{Topic: "orders", Group: "g"}); err != nil || lags != nil {
		t.Errorf("ConsumerLag: %v %v", lags, err)
	}
	if err := ep.Consumer.HealthCheck().Check(ctx); err != nil {
		t.Errorf("health check: %v", err)
	}
	var out bytes.Buffer
	if n := ep.Producer.Doctor(ctx, &out, "data.rocketmq.endpoint"); n != 0 || !strings.Contains(out.String(), "✓ HTTP endpoint reachable") {
		t.Errorf("doctor: %d problems\n%s", n, out.String())
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	_ = ln.Close()
	down := open(t, cluster.Settings{Driver: cluster.DriverAliyun, Endpoint: "http://" + gone}, cluster.Settings{})
	if err := down.Consumer.HealthCheck().Check(ctx); err == nil || !strings.Contains(err.Error(), gone) {
		t.Errorf("health check of a closed endpoint: %v", err)
	}
	out.Reset()
	if n := down.Producer.Doctor(ctx, &out, "data.rocketmq.endpoint"); n != 1 || !strings.Contains(out.String(), "✗") {
		t.Errorf("doctor of a closed endpoint: %d\n%s", n, out.String())
	}
}
