package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Report is what a Probe found: what each name server said and whether each broker address
// it handed out can be reached from here.
type Report struct {
	NameServers []NameServerReport
	// Brokers maps every broker address a name server handed out to the dial error (nil:
	// reachable). These are the addresses clients connect to.
	Brokers map[string]error
}

// NameServerReport is one name server's view.
type NameServerReport struct {
	Addr string
	Err  error // the name server could not be asked
	// Brokers maps broker name to its master address (cluster info).
	Brokers map[string]string
	// Routes holds the route of each probed topic: broker name to master address; a topic
	// the name server does not know has a nil map (it is created on first send).
	Routes map[string]map[string]string
}

// OK reports whether a name server answered, knows at least one broker, and every broker
// address handed out is reachable.
func (r Report) OK() bool {
	answered := false
	for _, ns := range r.NameServers {
		if ns.Err == nil && len(ns.Brokers) > 0 {
			answered = true
		}
	}
	if !answered {
		return false
	}
	for _, err := range r.Brokers {
		if err != nil {
			return false
		}
	}
	return true
}

// Err summarises why the report is not OK (nil when it is).
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	var errs []error
	for _, ns := range r.NameServers {
		switch {
		case ns.Err != nil:
			errs = append(errs, fmt.Errorf("name server %s: %w", ns.Addr, ns.Err))
		case len(ns.Brokers) == 0:
			errs = append(errs, fmt.Errorf("name server %s knows no broker", ns.Addr))
		}
	}
	for _, addr := range sortedKeys(r.Brokers) {
		if err := r.Brokers[addr]; err != nil {
			errs = append(errs, fmt.Errorf("broker %s (handed out by the name server): %w", addr, err))
		}
	}
	return errors.Join(errs...)
}

// Probe asks every name server for its cluster and for the routes of topics, then dials
// every broker address they handed out (with WithTLS: and completes the handshake). It
// returns when all answered or ctx ends.
func Probe(ctx context.Context, nameServers []string, topics []string, opts ...Option) Report {
	return newOptions(opts).probe(ctx, nameServers, topics)
}

func (o *options) probe(ctx context.Context, nameServers []string, topics []string) Report {
	rep := Report{NameServers: make([]NameServerReport, len(nameServers)), Brokers: map[string]error{}}
	var wg sync.WaitGroup
	for i, addr := range nameServers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.NameServers[i] = o.askNameServer(ctx, addr, topics)
		}()
	}
	wg.Wait()
	for _, ns := range rep.NameServers {
		for _, a := range ns.Brokers {
			rep.Brokers[a] = nil
		}
		for _, route := range ns.Routes {
			for _, a := range route {
				rep.Brokers[a] = nil
			}
		}
	}
	addrs := sortedKeys(rep.Brokers)
	errs := make([]error, len(addrs))
	for i, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := o.dialNet(ctx, addr)
			if err == nil {
				_ = c.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, addr := range addrs {
		rep.Brokers[addr] = errs[i]
	}
	return rep
}

func (o *options) askNameServer(ctx context.Context, addr string, topics []string) NameServerReport {
	rep := NameServerReport{Addr: addr}
	conn, err := o.dial(ctx, addr)
	if err != nil {
		rep.Err = err
		return rep
	}
	defer conn.Close()
	resp, err := o.invoke(ctx, conn, remoting.NewRequest(remoting.GetBrokerClusterInfo))
	if err != nil {
		rep.Err = fmt.Errorf("GET_BROKER_CLUSTER_INFO: %w", err)
		return rep
	}
	if resp.Code != remoting.Success {
		rep.Err = fmt.Errorf("GET_BROKER_CLUSTER_INFO: code %d %s", resp.Code, resp.Remark)
		return rep
	}
	var info struct {
		BrokerAddrTable map[string]brokerData `json:"brokerAddrTable"`
	}
	if err := json.Unmarshal(standardJSON(resp.Body), &info); err != nil {
		rep.Err = fmt.Errorf("decode cluster info: %w", err)
		return rep
	}
	rep.Brokers = map[string]string{}
	for name, bd := range info.BrokerAddrTable {
		if a, ok := bd.BrokerAddrs["0"]; ok {
			rep.Brokers[name] = a
		}
	}
	routes, _, err := o.readRoutes(ctx, conn, topics)
	if err != nil {
		rep.Err = err
		return rep
	}
	rep.Routes = map[string]map[string]string{}
	for _, t := range topics {
		rep.Routes[t] = routes[t] // nil: the name server does not know the topic
	}
	return rep
}

type brokerData struct {
	Cluster     string            `json:"cluster"`
	BrokerName  string            `json:"brokerName"`
	BrokerAddrs map[string]string `json:"brokerAddrs"`
}

// bareKey matches an unquoted numeric object key, which the Java name server's fastjson
// writes for broker ids ({0:"10.0.0.1:10911"}).
var bareKey = regexp.MustCompile(`([{,]\s*)(-?\d+)(\s*:)`)

// standardJSON quotes the numeric keys of fastjson output so encoding/json can read it.
func standardJSON(b []byte) []byte {
	return bareKey.ReplaceAll(b, []byte(`$1"$2"$3`))
}

func sortedKeys(m map[string]error) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// routesWithQueues returns, per topic, broker name → master address and broker name →
// read queue count, from the first name server that answers.
func (o *options) routesWithQueues(ctx context.Context, nameServers, topics []string) (map[string]map[string]string, map[string]map[string]int, error) {
	var lastErr error
	for _, ns := range nameServers {
		conn, err := o.dial(ctx, ns)
		if err != nil {
			lastErr = err
			continue
		}
		routes, queues, err := o.readRoutes(ctx, conn, topics)
		_ = conn.Close()
		if err == nil {
			return routes, queues, nil
		}
		lastErr = err
	}
	return nil, nil, fmt.Errorf("no name server answered: %w", lastErr)
}

func (o *options) readRoutes(ctx context.Context, conn *remoting.Conn, topics []string) (map[string]map[string]string, map[string]map[string]int, error) {
	routes := map[string]map[string]string{}
	queues := map[string]map[string]int{}
	for _, topic := range topics {
		resp, err := o.invoke(ctx, conn, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", topic))
		if err != nil {
			return nil, nil, fmt.Errorf("GET_ROUTEINFO_BY_TOPIC %s: %w", topic, err)
		}
		switch resp.Code {
		case remoting.Success:
		case remoting.TopicNotExist:
			continue
		default:
			return nil, nil, fmt.Errorf("GET_ROUTEINFO_BY_TOPIC %s: code %d %s", topic, resp.Code, resp.Remark)
		}
		var route struct {
			BrokerDatas []brokerData `json:"brokerDatas"`
			QueueDatas  []struct {
				BrokerName    string `json:"brokerName"`
				ReadQueueNums int    `json:"readQueueNums"`
			} `json:"queueDatas"`
		}
		if err := json.Unmarshal(standardJSON(resp.Body), &route); err != nil {
			return nil, nil, fmt.Errorf("decode route of %s: %w", topic, err)
		}
		routes[topic], queues[topic] = map[string]string{}, map[string]int{}
		for _, bd := range route.BrokerDatas {
			if a, ok := bd.BrokerAddrs["0"]; ok {
				routes[topic][bd.BrokerName] = a
			}
		}
		for _, qd := range route.QueueDatas {
			queues[topic][qd.BrokerName] = qd.ReadQueueNums
		}
	}
	return routes, queues, nil
}
