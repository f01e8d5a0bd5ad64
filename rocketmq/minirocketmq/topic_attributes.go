package minirocketmq

import (
	"fmt"
	"maps"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Topic attributes (RocketMQ 5: TopicAttributes). The one that matters here
// is the topic's message type, which the gRPC endpoint checks sends against
// and puts in routes (accept_message_types), as the 5.x proxy does.
const (
	// AttributeMessageType is the attribute holding a topic's message type.
	AttributeMessageType = "message.type"

	// Topic message types (TopicMessageType). A topic without the
	// attribute is NORMAL.
	MessageTypeNormal      = "NORMAL"
	MessageTypeFIFO        = "FIFO"
	MessageTypeDelay       = "DELAY"
	MessageTypeTransaction = "TRANSACTION"
	MessageTypeMixed       = "MIXED"
)

// messageType returns the topic's message type (NORMAL without the
// attribute).
func (t *TopicConfig) messageType() string {
	if v := t.Attributes[AttributeMessageType]; v != "" {
		return v
	}
	return MessageTypeNormal
}

func validMessageType(v string) bool {
	switch v {
	case MessageTypeNormal, MessageTypeFIFO, MessageTypeDelay, MessageTypeTransaction, MessageTypeMixed:
		return true
	}
	return false
}

// topicAttributes returns the attributes of topic after an
// UPDATE_AND_CREATE_TOPIC request: the existing ones with the request's
// "attributes" field applied (AttributeParser: "+key=value" sets, "-key"
// removes, comma-separated). Malformed items and message types outside the
// known set are ignored (logged).
func (b *Broker) topicAttributes(topic string, req *remoting.Command) map[string]string {
	var attrs map[string]string
	if old := b.topics.get(topic); old != nil && len(old.Attributes) > 0 {
		attrs = maps.Clone(old.Attributes)
	}
	v, ok := req.Lookup("attributes")
	if !ok || strings.TrimSpace(v) == "" {
		return attrs
	}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		switch {
		case strings.HasPrefix(item, "+") && strings.Contains(item, "="):
			k, val, _ := strings.Cut(item[1:], "=")
			if k == AttributeMessageType && !validMessageType(val) {
				b.log.Logf(LogLevelWarn, "topic %s: ignoring %s=%s (not one of NORMAL, FIFO, DELAY, TRANSACTION, MIXED)", topic, k, val)
				continue
			}
			if attrs == nil {
				attrs = make(map[string]string)
			}
			attrs[k] = val
		case strings.HasPrefix(item, "-") && len(item) > 1:
			delete(attrs, item[1:])
		default:
			b.log.Logf(LogLevelWarn, "topic %s: ignoring malformed attribute %q (want +key=value or -key)", topic, item)
		}
	}
	return attrs
}

// SetTopicMessageType sets the message type of an existing topic (NORMAL,
// FIFO, DELAY, TRANSACTION or MIXED), as mqadmin updateTopic -a
// +message.type=... does. The gRPC endpoint refuses sends of other types
// to it (WithGRPCMessageTypeCheck).
func (b *Broker) SetTopicMessageType(topic, messageType string) error {
	if !validMessageType(messageType) {
		return fmt.Errorf("minirocketmq: message type %q: want NORMAL, FIFO, DELAY, TRANSACTION or MIXED", messageType)
	}
	old := b.topics.get(topic)
	if old == nil {
		return fmt.Errorf("minirocketmq: topic %s does not exist", topic)
	}
	cfg := *old
	cfg.Attributes = maps.Clone(old.Attributes)
	if cfg.Attributes == nil {
		cfg.Attributes = make(map[string]string)
	}
	cfg.Attributes[AttributeMessageType] = messageType
	b.topics.put(&cfg)
	return nil
}
