package minirocketmq

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// Publish: POST /topics/<topic>/messages?ns=<instance> with a <Message>
// body (MessageBody, MessageTag, Properties); 201 with MessageId,
// MessageBodyMD5 and, for a transactional message, the ReceiptHandle that
// commits or rolls it back.
//
// Honoured: the topic must exist (TopicNotExist: HTTP clients cannot
// create topics, as on Aliyun), except %DLQ%<group>, created on its first
// publish (a driver forwarding a dead letter); it must be writable
// (AccessDenied). MessageBody 1 byte .. WithMaxMessageSize
// (InvalidArgument), as text, or base64 with HTTPPropertyBodyEncoding;
// MessageTag without '|', blanks only or control characters; Properties
// "k:v|" pairs (MalformedXML-free but wrong → InvalidArgument), at most
// 128 user properties of 16 KiB in all, no RocketMQ system key except
// those of the API: KEYS, __SHARDINGKEY (the queue is the key's consistent
// hash, as the gRPC endpoint picks it; no key: the next queue in turn),
// __STARTDELIVERTIME (→ TIMER_DELIVER_MS, at most 40 days and
// WithTimerMaxDelay, 3 days by default, ahead: the timer
// holds the message back until then), __TransCheckT (10..300 s: a half
// message, first checked after that long; the producer group is the topic,
// as for gRPC producers), and on %DLQ% topics DLQ_ORIGIN_TOPIC and
// DLQ_ORIGIN_MESSAGE_ID. The message id (UNIQ_KEY) is made here: 32 hex
// digits like the clients' (IP, pid, a random salt, time, counter). With
// SYNC_FLUSH the answer waits for the fsync.

// Limits of a publish.
const (
	httpMaxDelay         = 40 * 24 * time.Hour
	httpMinTransCheck    = 10
	httpMaxTransCheck    = 300
	httpPublishOverhead  = 64 << 10
	httpBodyEscapeFactor = 6 // an XML-escaped character takes up to 6 bytes
)

// publish serves POST.
func (s *httpServer) publish(c *httpCall) {
	limit := int64(s.b.cfg.maxMessageSize)*httpBodyEscapeFactor + httpPublishOverhead
	raw, ok := c.readBody(limit)
	if !ok {
		return
	}
	var req httpPublishRequest
	if !c.decodeXML(raw, &req) {
		return
	}
	m, tx, ok := s.buildMessage(c, &req)
	if !ok {
		return
	}
	tc := s.b.topics.get(c.topic)
	if tc == nil && strings.HasPrefix(c.topic, DLQGroupTopicPrefix) && len(c.topic) > len(DLQGroupTopicPrefix) {
		tc = s.b.createSystemGroupTopic(c.topic, dlqQueueNums)
	}
	switch {
	case tc == nil:
		c.fail(errHTTPTopicNotExist, msgHTTPTopicNotExist)
		return
	case tc.Perm&PermWrite == 0 || tc.WriteQueueNums <= 0:
		c.fail(errHTTPAccessDenied, fmt.Sprintf("The topic %s is not writable.", c.topic))
		return
	}
	m.QueueID = s.pickQueue(tc, m)
	var err error
	if tx {
		err = s.b.sem.tx.prepare(nil, m)
	} else {
		err = s.b.storeMessage(m)
	}
	if err == nil {
		err = s.b.waitDurable(c.r.Context())
	}
	if err != nil {
		s.b.log.Logf(LogLevelError, "HTTP publish to %s from %s: %v", c.topic, c.remote, err)
		c.fail(errHTTPInternal, msgHTTPInternal)
		return
	}
	id, _ := message.Property(m.Properties, message.PropertyUniqueClientMsgIDKey)
	resp := &httpPublishResponse{XMLNS: httpNamespace, MessageID: id, MessageBodyMD5: bodyMD5(*req.MessageBody)}
	if tx {
		resp.ReceiptHandle = transactionID(s.b.storeHost, m.CommitLogOffset, m.QueueOffset)
	}
	c.reply(http.StatusCreated, resp)
}

