package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

func TestDoctor(t *testing.T) {
	healthy := minirocketmq.RunT(t)
	if err := healthy.CreateTopic("known", 2); err != nil {
		t.Fatal(err)
	}
	hidden := minirocketmq.RunT(t, minirocketmq.WithAdvertisedAddr("127.0.0.1:1")) // the brokerIP1 pitfall
	for _, tc := range []struct {
		name     string
		ns       string
		problems int
		want     []string
	}{
		{"healthy", healthy.Addr(), 0, []string{"✓ name server " + healthy.Addr(), "topic known: ", "topic unknown: no route yet",
			"✓ broker " + healthy.BrokerAddr() + " reachable", "All good"}},
		{"unreachable advertised broker", hidden.Addr(), 1, []string{"✓ name server", "✗ broker 127.0.0.1:1 cannot be reached",
			"brokerIP1", "1 problem(s) found."}},
		{"no name server", "127.0.0.1:1", 1, []string{"✗ name server 127.0.0.1:1", "Fix: check the address (the hint)", "1 problem(s) found."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := open(t, cluster.Settings{NameServers: []string{tc.ns}}, cluster.Settings{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out strings.Builder
			if n := ep.Producer.Doctor(ctx, &out, "the hint", "known", "unknown"); n != tc.problems {
				t.Errorf("problems = %d, want %d", n, tc.problems)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
