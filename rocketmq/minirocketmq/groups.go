package minirocketmq

import (
	"sort"
	"sync"
	"time"
)

// SubscriptionGroupConfig is a consumer group's broker-side settings
// (SubscriptionGroupConfig in the Java broker, defaults included). Groups
// are created on their first heartbeat, as with autoCreateSubscriptionGroup.
type SubscriptionGroupConfig struct {
	GroupName                      string `json:"groupName"`
	ConsumeEnable                  bool   `json:"consumeEnable"`
	ConsumeFromMinEnable           bool   `json:"consumeFromMinEnable"`
	ConsumeBroadcastEnable         bool   `json:"consumeBroadcastEnable"`
	RetryQueueNums                 int    `json:"retryQueueNums"`
	RetryMaxTimes                  int    `json:"retryMaxTimes"`
	BrokerID                       int64  `json:"brokerId"`
	WhichBrokerWhenConsumeSlowly   int64  `json:"whichBrokerWhenConsumeSlowly"`
	NotifyConsumerIDsChangedEnable bool   `json:"notifyConsumerIdsChangedEnable"`

	// ConsumeMessageOrderly (5.x; mqadmin updateSubGroup -o) makes the
	// group's gRPC consumers FIFO: one batch in flight per message group.
	ConsumeMessageOrderly bool `json:"consumeMessageOrderly"`
}

func defaultGroupConfig(name string) *SubscriptionGroupConfig {
	return &SubscriptionGroupConfig{
		GroupName:                      name,
		ConsumeEnable:                  true,
		ConsumeFromMinEnable:           true,
		ConsumeBroadcastEnable:         true,
		RetryQueueNums:                 1,
		RetryMaxTimes:                  16,
		WhichBrokerWhenConsumeSlowly:   1,
		NotifyConsumerIDsChangedEnable: true,
	}
}

// groupTable holds subscription group configs. Owner: its mutex; configs
// are immutable once stored.
type groupTable struct {
	mu      sync.Mutex
	m       map[string]*SubscriptionGroupConfig
	version dataVersion
}

func newGroupTable() *groupTable { return &groupTable{m: make(map[string]*SubscriptionGroupConfig)} }

// getOrCreate returns the group's config, creating it with the defaults.
func (g *groupTable) getOrCreate(name string) *SubscriptionGroupConfig {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.m[name]; c != nil {
		return c
	}
	c := defaultGroupConfig(name)
	g.m[name] = c
	g.version.Timestamp = time.Now().UnixMilli()
	g.version.Counter++
	return c
}

// put stores cfg, replacing any config of that name.
func (g *groupTable) put(cfg *SubscriptionGroupConfig) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.m[cfg.GroupName] = cfg
	g.version.Timestamp = time.Now().UnixMilli()
	g.version.Counter++
}

func (g *groupTable) get(name string) *SubscriptionGroupConfig {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m[name]
}

// dataVersion returns the table's data version, which every change bumps.
func (g *groupTable) dataVersion() dataVersion {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.version
}

func (g *groupTable) snapshot() ([]*SubscriptionGroupConfig, dataVersion) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*SubscriptionGroupConfig, 0, len(g.m))
	for _, c := range g.m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GroupName < out[j].GroupName })
	return out, g.version
}

// delete removes a group's config and reports whether it existed.
func (g *groupTable) delete(name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.m[name]; !ok {
		return false
	}
	delete(g.m, name)
	g.version.Timestamp = time.Now().UnixMilli()
	g.version.Counter++
	return true
}
