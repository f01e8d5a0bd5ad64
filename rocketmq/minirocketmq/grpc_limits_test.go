package minirocketmq_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/connectivity"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestGRPCIdleConnectionClosed: a gRPC connection with no call for
// WithChannelExpiry is sent GOAWAY (keepalive MaxConnectionIdle), so the
// client's channel leaves READY; a client that comes back reconnects and
// is served. The bound is many expiries long, for a loaded machine.
func TestGRPCIdleConnectionClosed(t *testing.T) {
	const expiry = 300 * time.Millisecond
	b := startV5(t, minirocketmq.WithChannelExpiry(expiry))
	if err := b.CreateTopic("IdleT", 1); err != nil {
		t.Fatal(err)
	}
	c := dialV5(t, b)
	route := func(what string) {
		t.Helper()
		resp, err := c.api.QueryRoute(c.ctx(5*time.Second), &v2.QueryRouteRequest{Topic: c.res("IdleT"), Endpoints: c.endpoints()})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		wantCode(t, what, resp.GetStatus(), v2.Code_OK)
	}
	route("query route")
	if s := c.cc.GetState(); s != connectivity.Ready {
		t.Fatalf("channel %v after a call, want READY", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*expiry)
	defer cancel()
	if !c.cc.WaitForStateChange(ctx, connectivity.Ready) {
		t.Fatalf("the idle connection is still open after %v (channel expiry %v)", 50*expiry, expiry)
	}
	route("query route after the idle close")
}
