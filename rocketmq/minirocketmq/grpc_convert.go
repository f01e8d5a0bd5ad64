package minirocketmq

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// Names, validation and message conversion between the gRPC protocol and
// the broker's stored messages (GrpcConverter, GrpcValidator, Validators).

// Namespaces: a resource {namespace ns, name n} is the broker's "ns%n", and
// "%RETRY%ns%g" / "%DLQ%ns%g" for retry and dead-letter topics: the names a
// remoting client with namespace ns uses, so both protocols meet on the
// same topics and groups. A resource without a namespace takes the call's
// x-mq-namespace.
const namespaceSeparator = "%"

// wrapNamespace is NamespaceUtil.wrapNamespace.
func wrapNamespace(ns, name string) string {
	if ns == "" || name == "" {
		return name
	}
	for _, p := range []string{RetryGroupTopicPrefix, DLQGroupTopicPrefix} {
		if strings.HasPrefix(name, p) {
			if strings.HasPrefix(name[len(p):], ns+namespaceSeparator) {
				return name
			}
			return p + ns + namespaceSeparator + name[len(p):]
		}
	}
	if strings.HasPrefix(name, ns+namespaceSeparator) {
		return name
	}
	return ns + namespaceSeparator + name
}

// resourceOf splits a broker-side name into namespace and name
// (NamespaceUtil.withoutNamespace / getNamespaceFromResource).
func resourceOf(full string) *v2.Resource {
	prefix, rest := "", full
	for _, p := range []string{RetryGroupTopicPrefix, DLQGroupTopicPrefix} {
		if strings.HasPrefix(full, p) {
			prefix, rest = p, full[len(p):]
			break
		}
	}
	if ns, name, ok := strings.Cut(rest, namespaceSeparator); ok && ns != "" && name != "" {
		return &v2.Resource{ResourceNamespace: ns, Name: prefix + name}
	}
	return &v2.Resource{Name: full}
}

func (c *v5Call) wrap(r *v2.Resource) string {
	ns := r.GetResourceNamespace()
	if ns == "" {
		ns = c.namespace
	}
	return wrapNamespace(ns, r.GetName())
}

const (
	maxGroupLength  = 120
	topicCharsRegex = "^[%|a-zA-Z0-9_-]+$"
	sysGroupPrefix  = "CID_RMQ_SYS_"
)

func illegalChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !validTopicChar(s[i]) {
			return true
		}
	}
	return false
}

// topic validates a request's topic (GrpcValidator.validateTopic) and
// returns its broker-side name.
func (c *v5Call) topic(r *v2.Resource) (string, *v2.Status) {
	name := r.GetName()
	switch {
	case strings.TrimSpace(name) == "":
		return "", grpcStatus(v2.Code_ILLEGAL_TOPIC, "The specified topic is blank")
	case len(name) > maxTopicLength:
		return "", grpcStatus(v2.Code_ILLEGAL_TOPIC, fmt.Sprintf("The specified topic is longer than topic max length %d.", maxTopicLength))
	case illegalChars(name):
		return "", grpcStatus(v2.Code_ILLEGAL_TOPIC, fmt.Sprintf("The specified topic[%s] contains illegal characters, allowing only %s", name, topicCharsRegex))
	case isSystemTopic(name):
		return "", grpcStatus(v2.Code_ILLEGAL_TOPIC, "cannot access system topic")
	}
	full := c.wrap(r)
	if illegalChars(full) || len(full) > maxTopicLength {
		return "", grpcStatus(v2.Code_ILLEGAL_TOPIC, fmt.Sprintf("The specified topic[%s] with its namespace is not a legal topic name", full))
	}
	return full, nil
}

