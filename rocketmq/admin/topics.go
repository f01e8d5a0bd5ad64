package admin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// DefaultTopicQueues is the number of queues EnsureTopics gives a topic it creates (the
// real broker's defaultTopicQueueNums).
const DefaultTopicQueues = 8

// WithMessageType gives the topics EnsureTopics creates the RocketMQ 5 attribute
// message.type (NORMAL, FIFO, DELAY, TRANSACTION or MIXED): a 5.x proxy accepts on a
// topic only the messages of its type (MIXED: any). RocketMQ 4.x brokers ignore it.
// Topics that exist already are left as they are.
func WithMessageType(t string) Option {
	return func(o *options) { o.messageType = t }
}

// EnsureTopics makes sure every topic has a route: topics the name servers do not know
// are created on every master broker of the cluster (UPDATE_AND_CREATE_TOPIC, what
// `mqadmin updateTopic -c` does), then their routes are awaited. Push consumers refuse
// to start on a topic without a route, so the application calls this before it
// subscribes. Creating needs admin rights where ACL is on; the error then says how to
// create the topic by hand.
func EnsureTopics(ctx context.Context, nameServers, topics []string, opts ...Option) error {
	if len(topics) == 0 {
		return nil
	}
	o := newOptions(opts)
	ns, err := o.firstAnswer(ctx, nameServers, topics)
	if err != nil {
		return fmt.Errorf("ensure topics: %w", err)
	}
	var missing []string
	for _, t := range topics {
		if len(ns.Routes[t]) == 0 {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if len(ns.Brokers) == 0 {
		return fmt.Errorf("ensure topics %v: name server %s knows no broker", missing, ns.Addr)
	}
	brokers := ns.brokerAddrs()
	for _, t := range missing {
		for _, addr := range brokers {
			if err := o.createTopic(ctx, addr, t, DefaultTopicQueues); err != nil {
				return fmt.Errorf("topic %s does not exist and could not be created on %s: %w "+
					"(create it with: mqadmin updateTopic -n %s -c DefaultCluster -t %s)", t, addr, err, ns.Addr, t)
			}
		}
	}
	return o.waitForRoutes(ctx, ns.Addr, missing)
}

// firstAnswer probes the name servers (with the routes of topics) and returns the
// report of the first one that answered.
func (o *options) firstAnswer(ctx context.Context, nameServers, topics []string) (*NameServerReport, error) {
	rep := o.probe(ctx, nameServers, topics)
	for i := range rep.NameServers {
		if rep.NameServers[i].Err == nil {
			return &rep.NameServers[i], nil
		}
	}
	return nil, fmt.Errorf("no name server answered: %w", rep.Err())
}

// brokerAddrs returns the addresses of the brokers ns knows, sorted.
func (ns *NameServerReport) brokerAddrs() []string {
	brokers := make([]string, 0, len(ns.Brokers))
	for _, addr := range ns.Brokers {
		brokers = append(brokers, addr)
	}
	sort.Strings(brokers)
	return brokers
}

func (o *options) createTopic(ctx context.Context, brokerAddr, topic string, queues int) error {
	return o.invokeAdmin(ctx, brokerAddr, newTopicRequest(topic, queues, o.messageType))
}

// newTopicRequest is UPDATE_AND_CREATE_TOPIC for a readable and writable topic, with the
// RocketMQ 5 message type attribute when messageType is set.
func newTopicRequest(topic string, queues int, messageType string) *remoting.Command {
	n := fmt.Sprint(queues)
	fields := []string{"topic", topic, "defaultTopic", "TBW102", "readQueueNums", n, "writeQueueNums", n,
		"perm", "6", "topicFilterType", "SINGLE_TAG", "topicSysFlag", "0", "order", "false"}
	if messageType != "" {
		fields = append(fields, "attributes", "+message.type="+messageType)
	}
	return remoting.NewRequest(remoting.UpdateAndCreateTopic, fields...)
}

// waitForRoutes polls the name server until every topic has a route (a real broker
// registers a new topic with its name servers asynchronously).
func (o *options) waitForRoutes(ctx context.Context, nameServer string, topics []string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		rep := o.probe(ctx, []string{nameServer}, topics)
		ready := rep.NameServers[0].Err == nil
		for _, t := range topics {
			ready = ready && len(rep.NameServers[0].Routes[t]) > 0
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics %v created but no route appeared on %s: %w", topics, nameServer, errors.Join(ctx.Err(), rep.Err()))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// DeleteTopics deletes topics from every broker the first answering name server knows,
// then from the name servers (what mqadmin deleteTopic does). Deleting a topic that
// does not exist succeeds.
func DeleteTopics(ctx context.Context, nameServers, topics []string, opts ...Option) error {
	if len(topics) == 0 {
		return nil
	}
	o := newOptions(opts)
	ns, err := o.firstAnswer(ctx, nameServers, nil)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	brokers := ns.brokerAddrs()
	for _, t := range topics {
		for _, addr := range brokers {
			if err := o.invokeAdmin(ctx, addr, remoting.NewRequest(remoting.DeleteTopicInBroker, "topic", t)); err != nil {
				return fmt.Errorf("delete topic %s on broker %s: %w", t, addr, err)
			}
		}
		for _, addr := range nameServers {
			if err := o.invokeAdmin(ctx, addr, remoting.NewRequest(remoting.DeleteTopicInNameSrv, "topic", t)); err != nil {
				return fmt.Errorf("delete topic %s on name server %s: %w", t, addr, err)
			}
		}
	}
	return nil
}

// invokeAdmin sends one admin request to addr and requires a success code.
func (o *options) invokeAdmin(ctx context.Context, addr string, req *remoting.Command) error {
	conn, err := o.dial(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := o.invoke(ctx, conn, req)
	if err != nil {
		return err
	}
	if resp.Code != remoting.Success {
		return fmt.Errorf("code %d: %s", resp.Code, resp.Remark)
	}
	return nil
}
