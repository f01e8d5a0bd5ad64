package cluster

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Doctor probes the cluster (see Probe) and explains what it found to an operator, on w:
// each name server with its brokers and the routes of topics, each broker address the
// name servers hand out and whether it can be reached from here, and for every problem
// what to fix, the broker's advertised address (brokerIP1) above all. nameServerHint
// says where the name servers are configured (printed with a name server problem). It
// returns the number of problems found.
func (c *Client) Doctor(ctx context.Context, w io.Writer, nameServerHint string, topics ...string) int {
	topics = slices.Compact(slices.Sorted(slices.Values(topics)))
	if c.httpOnly() {
		fmt.Fprintf(w, "driver aliyun, HTTP endpoint %s (instance %s)\n", c.Settings.Endpoint, c.Settings.Namespace)
		if err := c.dialEndpoint(ctx); err != nil {
			fmt.Fprintf(w, "✗ %v\n  Fix: check the endpoint (the instance's HTTP endpoint in its console) and the network to it.\n1 problem(s) found.\n", err)
			return 1
		}
		fmt.Fprintln(w, "✓ HTTP endpoint reachable (topics and groups are the instance's: create them in its console).")
		return 0
	}
	fmt.Fprintf(w, "name servers: %s\n", strings.Join(c.NameServers(), ", "))
	rep := c.Probe(ctx, topics...)
	problems := 0
	for _, ns := range rep.NameServers {
		switch {
		case ns.Err != nil:
			problems++
			fmt.Fprintf(w, "✗ name server %s: %v\n", ns.Addr, ns.Err)
			fmt.Fprintf(w, "  Fix: check the address (%s) and that the name server runs and listens there.\n", nameServerHint)
			continue
		case len(ns.Brokers) == 0:
			problems++
			fmt.Fprintf(w, "✗ name server %s answered but knows no broker\n", ns.Addr)
			fmt.Fprintf(w, "  Fix: start a broker registered with this name server (namesrvAddr in broker.conf, or NAMESRV_ADDR).\n")
			continue
		}
		fmt.Fprintf(w, "✓ name server %s: brokers %s\n", ns.Addr, formatBrokers(ns.Brokers))
		for _, topic := range topics {
			topic = c.Settings.Qualified(topic)
			if route := ns.Routes[topic]; route != nil {
				fmt.Fprintf(w, "  topic %s: %s\n", topic, formatBrokers(route))
			} else {
				fmt.Fprintf(w, "  topic %s: no route yet (created on first send when the broker auto-creates topics)\n", topic)
			}
		}
	}
	for _, addr := range slices.Sorted(maps.Keys(rep.Brokers)) {
		if err := rep.Brokers[addr]; err != nil {
			problems++
			fmt.Fprintf(w, "✗ broker %s cannot be reached from here: %v\n", addr, err)
			fmt.Fprintf(w, brokerIP1Lesson, addr)
			continue
		}
		fmt.Fprintf(w, "✓ broker %s reachable\n", addr)
	}
	if problems > 0 {
		fmt.Fprintf(w, "%d problem(s) found.\n", problems)
	} else {
		fmt.Fprintln(w, "All good: clients of this configuration can produce and consume.")
	}
	return problems
}

// brokerIP1Lesson explains an unreachable address the name server hands out.
const brokerIP1Lesson = `  The name server hands out %s as the broker's address, and every client connects there
  after asking the name server, whatever address you configured. When the broker runs in
  Docker or behind NAT, that address is often the container's own IP (brokerIP1 defaults
  to it), which is unreachable from the host and from other machines.
  Fix: set brokerIP1 in the broker's broker.conf to an address the clients can reach and
  restart the broker. For the embedded broker: -advertise host:port (cmd/minirocketmq) /
  minirocketmq.WithAdvertisedAddr.
`

func formatBrokers(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, n := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, n+" → "+m[n])
	}
	return strings.Join(parts, ", ")
}