// group validates a request's consumer group (validateConsumerGroup) and
// returns its broker-side name.
func (c *v5Call) group(r *v2.Resource) (string, *v2.Status) {
	name := r.GetName()
	switch {
	case strings.TrimSpace(name) == "":
		return "", grpcStatus(v2.Code_ILLEGAL_CONSUMER_GROUP, "the specified group is blank")
	case len(name) > maxGroupLength:
		return "", grpcStatus(v2.Code_ILLEGAL_CONSUMER_GROUP, fmt.Sprintf("the specified group[%s] is longer than group max length: %d.", name, maxGroupLength))
	case illegalChars(name):
		return "", grpcStatus(v2.Code_ILLEGAL_CONSUMER_GROUP, fmt.Sprintf("the specified group[%s] contains illegal characters, allowing only %s", name, topicCharsRegex))
	case strings.HasPrefix(name, sysGroupPrefix):
		return "", grpcStatus(v2.Code_ILLEGAL_CONSUMER_GROUP, "cannot use system consumer group")
	}
	full := c.wrap(r)
	if illegalChars(full) || len(full) > maxGroupLength+len(c.namespace)+1 {
		return "", grpcStatus(v2.Code_ILLEGAL_CONSUMER_GROUP, fmt.Sprintf("the specified group[%s] with its namespace is not a legal group name", full))
	}
	return full, nil
}

// topicAndGroup validates both (validateTopicAndConsumerGroup).
func (c *v5Call) topicAndGroup(t, g *v2.Resource) (topic, group string, st *v2.Status) {
	if topic, st = c.topic(t); st != nil {
		return "", "", st
	}
	group, st = c.group(g)
	return topic, group, st
}

// Properties a RocketMQ 5 client may not set as user properties
// (MessageConst.STRING_HASH_SET), and the system ones this endpoint maps
// into SystemProperties and so leaves out of user_properties.
var (
	reservedProperties = makeSet("TRACE_ON", "MSG_REGION", "KEYS", "TAGS", "WAIT", "DELAY", "RETRY_TOPIC",
		"REAL_TOPIC", "REAL_QID", "TRAN_MSG", "PGROUP", "MIN_OFFSET", "MAX_OFFSET", "BUYER_ID",
		"ORIGIN_MESSAGE_ID", "TRANSFER_FLAG", "CORRECTION_FLAG", "MQ2_FLAG", "RECONSUME_TIME", "UNIQ_KEY",
		"MAX_RECONSUME_TIMES", "CONSUME_START_TIME", "POP_CK", "POP_CK_OFFSET", "1ST_POP_TIME",
		"TRAN_PREPARED_QUEUE_OFFSET", "DUP_INFO", "EXTEND_UNIQ_INFO", "INSTANCE_ID", "CORRELATION_ID",
		"REPLY_TO_CLIENT", "TTL", "ARRIVE_TIME", "PUSH_REPLY_TIME", "CLUSTER", "MSG_TYPE",
		"INNER_MULTI_QUEUE_OFFSET", "TIMER_DELAY_MS", "TIMER_DELAY_SEC", "TIMER_DELIVER_MS",
		"TIMER_ENQUEUE_MS", "TIMER_DEQUEUE_MS", "TIMER_ROLL_TIMES", "TIMER_OUT_MS", "TIMER_DEL_UNIQKEY",
		"TIMER_DELAY_LEVEL", "__BORNHOST", "BORN_TIMESTAMP", "DLQ_ORIGIN_TOPIC", "DLQ_ORIGIN_MESSAGE_ID",
		"__CRC32#")
	mappedProperties = makeSet(propertyShardingKey, propertyTraceContext, propertyCheckImmunityTime,
		message.PropertyTransactionCheckTimes, "__transactionId__")
)

func makeSet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// Properties of the 5.x protocol (MessageConst).
const (
	propertyShardingKey       = "__SHARDINGKEY"
	propertyTraceContext      = "TRACE_CONTEXT"
	propertyBornHost          = "__BORNHOST"
	propertyBornTimestamp     = "BORN_TIMESTAMP"
	propertyDLQOriginTopic    = "DLQ_ORIGIN_TOPIC"
	propertyDLQOriginMsgID    = "DLQ_ORIGIN_MESSAGE_ID"
	maxDecompressedBodyLength = 64 << 20
)

