package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// nameServerDomain serves ns as a name server list, as a RocketMQ address server does,
// and counts the requests.
func nameServerDomain(t *testing.T, ns string) (string, *atomic.Int32) {
	t.Helper()
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rocketmq/nsaddr" {
			http.NotFound(w, r)
			return
		}
		asked.Add(1)
		fmt.Fprint(w, ns)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/rocketmq/nsaddr", &asked
}

// TestNameServerDomain: with a name server domain (and the default name servers,
// "embedded"), no embedded broker starts; the admin calls and both clients find the
// cluster through the URL's list, and a URL that lists nothing is an error naming it.
func TestNameServerDomain(t *testing.T) {
	ns := rmqtest.NameServer(t)
	url, asked := nameServerDomain(t, ns)
	ep := open(t, cluster.Settings{NameServers: []string{"embedded"}, NameServerDomain: url}, cluster.Settings{})
	if ep.Embedded != nil {
		t.Fatal("an embedded broker started although a name server domain is set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if got, err := ep.Consumer.ResolveNameServers(ctx); err != nil || strings.Join(got, ",") != ns {
		t.Fatalf("ResolveNameServers = %v, %v; want [%s]", got, err, ns)
	}
	topic, group := rmqtest.Name(t, "topic"), rmqtest.Name(t, "group")
	if err := ep.Producer.EnsureTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	if err := ep.Producer.HealthCheck().Check(ctx); err != nil {
		t.Errorf("readiness through the domain: %v", err)
	}

	srvOpts, err := ep.Consumer.ServerOptions()
	if err != nil {
		t.Fatal(err)
	}
	srv := rocketmq.NewServer(rocketmq.DriverTypeV2, append(srvOpts, rocketmq.WithEnableKeepAlive(false))...)
	var got atomic.Int32
	sub := cluster.Subscription{Topic: topic, Group: group, ConsumeFrom: broker.ConsumeFromFirst}
	if err := rocketmq.RegisterSubscriber(srv, ctx, topic, group,
		func(context.Context, string, broker.Headers, *struct{ N int }) error { got.Add(1); return nil }, sub.Options()...); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	before := asked.Load()
	pub, err := ep.Producer.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Disconnect() })
	if err := pub.Publish(ctx, topic, struct{ N int }{1}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "the message published through the domain to be consumed", func() bool { return got.Load() == 1 })
	if asked.Load() == before {
		t.Error("the producer did not ask the name server domain")
	}

	missing := open(t, cluster.Settings{NameServerDomain: strings.TrimSuffix(url, "nsaddr") + "nothing"}, cluster.Settings{})
	if err := missing.Producer.HealthCheck().Check(ctx); err == nil || !strings.Contains(err.Error(), "/rocketmq/nothing") || !strings.Contains(err.Error(), "404") {
		t.Errorf("readiness with a domain that lists nothing = %v, want an error naming the URL", err)
	}
}
