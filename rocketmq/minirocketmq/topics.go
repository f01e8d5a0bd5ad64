package minirocketmq

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Permission bits of a topic (PermName).
const (
	PermPriority = 1 << 3
	PermRead     = 1 << 2
	PermWrite    = 1 << 1
	PermInherit  = 1 << 0
)

// Well-known topics (TopicValidator, MixAll).
const (
	AutoCreateTopicKey    = "TBW102"
	ScheduleTopic         = "SCHEDULE_TOPIC_XXXX"
	TransHalfTopic        = "RMQ_SYS_TRANS_HALF_TOPIC"
	TransOpHalfTopic      = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
	TransCheckMaxTopic    = "TRANS_CHECK_MAX_TIME_TOPIC"
	TraceTopic            = "RMQ_SYS_TRACE_TOPIC"
	SelfTestTopic         = "SELF_TEST_TOPIC"
	OffsetMovedEvent      = "OFFSET_MOVED_EVENT"
	BenchmarkTopic        = "BenchmarkTest"
	RetryGroupTopicPrefix = "%RETRY%"
	DLQGroupTopicPrefix   = "%DLQ%"
	systemTopicPrefix     = "rmq_sys_"
	replyTopicSuffix      = "_REPLY_TOPIC"
	maxTopicLength        = 127
)

// RetryTopic returns the retry topic of a consumer group, %RETRY%<group>.
func RetryTopic(group string) string { return RetryGroupTopicPrefix + group }

// DLQTopic returns the dead-letter topic of a consumer group, %DLQ%<group>.
func DLQTopic(group string) string { return DLQGroupTopicPrefix + group }

// TopicConfig is a topic as the broker knows it; the JSON form is the one of
// GET_ALL_TOPIC_CONFIG (TopicConfig in the Java broker).
type TopicConfig struct {
	TopicName       string `json:"topicName"`
	ReadQueueNums   int    `json:"readQueueNums"`
	WriteQueueNums  int    `json:"writeQueueNums"`
	Perm            int    `json:"perm"`
	TopicFilterType string `json:"topicFilterType"`
	TopicSysFlag    int    `json:"topicSysFlag"`
	Order           bool   `json:"order"`
	// Attributes are the 5.x topic attributes; "message.type" (NORMAL,
	// FIFO, DELAY, TRANSACTION, MIXED) is the one the gRPC endpoint reads
	// (grpc_send.go). Nil for a topic created without any.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// String renders the config like Java's TopicConfig.toString, which the
// broker puts in some remarks.
func (t *TopicConfig) String() string {
	return fmt.Sprintf("TopicConfig [topicName=%s, readQueueNums=%d, writeQueueNums=%d, perm=%s, topicFilterType=%s, topicSysFlag=%d, order=%t]",
		t.TopicName, t.ReadQueueNums, t.WriteQueueNums, permString(t.Perm), t.TopicFilterType, t.TopicSysFlag, t.Order)
}

func permString(p int) string {
	var b strings.Builder
	b.WriteString(map[bool]string{true: "R", false: "-"}[p&PermRead != 0])
	b.WriteString(map[bool]string{true: "W", false: "-"}[p&PermWrite != 0])
	b.WriteString(map[bool]string{true: "X", false: "-"}[p&PermInherit != 0])
	return b.String()
}

func (t *TopicConfig) queueCount() int { return max(t.ReadQueueNums, t.WriteQueueNums) }

// dataVersion is the (timestamp, counter) pair Java tables carry.
type dataVersion struct {
	Timestamp int64 `json:"timestamp"`
	Counter   int64 `json:"counter"`
}

// topicTable holds the topic configs. Owner of its state: its own RWMutex;
// configs are immutable once stored (updates replace the pointer), so a
// caller may keep and read one without the lock.
type topicTable struct {
	mu      sync.RWMutex
	m       map[string]*TopicConfig
	version dataVersion
}

func newTopicTable() *topicTable { return &topicTable{m: make(map[string]*TopicConfig)} }

func (t *topicTable) get(name string) *TopicConfig {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[name]
}

// put stores cfg, replacing any previous config of that name.
func (t *topicTable) put(cfg *TopicConfig) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[cfg.TopicName] = cfg
	t.bump()
}

// putIfAbsent stores cfg unless the topic exists, and returns the config
// in force and whether it was created.
func (t *topicTable) putIfAbsent(cfg *TopicConfig) (*TopicConfig, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.m[cfg.TopicName]; old != nil {
		return old, false
	}
	t.m[cfg.TopicName] = cfg
	t.bump()
	return cfg, true
}

func (t *topicTable) delete(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.m[name]; !ok {
		return false
	}
	delete(t.m, name)
	t.bump()
	return true
}

func (t *topicTable) bump() {
	t.version.Timestamp = time.Now().UnixMilli()
	t.version.Counter++
}

// dataVersion returns the table's data version, which every change bumps.
func (t *topicTable) dataVersion() dataVersion {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.version
}

