package minirocketmq

import (
	"math/rand/v2"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Retry topics and dead-letter queues. A consumer group's failed messages
// go to %RETRY%<group>, after a back-off through the delay levels, and once
// they have been reconsumed maxReconsumeTimes times to %DLQ%<group>. To
// clients both are ordinary topics: consumers subscribe their retry topic
// themselves, and a dead-letter topic is consumed like any other (one
// queue, read + write, as 4.9.4 creates it).
//
// Better than the real broker: the name server answers the route of any
// %RETRY% or %DLQ% topic from the first request, and a pull of one that
// does not exist yet waits as on an empty queue. The real broker creates a
// retry topic on the group's first heartbeat, so a consumer that asked for
// its routes before that (the Go client does, on Start) learns of it at
// its next 30 s route poll, and the first redelivery can take 20-40 s
// instead of its back-off; and a dead-letter topic exists only after the
// first dead letter, so a consumer of it cannot start earlier. Asking
// creates nothing: the topics themselves are created only where the real
// broker creates them (a consumer's heartbeat and CONSUMER_SEND_MSG_BACK
// for %RETRY%, a send to a missing %RETRY% topic, a dead letter for
// %DLQ%), so an unauthenticated route query cannot add topics.
//
// Nothing here has state of its own: retries are messages parked in the
// schedule queues (delay.go), dead letters messages in their topic.

// dlqQueueNums is DLQ_NUMS_PER_GROUP.
const dlqQueueNums = 1

// groupTopicConfig returns the config a %RETRY% or %DLQ% topic that does
// not exist yet will have once it is created: what its route says and its
// pulls assume until then. It is not stored. Nil for any other topic.
func (b *Broker) groupTopicConfig(topic string) *TopicConfig {
	if validateTopic(topic) != "" {
		return nil
	}
	queues := 0
	switch {
	case strings.HasPrefix(topic, RetryGroupTopicPrefix) && len(topic) > len(RetryGroupTopicPrefix):
		queues = defaultGroupConfig("").RetryQueueNums
		if gc := b.groups.get(strings.TrimPrefix(topic, RetryGroupTopicPrefix)); gc != nil {
			queues = gc.RetryQueueNums
		}
	case strings.HasPrefix(topic, DLQGroupTopicPrefix) && len(topic) > len(DLQGroupTopicPrefix):
		queues = dlqQueueNums
	}
	if queues <= 0 {
		return nil
	}
	return &TopicConfig{TopicName: topic, ReadQueueNums: queues, WriteQueueNums: queues, Perm: PermRead | PermWrite, TopicFilterType: "SINGLE_TAG"}
}

// maxReconsumeTimes is the limit for a group: the client's header value
// when it sent one (every client since 3.4.9 does; the Go client sends 16
// unless told otherwise), else the group's retryMaxTimes.
func maxReconsumeTimes(gc *SubscriptionGroupConfig, header int32, sent bool) int32 {
	if sent {
		return header
	}
	return int32(gc.RetryMaxTimes)
}

// rerouteRetry handles a message sent straight to %RETRY%<group>
// (handleRetryAndDLQ; the Go consumer does this when CONSUMER_SEND_MSG_BACK
// fails): once its reconsumeTimes reaches the limit it becomes a dead
// letter. maxHeader < 0 means the header had no maxReconsumeTimes.
func (b *Broker) rerouteRetry(m *message.Message, maxHeader int32) (int16, string) {
	group := strings.TrimPrefix(m.Topic, RetryGroupTopicPrefix)
	gc := b.groups.get(group)
	if gc == nil {
		return remoting.SubscriptionGroupNotExist, remarkf(msgSubscriptionGroupNotExist, group)
	}
	if m.ReconsumeTimes >= maxReconsumeTimes(gc, maxHeader, maxHeader >= 0) {
		return b.makeDeadLetter(m, group)
	}
	return remoting.Success, ""
}

// makeDeadLetter points m at %DLQ%<group> (created when missing), without
// a delay.
func (b *Broker) makeDeadLetter(m *message.Message, group string) (int16, string) {
	topic := DLQTopic(group)
	tc := b.createSystemGroupTopic(topic, dlqQueueNums)
	if tc.Perm&PermWrite == 0 {
		return remoting.NoPermission, remarkf(msgTopicSendForbidden, topic)
	}
	m.Topic = topic
	m.QueueID = int32(rand.IntN(max(tc.WriteQueueNums, 1)))
	m.Properties = message.EditProperties(m.Properties, []string{message.PropertyDelayTimeLevel})
	b.log.Logf(LogLevelInfo, "group %s: message %s reconsumed %d times, moved to %s", group, uniqueKey(m), m.ReconsumeTimes, topic)
	return remoting.Success, ""
}

// uniqueKey is the message id a user sees: UNIQ_KEY, else the offset
// message id.
func uniqueKey(m *message.Message) string {
	if v, ok := message.Property(m.Properties, message.PropertyUniqueClientMsgIDKey); ok && v != "" {
		return v
	}
	return message.OffsetMsgID(m.StoreHost, m.CommitLogOffset)
}
