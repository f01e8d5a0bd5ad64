package cluster_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

// TestOpenExplainsATakenAddress: when the embedded broker's address is taken, Open's
// error says whether a RocketMQ name server answers there (then: use it) or something
// else does (then: move the embedded one), with the service's own hints.
func TestOpenExplainsATakenAddress(t *testing.T) {
	running := minirocketmq.RunT(t)
	other, err := net.Listen("tcp", "127.0.0.1:0") // accepts and never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	hints := cluster.Hints{
		NameServers:            "make run ROCKETMQ=%[1]s (or NS=%[1]s)",
		EmbeddedNameServerAddr: "NS_ADDR=%s",
		EmbeddedBrokerAddr:     "BROKER_ADDR=%s",
	}
	for _, tc := range []struct {
		name       string
		emb        cluster.Embedded
		listener   string
		nameServer bool
		want       []string
	}{
		{"a RocketMQ name server", cluster.Embedded{NameServerAddr: running.Addr(), BrokerAddr: "127.0.0.1:0"}, "name server", true,
			[]string{running.Addr() + " is taken, and a RocketMQ name server answers there",
				"use it with make run ROCKETMQ=" + running.Addr() + " (or NS=" + running.Addr() + ")", "move the embedded one with NS_ADDR=127.0.0.1:0"}},
		{"something else on the name server's address", cluster.Embedded{NameServerAddr: other.Addr().String(), BrokerAddr: "127.0.0.1:0"}, "name server", false,
			[]string{"something else listens on " + other.Addr().String(), "move the embedded one with NS_ADDR=127.0.0.1:0"}},
		{"something else on the broker's address", cluster.Embedded{NameServerAddr: "127.0.0.1:0", BrokerAddr: other.Addr().String()}, "broker", false,
			[]string{"embedded RocketMQ broker: something else listens on " + other.Addr().String(), "BROKER_ADDR=127.0.0.1:0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emb := tc.emb
			_, err := cluster.Open(context.Background(), cluster.Settings{Embedded: &emb}, cluster.Settings{},
				cluster.WithLogger(quiet), cluster.WithHints(hints))
			var inUse *cluster.AddrInUseError
			if !errors.As(err, &inUse) {
				t.Fatalf("Open = %v, want an *AddrInUseError", err)
			}
			if inUse.Listener != tc.listener || inUse.NameServer != tc.nameServer {
				t.Errorf("listener %q, name server %v; want %q, %v", inUse.Listener, inUse.NameServer, tc.listener, tc.nameServer)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
