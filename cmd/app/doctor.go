package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/admin"
	"github.com/kratos-rocketmq/rocketmq/cluster"
)

// doctorTimeout bounds the whole check.
const doctorTimeout = 10 * time.Second

// doctor is `app doctor`: it loads the configuration, asks the name servers for the
// cluster and the routes of the configured topics, dials every broker address they hand
// out and explains what to fix when one cannot be reached (errReported then).
func doctor(confPath, profile string, w, stderr io.Writer) error {
	lvl := &logLevel{}
	_ = lvl.Set("warn")
	logger := newLogger(stderr, appInfo{Name: "doctor"}, "", lvl)
	log.SetLogger(logger)
	bc, _, closeConfig, err := loadConfig(confPath, profile, logger)
	if err != nil {
		return err
	}
	defer closeConfig()
	fmt.Fprintf(w, "RocketMQ doctor (config %s)\n", confPath)
	ep, err := openEndpoint(bc.Server, bc.Data, cluster.WithLogger(logger))
	if err != nil {
		return err
	}
	defer func() { _ = ep.Close() }()
	if ep.Embedded != nil {
		fmt.Fprintf(w, "The configuration selects the embedded broker: started it for this check on %s (name server) and %s (broker).\n",
			ep.Embedded.NameServerAddr(), ep.Embedded.BrokerAddr())
	}
	fmt.Fprintf(w, "name servers: %s\n", strings.Join(ep.Producer.NameServers(), ", "))
	ctx, cancel := context.WithTimeout(context.Background(), doctorTimeout)
	defer cancel()
	topics := []string{ep.Producer.Settings.Qualified(bc.Data.GetRocketmq().GetTopic())}
	for _, sub := range bc.Server.GetRocketmq().GetSubscriptions() {
		topics = append(topics, ep.Consumer.Settings.Qualified(sub.GetTopic()))
	}
	rep := admin.Probe(ctx, ep.Producer.NameServers(), slices.Compact(slices.Sorted(slices.Values(topics))))

	problems := 0
	for _, ns := range rep.NameServers {
		if ns.Err != nil {
			problems++
			fmt.Fprintf(w, "✗ name server %s: %v\n", ns.Addr, ns.Err)
			fmt.Fprintf(w, "  Fix: check the address (data.rocketmq.name_servers / APP_DATA_ROCKETMQ_NAME_SERVERS) and that the name server runs and listens there.\n")
			continue
		}
		if len(ns.Brokers) == 0 {
			problems++
			fmt.Fprintf(w, "✗ name server %s answered but knows no broker\n", ns.Addr)
			fmt.Fprintf(w, "  Fix: start a broker registered with this name server (namesrvAddr in broker.conf, or NAMESRV_ADDR).\n")
			continue
		}
		fmt.Fprintf(w, "✓ name server %s: brokers %s\n", ns.Addr, formatBrokers(ns.Brokers))
		for _, topic := range topics {
			route := ns.Routes[topic]
			if route == nil {
				fmt.Fprintf(w, "  topic %s: no route yet (created on first send when the broker auto-creates topics)\n", topic)
				continue
			}
			fmt.Fprintf(w, "  topic %s: %s\n", topic, formatBrokers(route))
		}
	}
	for _, addr := range sortedAddrs(rep.Brokers) {
		if err := rep.Brokers[addr]; err != nil {
			problems++
			fmt.Fprintf(w, "✗ broker %s cannot be reached from here: %v\n", addr, err)
			fmt.Fprint(w, explainUnreachable(addr))
			continue
		}
		fmt.Fprintf(w, "✓ broker %s reachable\n", addr)
	}
	if problems > 0 {
		fmt.Fprintf(w, "%d problem(s) found.\n", problems)
		return errReported
	}
	fmt.Fprintln(w, "All good: clients of this configuration can produce and consume.")
	return nil
}

// explainUnreachable is the brokerIP1 lesson, for an address the name server hands out.
func explainUnreachable(addr string) string {
	return fmt.Sprintf(`  The name server hands out %s as the broker's address, and every client connects there
  after asking the name server, whatever address you configured. When the broker runs in
  Docker or behind NAT, that address is often the container's own IP (brokerIP1 defaults
  to it), which is unreachable from the host and from other machines.
  Fix: set brokerIP1 in the broker's broker.conf to an address the clients can reach and
  restart the broker. With deploy/docker-compose.yaml: BROKER_IP1=<an IP reachable from
  the clients> make docker-up (the default 127.0.0.1 suits clients on the Docker host).
  For the embedded broker: -advertise host:port (cmd/minirocketmq) / WithAdvertisedAddr.
`, addr)
}

func formatBrokers(m map[string]string) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " → " + m[n]
	}
	return strings.Join(parts, ", ")
}

func sortedAddrs(m map[string]error) []string {
	out := make([]string, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
