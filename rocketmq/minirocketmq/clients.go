package minirocketmq

import (
	"sort"
	"sync"
	"time"
)

// clientRegistry knows which client is behind which connection, and which
// connections belong to which producer and consumer groups
// (ConsumerManager + ProducerManager). Owner: its mutex, never held during
// I/O; group-change notifications are collected under it and sent after.
//
// This is also the seam for broker→client requests: producerConns gives the
// live connections of a producer group (transaction check-back) and
// clientConn the connection of a client id (request-reply push); send on
// them with Conn.Invoke from a goroutine other than that connection's
// reader.
type clientRegistry struct {
	mu        sync.Mutex
	channels  map[*conn]*clientChannel
	consumers map[string]*consumerGroup
	producers map[string]map[*conn]*clientChannel
}

// clientChannel is one client connection that has heartbeated.
type clientChannel struct {
	conn       *conn
	clientID   string
	language   string
	version    int16
	lastUpdate time.Time // real time of the last heartbeat
}

// consumerGroup is ConsumerGroupInfo: members and the group's subscriptions.
type consumerGroup struct {
	name             string
	consumeType      string
	messageModel     string
	consumeFromWhere string
	members          map[*conn]*clientChannel
	subs             map[string]*subscription
}

func newClientRegistry() *clientRegistry {
	return &clientRegistry{
		channels:  make(map[*conn]*clientChannel),
		consumers: make(map[string]*consumerGroup),
		producers: make(map[string]map[*conn]*clientChannel),
	}
}

// touch records a heartbeat from c and returns its channel.
func (r *clientRegistry) touchLocked(c *conn, clientID, language string, version int16, now time.Time) *clientChannel {
	ch := r.channels[c]
	if ch == nil {
		ch = &clientChannel{conn: c}
		r.channels[c] = ch
	}
	ch.clientID, ch.language, ch.version, ch.lastUpdate = clientID, language, version, now
	return ch
}

// consumerRegistration is one consumerDataSet entry of a heartbeat.
type consumerRegistration struct {
	group, consumeType, messageModel, consumeFromWhere string
	subs                                               []*subscription
}

// registerConsumer adds ch to the group and merges its subscriptions
// (ConsumerGroupInfo.updateChannel + updateSubscription). It reports
// whether the group changed in a way members must hear about: a new member
// or a topic added or removed.
func (r *clientRegistry) registerConsumerLocked(ch *clientChannel, reg consumerRegistration) bool {
	g := r.consumers[reg.group]
	if g == nil {
		g = &consumerGroup{name: reg.group, members: make(map[*conn]*clientChannel), subs: make(map[string]*subscription)}
		r.consumers[reg.group] = g
	}
	g.consumeType, g.messageModel, g.consumeFromWhere = reg.consumeType, reg.messageModel, reg.consumeFromWhere
	changed := false
	if old := g.members[ch.conn]; old == nil {
		changed = true
	}
	g.members[ch.conn] = ch
	seen := make(map[string]bool, len(reg.subs))
	for _, s := range reg.subs {
		seen[s.Topic] = true
		old := g.subs[s.Topic]
		switch {
		case old == nil:
			g.subs[s.Topic] = s
			changed = true
		case s.SubVersion > old.SubVersion:
			g.subs[s.Topic] = s
		}
	}
	for topic := range g.subs {
		if !seen[topic] {
			delete(g.subs, topic)
			changed = true
		}
	}
	return changed
}

func (r *clientRegistry) registerProducerLocked(ch *clientChannel, group string) {
	m := r.producers[group]
	if m == nil {
		m = make(map[*conn]*clientChannel)
		r.producers[group] = m
	}
	m[ch.conn] = ch
}

// heartbeat applies one heartbeat and returns the consumer groups whose
// members must be notified.
func (r *clientRegistry) heartbeat(c *conn, clientID, language string, version int16, producers []string, consumers []consumerRegistration, now time.Time) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := r.touchLocked(c, clientID, language, version, now)
	var changed []string
	for _, reg := range consumers {
		if r.registerConsumerLocked(ch, reg) {
			changed = append(changed, reg.group)
		}
	}
	for _, g := range producers {
		r.registerProducerLocked(ch, g)
	}
	return changed
}

// unregister removes c from a producer and/or consumer group
// (UNREGISTER_CLIENT) and returns the groups to notify.
func (r *clientRegistry) unregister(c *conn, producerGroup, consumerGroup string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if producerGroup != "" {
		r.removeProducerLocked(c, producerGroup)
	}
	if consumerGroup != "" && r.removeConsumerLocked(c, consumerGroup) {
		return []string{consumerGroup}
	}
	return nil
}

func (r *clientRegistry) removeProducerLocked(c *conn, group string) {
	if m := r.producers[group]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(r.producers, group)
		}
	}
}

