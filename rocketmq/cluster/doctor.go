package cluster

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Doctor checks the producer's connection (see Client.Doctor), after saying on w that
// the embedded broker was started for the check when the settings select it. It returns
// the number of problems found.
func (e *Endpoint) Doctor(ctx context.Context, w io.Writer, topics ...string) int {
	if e.Embedded != nil {
		fmt.Fprintf(w, "The configuration selects the embedded broker: started it for this check on %s (name server) and %s (broker).\n",
			e.Embedded.NameServerAddr(), e.Embedded.BrokerAddr())
	}
	return e.Producer.Doctor(ctx, w, topics...)
}

// Doctor probes the cluster (see Probe) and explains what it found to an operator, on w:
// how it connects (TLS, ACL, namespace), each name server with its brokers and the
// routes of topics, each broker address the name servers hand out and whether it can be
// reached from here, and for every problem what to fix, the broker's advertised address
// (brokerIP1) above all, with the Hints of Open. It returns the number of problems
// found.
func (c *Client) Doctor(ctx context.Context, w io.Writer, topics ...string) int {
	hints := c.hints
	if hints.NameServers == "" { // a Client not made by Open
		hints = defaultHints
	}
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
	if d := c.Settings.NameServerDomain; d != "" {
		fmt.Fprintf(w, "name servers: listed by %s\n", d)
	} else {
		fmt.Fprintf(w, "name servers: %s\n", strings.Join(c.NameServers(), ", "))
	}
	fmt.Fprintf(w, "connection: %s\n", c.describe())
	rep := c.Probe(ctx, topics...)
	problems := 0
	for _, ns := range rep.NameServers {
		switch {
		case ns.Err != nil:
			problems++
			fmt.Fprintf(w, "✗ name server %s: %v\n", ns.Addr, ns.Err)
			fmt.Fprintf(w, "  Fix: check that a name server runs and listens there, or change the address: %s.\n",
				fmt.Sprintf(hints.NameServers, "host:port"))
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
			if hints.BrokerAddress != "" {
				fmt.Fprintf(w, "  %s\n", hints.BrokerAddress)
			}
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

// describe says how the client connects: TLS, ACL, namespace.
func (c *Client) describe() string {
	s := c.Settings
	parts := []string{"plain TCP"}
	if s.TLS.enabled() {
		parts[0] = "TLS"
		if s.TLS.InsecureSkipVerify {
			parts[0] += " (broker certificate not verified)"
		}
	}
	if cr := s.Credentials; cr != nil && cr.AccessKey != "" {
		parts = append(parts, "ACL access key "+cr.AccessKey)
	}
	if s.Namespace != "" {
		parts = append(parts, "namespace "+s.Namespace)
	}
	return strings.Join(parts, ", ")
}
