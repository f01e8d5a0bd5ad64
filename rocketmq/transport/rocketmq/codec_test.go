package rocketmq

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

func TestProtoCodec(t *testing.T) {
	ns := rmqtest.NameServer(t)
	srv := newTestServer(t, ns, WithCodec("proto"))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopicWith(t, ns, topic, []byte{}) // an empty body is a valid (empty) proto message
	got := make(chan string, 1)
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(ctx context.Context, _ string, h broker.Headers, v *wrapperspb.StringValue) error {
			if !isWarmup(h) {
				got <- v.GetValue()
			}
			return nil
		}, rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	start(t, srv)
	if err := srv.Publish(context.Background(), topic, wrapperspb.String("hello proto")); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != "hello proto" {
			t.Errorf("got %q", v)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
}