// messageTypeOf is TopicMessageType.parseFromMessageProperty.
func messageTypeOf(props map[string]string) v2.MessageType {
	switch {
	case isTrue(props[message.PropertyTransactionPrepared]):
		return v2.MessageType_TRANSACTION
	case props[message.PropertyDelayTimeLevel] != "" || props[propertyTimerDeliverMS] != "" ||
		props[propertyTimerDelaySec] != "" || props[propertyTimerDelayMS] != "":
		return v2.MessageType_DELAY
	case props[propertyShardingKey] != "":
		return v2.MessageType_FIFO
	}
	return v2.MessageType_NORMAL
}

// delivery is what a consumer is told about one delivery of a message.
type delivery struct {
	handle    string
	attempt   int
	invisible time.Duration
}

// protoMessage converts a stored message for a consumer (buildMessage).
// Bodies a remoting producer compressed (zlib) are sent decompressed.
func protoMessage(m *message.Message, d delivery) *v2.Message {
	props := message.ParseProperties(m.Properties)
	user := make(map[string]string)
	for k, v := range props {
		if !reservedProperties[k] && !mappedProperties[k] {
			user[k] = v
		}
	}
	body, encoding := m.Body, v2.Encoding_IDENTITY
	if m.SysFlag&message.FlagCompressed != 0 {
		if plain, err := inflate(m.Body); err == nil {
			body = plain
		} else {
			encoding = v2.Encoding_GZIP // the client's decoder tells zlib and gzip apart
		}
	}
	sum := md5.Sum(body)
	sp := &v2.SystemProperties{
		Keys:           message.Keys(m.Properties),
		MessageId:      uniqueKey(m),
		BodyDigest:     &v2.Digest{Type: v2.DigestType_MD5, Checksum: strings.ToUpper(hex.EncodeToString(sum[:]))},
		BodyEncoding:   encoding,
		MessageType:    messageTypeOf(props),
		BornTimestamp:  timestamppb.New(time.UnixMilli(m.BornTimestamp)),
		BornHost:       props[propertyBornHost],
		StoreTimestamp: timestamppb.New(time.UnixMilli(m.StoreTimestamp)),
		StoreHost:      m.StoreHost.String(),
		QueueId:        m.QueueID,
		QueueOffset:    &m.QueueOffset,
	}
	if sp.BornHost == "" && m.BornHost.IsValid() {
		sp.BornHost = m.BornHost.String()
	}
	if v, ok := props[message.PropertyTags]; ok {
		sp.Tag = &v
	}
	if v, err := strconv.ParseInt(props[propertyTimerDeliverMS], 10, 64); err == nil {
		sp.DeliveryTimestamp = timestamppb.New(time.UnixMilli(v))
	}
	if v := props[propertyShardingKey]; v != "" {
		sp.MessageGroup = &v
	}
	if v := props[propertyTraceContext]; v != "" {
		sp.TraceContext = &v
	}
	if t, id := props[propertyDLQOriginTopic], props[propertyDLQOriginMsgID]; t != "" && id != "" {
		sp.DeadLetterQueue = &v2.DeadLetterQueue{Topic: t, MessageId: id}
	}
	if d.handle != "" {
		sp.ReceiptHandle = &d.handle
		sp.InvisibleDuration = durationpb.New(d.invisible)
	}
	attempt := int32(d.attempt)
	if attempt == 0 {
		attempt = m.ReconsumeTimes + 1
	}
	sp.DeliveryAttempt = &attempt
	return &v2.Message{Topic: resourceOf(m.Topic), UserProperties: user, SystemProperties: sp, Body: body}
}

// inflate decompresses a zlib body (the remoting clients' compression),
// refusing to grow past maxDecompressedBodyLength.
func inflate(b []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxDecompressedBodyLength+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxDecompressedBodyLength {
		return nil, fmt.Errorf("decompressed body over %d bytes", maxDecompressedBodyLength)
	}
	return out, nil
}