// snapshot returns the configs sorted by name and the data version.
func (t *topicTable) snapshot() ([]*TopicConfig, dataVersion) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*TopicConfig, 0, len(t.m))
	for _, c := range t.m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TopicName < out[j].TopicName })
	return out, t.version
}

// validTopicChar is TopicValidator.VALID_CHAR_BIT_MAP: ^[%|a-zA-Z0-9_-]+$.
func validTopicChar(c byte) bool {
	return c == '%' || c == '-' || c == '_' || c == '|' ||
		('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// validateTopic returns the SYSTEM_ERROR remark for an invalid topic name,
// "" for a valid one (TopicValidator.validateTopic).
func validateTopic(topic string) string {
	if strings.TrimSpace(topic) == "" {
		return msgTopicBlank
	}
	for i := 0; i < len(topic); i++ {
		if !validTopicChar(topic[i]) {
			return msgTopicIllegalChars
		}
	}
	if len(topic) > maxTopicLength {
		return msgTopicTooLong
	}
	return ""
}

func isSystemTopic(topic string) bool {
	switch topic {
	case AutoCreateTopicKey, ScheduleTopic, BenchmarkTopic, TransHalfTopic, TraceTopic,
		TransOpHalfTopic, TransCheckMaxTopic, SelfTestTopic, OffsetMovedEvent:
		return true
	}
	return strings.HasPrefix(topic, systemTopicPrefix)
}

// isNotAllowedSendTopic lists the system topics clients may not send to.
func isNotAllowedSendTopic(topic string) bool {
	switch topic {
	case ScheduleTopic, TransHalfTopic, TransOpHalfTopic, TransCheckMaxTopic, SelfTestTopic, OffsetMovedEvent:
		return true
	}
	return false
}

// builtinTopics returns the topics a fresh broker has (TopicConfigManager):
// the ones clients and the later features rely on, at the real queue counts.
func (b *Broker) builtinTopics() []*TopicConfig {
	rw := PermRead | PermWrite
	topics := []*TopicConfig{
		{TopicName: SelfTestTopic, ReadQueueNums: 1, WriteQueueNums: 1, Perm: rw},
		{TopicName: b.cfg.clusterName, ReadQueueNums: 16, WriteQueueNums: 16, Perm: rw | PermInherit},
		{TopicName: b.cfg.brokerName, ReadQueueNums: 1, WriteQueueNums: 1, Perm: rw | PermInherit},
		{TopicName: OffsetMovedEvent, ReadQueueNums: 1, WriteQueueNums: 1, Perm: rw},
		{TopicName: ScheduleTopic, ReadQueueNums: len(b.cfg.sem.delayLevels), WriteQueueNums: len(b.cfg.sem.delayLevels), Perm: rw},
		{TopicName: TraceTopic, ReadQueueNums: 1, WriteQueueNums: 1, Perm: rw},
		{TopicName: b.cfg.clusterName + replyTopicSuffix, ReadQueueNums: 1, WriteQueueNums: 1, Perm: rw},
	}
	if b.cfg.autoCreateTopic {
		topics = append(topics, &TopicConfig{TopicName: AutoCreateTopicKey, ReadQueueNums: 8, WriteQueueNums: 8, Perm: rw | PermInherit})
	}
	for _, t := range topics {
		t.TopicFilterType = "SINGLE_TAG"
	}
	return topics
}

// createTopicOnSend creates topic from the send's default topic
// (createTopicInSendMessageMethod): only when auto-creation is on and the
// default topic exists with the inherit permission. It returns nil when the
// topic may not be created.
func (b *Broker) createTopicOnSend(topic, defaultTopic string) *TopicConfig {
	if !b.cfg.autoCreateTopic {
		return nil
	}
	def := b.topics.get(defaultTopic)
	if def == nil || def.Perm&PermInherit == 0 {
		return nil
	}
	cfg, created := b.topics.putIfAbsent(&TopicConfig{
		TopicName:       topic,
		ReadQueueNums:   b.cfg.defaultQueues,
		WriteQueueNums:  b.cfg.defaultQueues,
		Perm:            def.Perm &^ PermInherit,
		TopicFilterType: "SINGLE_TAG",
	})
	if created {
		b.log.Logf(LogLevelInfo, "auto-created topic %s with %d queues", topic, cfg.WriteQueueNums)
		b.persistConfigsOrLog()
	}
	return cfg
}

// createSystemGroupTopic creates a %RETRY% or %DLQ% topic with queues
// queues and read/write permission unless it exists
// (createTopicInSendMessageBackMethod).
func (b *Broker) createSystemGroupTopic(topic string, queues int) *TopicConfig {
	cfg, created := b.topics.putIfAbsent(&TopicConfig{
		TopicName:       topic,
		ReadQueueNums:   queues,
		WriteQueueNums:  queues,
		Perm:            PermRead | PermWrite,
		TopicFilterType: "SINGLE_TAG",
	})
	if created {
		b.log.Logf(LogLevelInfo, "created topic %s", topic)
		b.persistConfigsOrLog()
	}
	return cfg
}