// removeConsumerLocked removes c from group and reports whether members
// remain to be notified.
func (r *clientRegistry) removeConsumerLocked(c *conn, group string) bool {
	g := r.consumers[group]
	if g == nil || g.members[c] == nil {
		return false
	}
	delete(g.members, c)
	if len(g.members) == 0 {
		delete(r.consumers, group)
		return false
	}
	return true
}

// connClosed forgets c everywhere and returns the groups to notify.
func (r *clientRegistry) connClosed(c *conn) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.channels[c] == nil {
		return nil
	}
	delete(r.channels, c)
	var notify []string
	for name := range r.consumers {
		if r.removeConsumerLocked(c, name) {
			notify = append(notify, name)
		}
	}
	for name := range r.producers {
		r.removeProducerLocked(c, name)
	}
	sort.Strings(notify)
	return notify
}

// expired returns the connections whose last heartbeat is older than ttl.
func (r *clientRegistry) expired(now time.Time, ttl time.Duration) []*conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*conn
	for c, ch := range r.channels {
		if now.Sub(ch.lastUpdate) > ttl {
			out = append(out, c)
		}
	}
	return out
}

// consumerIDs returns the client ids of a group's members, sorted.
func (r *clientRegistry) consumerIDs(group string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.consumers[group]
	if g == nil {
		return nil
	}
	ids := make([]string, 0, len(g.members))
	for _, ch := range g.members {
		ids = append(ids, ch.clientID)
	}
	sort.Strings(ids)
	return ids
}

// memberConns returns the connections of a consumer group's members.
func (r *clientRegistry) memberConns(group string) []*conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.consumers[group]
	if g == nil {
		return nil
	}
	out := make([]*conn, 0, len(g.members))
	for c := range g.members {
		out = append(out, c)
	}
	return out
}

// subscription returns a group's subscription of topic; groupKnown tells a
// missing group from a missing topic.
func (r *clientRegistry) subscription(group, topic string) (s *subscription, groupKnown bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.consumers[group]
	if g == nil {
		return nil, false
	}
	return g.subs[topic], true
}

// producerConns returns the live connections of a producer group (for
// transaction check-back).
func (r *clientRegistry) producerConns(group string) []*conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*conn, 0, len(r.producers[group]))
	for c := range r.producers[group] {
		out = append(out, c)
	}
	return out
}

// clientConn returns a connection of the client with that id (for
// request-reply push), nil when there is none.
func (r *clientRegistry) clientConn(clientID string) *conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c, ch := range r.channels {
		if ch.clientID == clientID {
			return c
		}
	}
	return nil
}

// clientGone is called when a connection ends.
func (b *Broker) clientGone(c *conn) {
	b.notifyConsumerIDsChanged(b.clients.connClosed(c))
}

// producerIDs returns the client ids of a producer group's live members,
// sorted.
func (r *clientRegistry) producerIDs(group string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.producers[group]))
	for _, ch := range r.producers[group] {
		ids = append(ids, ch.clientID)
	}
	sort.Strings(ids)
	return ids
}

// consumerConn returns the connection of a consumer group's member with
// that client id, and its protocol version; nil when it is not online.
func (r *clientRegistry) consumerConn(group, clientID string) (*conn, int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if g := r.consumers[group]; g != nil {
		for c, ch := range g.members {
			if ch.clientID == clientID {
				return c, ch.version
			}
		}
	}
	return nil, 0
}

// addProducer remembers c as a connection of a producer group before its
// first heartbeat: a transactional send names its group, so a check-back
// can reach the producer at once (the Go client heartbeats a broker only
// after it has routed a topic there, up to 30 s later). Like a heartbeat
// it starts the connection's expiry clock; it does not refresh it.
func (r *clientRegistry) addProducer(c *conn, group string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := r.channels[c]
	if ch == nil {
		ch = &clientChannel{conn: c, lastUpdate: now}
		r.channels[c] = ch
	}
	r.registerProducerLocked(ch, group)
}

// groupTopics returns the topics a consumer group's live members
// subscribe, and the group's message model ("" when it has no member).
func (r *clientRegistry) groupTopics(group string) ([]string, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.consumers[group]
	if g == nil {
		return nil, ""
	}
	topics := make([]string, 0, len(g.subs))
	for t := range g.subs {
		topics = append(topics, t)
	}
	return topics, g.messageModel
}

// addClient remembers c as the connection of clientID before its first
// heartbeat: a request of request-reply names its sender in REPLY_TO_CLIENT,
// so its reply can be pushed at once (the Go client heartbeats a broker only
// after it has routed a topic there, up to 30 s later). An id learnt from a
// heartbeat is never replaced. Like a heartbeat it starts the connection's
// expiry clock; it does not refresh it.
func (r *clientRegistry) addClient(c *conn, clientID string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := r.channels[c]
	if ch == nil {
		ch = &clientChannel{conn: c, lastUpdate: now}
		r.channels[c] = ch
	}
	if ch.clientID == "" {
		ch.clientID = clientID
	}
}
