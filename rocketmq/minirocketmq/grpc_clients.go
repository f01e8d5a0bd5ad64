package minirocketmq

import (
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// The gRPC clients the endpoint knows (GrpcClientSettingsManager and
// GrpcChannelManager in the proxy): per client id, the settings its
// Telemetry stream sent, what it produces to or consumes as, its open
// Telemetry streams (where transaction checks go), and when it was last
// heard from. A client silent for WithChannelExpiry (120 s; the clients
// heartbeat every 10 s) without an open Telemetry stream is forgotten, and
// so is one that sends NotifyClientTermination; the pop engine then
// releases the messages it was auto-renewing.
//
// Owner: its mutex, never held during I/O (streams are written by their
// own goroutine, see telemetryStream).

// maxV5Clients bounds the registry; requests of further client ids get
// TOO_MANY_REQUESTS.
const maxV5Clients = 10000

type v5Client struct {
	id       string
	remote   string
	language string
	version  string
	lastSeen time.Time

	settings *v2.Settings // as the client sent them; nil before its first
	kind     v2.ClientType
	group    string          // consumer group (broker-side name)
	topics   map[string]bool // producer topics (broker-side names)
	streams  map[*telemetryStream]struct{}
}

type v5Clients struct {
	mu sync.Mutex
	m  map[string]*v5Client
}

func newV5Clients() *v5Clients { return &v5Clients{m: make(map[string]*v5Client)} }

// touch records a request of c's client; false when the registry is full
// and c's client is not in it.
func (r *v5Clients) touch(c *v5Call, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	cl := r.m[c.clientID]
	if cl == nil {
		if len(r.m) >= maxV5Clients {
			return false
		}
		cl = &v5Client{id: c.clientID, streams: make(map[*telemetryStream]struct{})}
		r.m[c.clientID] = cl
	}
	cl.remote, cl.language, cl.version, cl.lastSeen = c.remote.String(), c.language, c.version, now
	return true
}

// setSettings records the settings a client sent, and what it produces to
// or consumes as.
func (r *v5Clients) setSettings(id string, s *v2.Settings, group string, topics []string, ts *telemetryStream) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cl := r.m[id]
	if cl == nil {
		return // expired meanwhile
	}
	cl.settings, cl.kind, cl.group = s, s.GetClientType(), group
	cl.topics = make(map[string]bool, len(topics))
	for _, t := range topics {
		cl.topics[t] = true
	}
	if ts != nil {
		cl.streams[ts] = struct{}{}
	}
}

// settingsOf returns the settings a client sent (nil: none yet).
func (r *v5Clients) settingsOf(id string) *v2.Settings {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cl := r.m[id]; cl != nil {
		return cl.settings
	}
	return nil
}

// dropStream forgets a Telemetry stream that ended.
func (r *v5Clients) dropStream(id string, ts *telemetryStream) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cl := r.m[id]; cl != nil {
		delete(cl.streams, ts)
	}
}

// remove forgets a client and returns its settings (nil when unknown).
func (r *v5Clients) remove(id string) *v2.Settings {
	r.mu.Lock()
	defer r.mu.Unlock()
	cl := r.m[id]
	if cl == nil {
		return nil
	}
	delete(r.m, id)
	return cl.settings
}

// producerStreams returns the open Telemetry streams of the producers of
// topic, in random order.
func (r *v5Clients) producerStreams(topic string) []*telemetryStream {
	r.mu.Lock()
	var out []*telemetryStream
	for _, cl := range r.m {
		if cl.kind == v2.ClientType_PRODUCER && cl.topics[topic] {
			for ts := range cl.streams {
				out = append(out, ts)
			}
		}
	}
	r.mu.Unlock()
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// expired removes and returns the clients silent since before now-expiry
// with no open Telemetry stream.
func (r *v5Clients) expired(now time.Time, expiry time.Duration) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id, cl := range r.m {
		if len(cl.streams) == 0 && now.Sub(cl.lastSeen) > expiry {
			delete(r.m, id)
			out = append(out, id)
		}
	}
	return out
}

// V5Client describes a connected gRPC client (Broker.GRPCClients).
type V5Client struct {
	ClientID string
	Type     string // PRODUCER, PUSH_CONSUMER, SIMPLE_CONSUMER, ... ("" before its settings)
	Group    string // consumer group
	Topics   []string
	Remote   string
	Language string
	Version  string
}

func (r *v5Clients) list() []V5Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]V5Client, 0, len(r.m))
	for _, cl := range r.m {
		c := V5Client{ClientID: cl.id, Group: cl.group, Remote: cl.remote, Language: cl.language, Version: cl.version}
		if cl.settings != nil {
			c.Type = cl.kind.String()
		}
		for t := range cl.topics {
			c.Topics = append(c.Topics, t)
		}
		sort.Strings(c.Topics)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out
}

// expireLoop forgets silent clients; it runs while the endpoint serves.
func (s *grpcServer) expireLoop() {
	defer s.b.wg.Done()
	every := min(10*time.Second, s.b.cfg.channelExpiry/2)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.b.done:
			return
		case now := <-t.C:
			for _, id := range s.clients.expired(now, s.b.cfg.channelExpiry) {
				s.b.log.Logf(LogLevelInfo, "gRPC client %s silent for %v, forgetting it", id, s.b.cfg.channelExpiry)
				s.b.v5.pop.Release(id)
			}
		}
	}
}
