package minirocketmq

import (
	"sync"
	"time"
)

// nameServerRegisterPeriod is how often the real broker registers all its
// topics with the name server (registerNameServerPeriod, 30 s).
const nameServerRegisterPeriod = 30 * time.Second

// routeTable is the name server's own view of the routes, where it differs
// from the broker's topic table. Name server and broker share that table
// here, but DELETE_TOPIC_IN_NAMESRV (216) drops a topic from the name
// server only: the broker keeps the topic and its messages, and the route
// comes back when the broker registers its topics again, every 30 s
// (registerBrokerAll) or at once when the topic is created or updated, as
// with the real pair. Deleting a topic for good takes
// DELETE_TOPIC_IN_BROKER (215) as well, which is what the admin tools send.
//
// Owner: its mutex. A dropped topic is remembered with the config it had:
// any later put replaces the config, which is the registration of that
// topic.
type routeTable struct {
	mu      sync.Mutex
	dropped map[string]*TopicConfig
}

func newRouteTable() *routeTable { return &routeTable{dropped: make(map[string]*TopicConfig)} }

// drop removes the route of a topic whose config is tc.
func (r *routeTable) drop(tc *TopicConfig) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropped[tc.TopicName] = tc
}

// hidden reports whether the name server has no route for a topic whose
// current config is tc (dropped, and not registered again since).
func (r *routeTable) hidden(tc *TopicConfig) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.dropped) > 0 && r.dropped[tc.TopicName] == tc
}

// registerAll brings every dropped route back (the broker's periodic
// registration).
func (r *routeTable) registerAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.dropped)
}

// routedTopic returns the config of a topic as the name server routes it:
// nil for an unknown topic or one dropped from the name server.
func (b *Broker) routedTopic(topic string) *TopicConfig {
	tc := b.topics.get(topic)
	if tc != nil && b.routes.hidden(tc) {
		return nil
	}
	return tc
}
