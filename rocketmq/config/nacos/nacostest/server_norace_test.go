//go:build !race

// nacos-sdk-go reconnects without synchronisation: the goroutine that opens the new
// connection writes RpcClient.currentConnection while request goroutines read it
// (rpc_client.go, reconnect and Request), which the race detector reports. These tests
// make the client reconnect, so they run without -race (make test runs -run NoRace).

package nacostest_test

import (
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/kratos-rocketmq/rocketmq/config/nacos/nacostest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// After a ConnectResetRequest the client reconnects, listens again on the new connection
// and gets the next change pushed there.
func TestNoRaceResetConnections(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("", "", "reset.yaml", "v: 1\n")
	c := newClient(t, srv)
	if _, err := c.GetConfig(vo.ConfigParam{DataId: "reset.yaml", Group: nacostest.DefaultGroup}); err != nil {
		t.Fatal(err)
	}
	changes := make(chan string, 10)
	if err := c.ListenConfig(vo.ConfigParam{DataId: "reset.yaml", Group: nacostest.DefaultGroup,
		OnChange: func(_, _, _, data string) { changes <- data }}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, listenWait, "the client to listen", func() bool { return srv.Listening("", "", "reset.yaml") == 1 })
	before := srv.ConnectionIDs()

	srv.ResetConnections()
	poll.Until(t, listenWait, "the client to reconnect and listen", func() bool {
		ids := srv.ConnectionIDs()
		return len(ids) == 1 && ids[0] != before[0] && srv.Listening("", "", "reset.yaml") == 1
	})
	nacostest.WaitClientsIdle(t, 10*time.Second)
	srv.Publish("", "", "reset.yaml", "v: 2\n")
	if got := recv(t, "the change after the reset", changes, 10*time.Second); got != "v: 2\n" {
		t.Fatalf("listener got %q", got)
	}
}

// A client that stops listening does not answer pushes for that configuration any more;
// the server retries and then drops the connection, and the client reconnects.
func TestNoRaceUnansweredPushes(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t, nacostest.WithPushRetry(2, 200*time.Millisecond, 10*time.Millisecond))
	srv.Publish("", "", "quiet.yaml", "v: 1\n")
	c := newClient(t, srv)
	changes := make(chan string, 10)
	param := vo.ConfigParam{DataId: "quiet.yaml", Group: nacostest.DefaultGroup, OnChange: func(_, _, _, data string) { changes <- data }}
	if err := c.ListenConfig(param); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, listenWait, "the client to listen", func() bool { return srv.Listening("", "", "quiet.yaml") == 1 })
	// Cancel only once the client's listen rounds are over. The first round finds the
	// configuration changed (the client had no MD5), queries it and hands it to the
	// listener, which writes the entry back into the client's cache
	// (cacheData.executeListener); the round after it writes it back again. A cancel in
	// between is undone: the client keeps answering pushes and is never dropped. That
	// happened under load, when the query took longer than the test's cancel and publish.
	if got := recv(t, "the initial content", changes, listenWait); got != "v: 1\n" {
		t.Fatalf("listener got %q, want the initial content", got)
	}
	nacostest.WaitClientsIdle(t, 10*time.Second)
	before := srv.ConnectionIDs()
	if err := c.CancelListenConfig(param); err != nil {
		t.Fatal(err)
	}
	srv.Publish("", "", "quiet.yaml", "v: 2\n")
	poll.Until(t, listenWait, "the server to drop the connection and the client to come back", func() bool {
		ids := srv.ConnectionIDs()
		return len(ids) == 1 && ids[0] != before[0]
	})
	// The client works on its new connection (and has finished reconnecting: closing it in
	// the middle of a reconnect leaks the new connection, see SDKGoroutines).
	if got, err := c.GetConfig(vo.ConfigParam{DataId: "quiet.yaml", Group: nacostest.DefaultGroup}); err != nil || got != "v: 2\n" {
		t.Fatalf("GetConfig after the reconnect = %q, %v", got, err)
	}
	if n := srv.Listening("", "", "quiet.yaml"); n != 0 {
		t.Fatalf("%d listeners after the client stopped listening and reconnected", n)
	}
}