// buildMessage turns a publish into what the store keeps; tx says it is a
// half message. false: answered.
func (s *httpServer) buildMessage(c *httpCall, req *httpPublishRequest) (m *message.Message, tx, ok bool) {
	bad := func(format string, args ...any) (*message.Message, bool, bool) {
		c.fail(errHTTPInvalidArgument, fmt.Sprintf(format, args...))
		return nil, false, false
	}
	if req.MessageBody == nil {
		return bad("The XML you provided did not validate against our published schema, cause by MessageBody.")
	}
	body := []byte(*req.MessageBody)
	props, why := parseHTTPProperties(req.Properties)
	if why != "" {
		return bad("The value of Properties is invalid: %s.", why)
	}
	if enc, ok := props[HTTPPropertyBodyEncoding]; ok {
		if enc != "base64" {
			return bad("The value of property %s should be base64.", HTTPPropertyBodyEncoding)
		}
		dec, err := base64.StdEncoding.DecodeString(*req.MessageBody)
		if err != nil {
			return bad("The MessageBody is not base64 although property %s says so.", HTTPPropertyBodyEncoding)
		}
		body = dec
		delete(props, HTTPPropertyBodyEncoding)
	}
	if limit := s.b.cfg.maxMessageSize; len(body) == 0 || len(body) > limit {
		return bad("The value of MessageBody should between 1 and %d bytes.", limit)
	}
	tag := req.MessageTag
	if tag != "" && (strings.TrimSpace(tag) == "" || strings.Contains(tag, "|") || hasControl(tag)) {
		return bad("The value of MessageTag is invalid: no '|', control characters or blanks only.")
	}
	special := map[string]string{}
	for _, k := range []string{httpPropKeys, httpPropShardingKey, httpPropStartDeliverTime, httpPropTransCheck} {
		if v, ok := props[k]; ok {
			special[k] = v
			delete(props, k)
		}
	}
	dlq := strings.HasPrefix(c.topic, DLQGroupTopicPrefix)
	if len(props) > maxUserProperties {
		return bad("The message has more than %d properties.", maxUserProperties)
	}
	keys := make([]string, 0, len(props))
	size := len(tag)
	for k, v := range props {
		reserved := reservedProperties[k] || mappedProperties[k]
		if dlq && (k == propertyDLQOriginTopic || k == propertyDLQOriginMsgID) {
			reserved = false
		}
		switch {
		case reserved:
			return bad("The property %s is used by the system.", quoteShort(k))
		case hasControl(k) || hasControl(v):
			return bad("The property %s contains control characters.", quoteShort(k))
		}
		size += len(k) + len(v)
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var p []byte
	for _, k := range keys {
		p = message.AppendProperty(p, k, props[k])
	}
	if tag != "" {
		p = message.AppendProperty(p, message.PropertyTags, tag)
	}
	if v := special[httpPropKeys]; v != "" {
		if hasControl(v) {
			return bad("The value of KEYS contains control characters.")
		}
		size += len(v)
		p = message.AppendProperty(p, message.PropertyKeys, v)
	}
	if size > maxUserPropertyBytes {
		return bad("The properties of the message exceed %d bytes.", maxUserPropertyBytes)
	}
	id := s.newMessageID()
	p = message.AppendProperty(p, message.PropertyUniqueClientMsgIDKey, id)
	if v, ok := special[httpPropShardingKey]; ok {
		if strings.TrimSpace(v) == "" || len(v) >= maxMessageGroupBytes || hasControl(v) {
			return bad("The value of %s should be 1 to %d bytes without control characters.", httpPropShardingKey, maxMessageGroupBytes-1)
		}
		p = message.AppendProperty(p, propertyShardingKey, v)
	}
	if v, ok := special[httpPropStartDeliverTime]; ok {
		at, err := strconv.ParseInt(v, 10, 64)
		if maxDelay := min(httpMaxDelay, s.b.cfg.sem.timerMaxDelay); err != nil || at < 0 || at-s.b.clock.Now().UnixMilli() > maxDelay.Milliseconds() {
			return bad("The value of %s should be a time in milliseconds at most %d ms ahead.", httpPropStartDeliverTime, maxDelay.Milliseconds())
		}
		p = message.AppendProperty(p, propertyTimerDeliverMS, v)
	}
	var sysFlag int32
	if v, ok := special[httpPropTransCheck]; ok {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < httpMinTransCheck || secs > httpMaxTransCheck {
			return bad("The value of %s should between %d and %d seconds.", httpPropTransCheck, httpMinTransCheck, httpMaxTransCheck)
		}
		if dlq || special[httpPropStartDeliverTime] != "" {
			return bad("A transactional message cannot be timed or sent to a dead-letter topic.")
		}
		tx = true
		sysFlag |= message.TransactionPreparedType
		p = message.AppendProperty(p, message.PropertyTransactionPrepared, "true")
		p = message.AppendProperty(p, propertyCheckImmunityTime, v)
	}
	p = message.AppendProperty(p, message.PropertyProducerGroup, c.topic)
	stored := s.b.storedProperties(string(p))
	m = &message.Message{
		Topic:         c.topic,
		SysFlag:       sysFlag,
		BornTimestamp: s.b.clock.Now().UnixMilli(),
		BornHost:      c.remote,
		StoreHost:     s.b.storeHost,
		Body:          body,
		Properties:    stored,
		TagsCode:      tagsCode(stored),
	}
	if err := message.Validate(m); err != nil {
		return bad("The message is invalid: %v.", err)
	}
	return m, tx, true
}

// pickQueue: a sharding key's queue is its consistent hash (as the gRPC
// endpoint and the 5.x proxy pick it), any other message the next queue.
func (s *httpServer) pickQueue(tc *TopicConfig, m *message.Message) int32 {
	if g, _ := message.Property(m.Properties, propertyShardingKey); g != "" {
		return int32(consistentHash(int64(message.JavaStringHash(g)), tc.WriteQueueNums))
	}
	return int32(s.turn.Add(1) % uint32(tc.WriteQueueNums))
}

// newMessageID makes a message id in the clients' shape (32 hex digits):
// the broker's IPv4 address, the pid, the start's salt, the time in ms
// and a counter.
func (s *httpServer) newMessageID() string {
	var b [16]byte
	ip := s.b.storeHost.Addr().As16()
	copy(b[0:4], ip[12:16])
	binary.BigEndian.PutUint16(b[4:6], uint16(os.Getpid()))
	copy(b[6:10], s.salt[:])
	binary.BigEndian.PutUint32(b[10:14], uint32(time.Now().UnixMilli()))
	binary.BigEndian.PutUint16(b[14:16], uint16(s.msgSeq.Add(1)))
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// bodyMD5 is MessageBodyMD5: the upper-case hex MD5 of the body as the
// XML carries it.
func bodyMD5(text string) string {
	sum := md5.Sum([]byte(text))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}
