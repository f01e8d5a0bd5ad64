package minirocketmq

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// SendMessage: store messages (SendMessageActivity + ProducerProcessor).
//
// Honoured, with the proxy's codes and messages: at least one message
// (MESSAGE_CORRUPTED), one topic for all (MESSAGE_CORRUPTED), the topic
// (validated; must exist: TOPIC_NOT_FOUND; be writable: FORBIDDEN "no
// writable queue"), the body (not empty: MESSAGE_BODY_EMPTY; at most
// WithMaxMessageSize: MESSAGE_BODY_TOO_LARGE; GZIP bodies are stored
// decompressed, so remoting consumers read them too, and the bodies of a
// request, decompressed, at most batchBodyLimit in all, also
// MESSAGE_BODY_TOO_LARGE; a digest, when sent, must match:
// MESSAGE_CORRUPTED), user properties (at most 128, no system
// key: ILLEGAL_MESSAGE_PROPERTY_KEY; no control characters), tag (no '|',
// no blank or control characters: ILLEGAL_MESSAGE_TAG), keys
// (ILLEGAL_MESSAGE_KEY), the user part at most 16 KiB
// (MESSAGE_PROPERTIES_TOO_LARGE), message id (required: ILLEGAL_MESSAGE_ID;
// it becomes UNIQ_KEY, the id remoting consumers see), message group (→
// __SHARDINGKEY; < 64 bytes: ILLEGAL_MESSAGE_GROUP), delivery timestamp (→
// TIMER_DELIVER_MS, at most a day (and WithTimerMaxDelay) ahead:
// ILLEGAL_DELIVERY_TIME; timer.go
// holds the message back until then), message type TRANSACTION (a half
// message, with CHECK_IMMUNITY_TIME_IN_SECONDS from
// orphaned_transaction_recovery_duration, at most an hour: BAD_REQUEST),
// trace context, born host and timestamp. The producer group is the topic
// (as the proxy: transaction checks go to the topic's producers). With
// WithGRPCMessageTypeCheck (on by default) the first message's type must be
// the topic's (MESSAGE_PROPERTY_CONFLICT_WITH_TYPE), except for %RETRY% and
// %DLQ% topics. One message with a message group goes to the queue its
// group hashes to (Guava's consistentHash of String.hashCode, as the
// proxy); others to the next queue in turn; a batch to one queue.
//
// Each message is stored as a SEND_MESSAGE would store it (CLUSTER added);
// with SYNC_FLUSH the answer waits for the fsync. Entries: message_id,
// offset (the queue offset where it was stored: the half, timer or real
// queue), transaction_id for transactional messages (it names the half
// message: EndTransaction quotes it).

// Limits of a gRPC send (ProxyConfig).
const (
	maxUserProperties    = 128
	maxUserPropertyBytes = 16 * 1024
	maxMessageGroupBytes = 64
	maxTxRecovery        = time.Hour
)

// SendMessage serves the RPC.
func (s *grpcServer) SendMessage(ctx context.Context, req *v2.SendMessageRequest) (*v2.SendMessageResponse, error) {
	c, st := s.begin(ctx, func(c *v5Call) []acl.GRPCResource {
		if len(req.GetMessages()) == 0 {
			return nil
		}
		return []acl.GRPCResource{{Name: c.wrap(req.GetMessages()[0].GetTopic()), Access: acl.AccessPub}}
	})
	if st != nil {
		return &v2.SendMessageResponse{Status: st}, nil
	}
	resp, err := s.send(ctx, c, req)
	if resp.Status == nil {
		resp.Status = aggregate(len(resp.Entries), func(i int) *v2.Status { return resp.Entries[i].Status }, "send status is empty")
	}
	return resp, err
}

func (s *grpcServer) send(ctx context.Context, c *v5Call, req *v2.SendMessageRequest) (*v2.SendMessageResponse, error) {
	fail := func(code v2.Code, msg string) (*v2.SendMessageResponse, error) {
		return &v2.SendMessageResponse{Status: grpcStatus(code, msg)}, nil
	}
	if len(req.GetMessages()) == 0 {
		return fail(v2.Code_MESSAGE_CORRUPTED, "no message to send")
	}
	first := req.GetMessages()[0]
	topic, st := c.topic(first.GetTopic())
	if st != nil {
		return &v2.SendMessageResponse{Status: st}, nil
	}
	msgs := make([]*message.Message, 0, len(req.GetMessages()))
	budget := s.batchBodyLimit()
	for _, pm := range req.GetMessages() {
		if !proto.Equal(pm.GetTopic(), first.GetTopic()) {
			return fail(v2.Code_MESSAGE_CORRUPTED, "topic in message is not same")
		}
		m, st := s.buildMessage(c, pm, topic, &budget)
		if st != nil {
			return &v2.SendMessageResponse{Status: st}, nil
		}
		msgs = append(msgs, m)
	}
	tc, st := s.topicConfig(topic)
	if st != nil {
		return &v2.SendMessageResponse{Status: st}, nil
	}
	if !s.b.cfg.v5.noTypeCheck && !strings.HasPrefix(topic, RetryGroupTopicPrefix) && !strings.HasPrefix(topic, DLQGroupTopicPrefix) {
		want, got := tc.messageType(), messageTypeOf(message.ParseProperties(msgs[0].Properties)).String()
		if got != want && want != MessageTypeMixed {
			return fail(v2.Code_MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
				fmt.Sprintf("TopicMessageType validate failed, the expected type is %s, but actual type is %s", want, got))
		}
	}
	if tc.Perm&PermWrite == 0 || tc.WriteQueueNums <= 0 {
		return fail(v2.Code_FORBIDDEN, "no writable queue")
	}
	if s.b.topics.get(topic) == nil { // a %RETRY% or %DLQ% topic sent to before it exists
		tc = s.b.createSystemGroupTopic(topic, tc.WriteQueueNums)
	}
	queueID := s.pickQueue(tc, msgs)
	resp := &v2.SendMessageResponse{}
	for i, m := range msgs {
		m.QueueID = queueID
		id := req.GetMessages()[i].GetSystemProperties().GetMessageId()
		tx := message.TransactionValue(m.SysFlag) == message.TransactionPreparedType
		var err error
		if tx {
			err = s.b.sem.tx.prepare(nil, m)
		} else {
			err = s.b.storeMessage(m)
		}
		if err != nil {
			s.b.log.Logf(LogLevelError, "gRPC send of client %s to %s: %v", c.clientID, topic, err)
			resp.Entries = append(resp.Entries, &v2.SendResultEntry{Status: grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, "send message failed, "+err.Error())})
			continue
		}
		e := &v2.SendResultEntry{Status: okStatus(), MessageId: id, Offset: m.QueueOffset}
		if tx {
			e.TransactionId = transactionID(s.b.storeHost, m.CommitLogOffset, m.QueueOffset)
		}
		resp.Entries = append(resp.Entries, e)
	}
	if err := s.b.waitDurable(ctx); err != nil {
		for _, e := range resp.Entries {
			if e.Status.Code == v2.Code_OK {
				e.Status = grpcStatus(v2.Code_MASTER_PERSISTENCE_TIMEOUT, "send message failed, flush: "+err.Error())
			}
		}
	}
	return resp, nil
}

// waitDurable waits, with SYNC_FLUSH, until what was stored so far is
// fsynced (respondWhenDurable for gRPC: the caller's goroutine may wait).
func (b *Broker) waitDurable(ctx context.Context) error {
	if b.syncer == nil {
		return nil
	}
	done := make(chan error, 1)
	b.syncer.AfterSync(func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// aggregate is the proxy's response status over entries: the one code they
// share, MULTIPLE_RESULTS when they differ, INTERNAL_SERVER_ERROR with
// empty when there are none.
func aggregate(n int, at func(int) *v2.Status, empty string) *v2.Status {
	if n == 0 {
		return grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, empty)
	}
	code := at(0).GetCode()
	for i := 1; i < n; i++ {
		if at(i).GetCode() != code {
			return grpcStatus(v2.Code_MULTIPLE_RESULTS, "")
		}
	}
	return grpcStatus(code, "")
}

// pickQueue is SendMessageQueueSelector: a single message with a message
// group goes where the group hashes to, anything else to the next queue.
func (s *grpcServer) pickQueue(tc *TopicConfig, msgs []*message.Message) int32 {
	if len(msgs) == 1 {
		if g, _ := message.Property(msgs[0].Properties, propertyShardingKey); g != "" {
			return int32(consistentHash(int64(message.JavaStringHash(g)), tc.WriteQueueNums))
		}
	}
	return int32(s.sendTurn.Add(1) % uint32(tc.WriteQueueNums))
}

// buildMessage turns one gRPC message into what the store keeps
// (buildMessageProperty and friends). Its body is taken from *budget, the
// bytes the rest of the request may still hold.
func (s *grpcServer) buildMessage(c *v5Call, pm *v2.Message, topic string, budget *int) (*message.Message, *v2.Status) {
	sp := pm.GetSystemProperties()
	body, st := s.messageBody(pm, budget)
	if st != nil {
		return nil, st
	}
	user := pm.GetUserProperties()
	if len(user) > maxUserProperties {
		return nil, grpcStatus(v2.Code_MESSAGE_PROPERTIES_TOO_LARGE, fmt.Sprintf("too many user properties, max is %d", maxUserProperties))
	}
	keys := make([]string, 0, len(user))
	size := 0
	for k, v := range user {
		switch {
		case reservedProperties[k]:
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_PROPERTY_KEY, "property is used by system: "+k)
		case k == "":
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_PROPERTY_KEY, "the key of property cannot be empty")
		case hasControl(k):
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_PROPERTY_KEY, "the key of property cannot contain control character")
		case hasControl(v):
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_PROPERTY_KEY, "the value of property cannot contain control character")
		}
		size += len(k) + len(v)
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tag := sp.GetTag()
	if tag != "" {
		switch {
		case strings.TrimSpace(tag) == "":
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_TAG, "tag cannot be the char sequence of whitespace")
		case strings.Contains(tag, "|"):
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_TAG, "tag cannot contain '|'")
		case hasControl(tag):
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_TAG, "tag cannot contain control character")
		}
	}
	size += len(tag)
	for _, k := range sp.GetKeys() {
		switch {
		case k != "" && strings.TrimSpace(k) == "":
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_KEY, "key cannot be the char sequence of whitespace")
		case hasControl(k):
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_KEY, "key cannot contain control character")
		}
		size += len(k)
	}
	if size > maxUserPropertyBytes {
		return nil, grpcStatus(v2.Code_MESSAGE_PROPERTIES_TOO_LARGE, fmt.Sprintf("the total size of user property is too large, max is %d", maxUserPropertyBytes))
	}
	id := sp.GetMessageId()
	if strings.TrimSpace(id) == "" {
		return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_ID, "message id cannot be empty")
	}
	if hasControl(id) {
		return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_ID, "message id cannot contain control character")
	}
	var props []byte
	for _, k := range keys {
		props = message.AppendProperty(props, k, user[k])
	}
	if tag != "" {
		props = message.AppendProperty(props, message.PropertyTags, tag)
	}
	if ks := sp.GetKeys(); len(ks) > 0 {
		props = message.AppendProperty(props, message.PropertyKeys, strings.Join(ks, " "))
	}
	props = message.AppendProperty(props, message.PropertyUniqueClientMsgIDKey, id)
	var sysFlag int32
	if sp.GetMessageType() == v2.MessageType_TRANSACTION {
		sysFlag |= message.TransactionPreparedType
		props = message.AppendProperty(props, message.PropertyTransactionPrepared, "true")
		if d := sp.GetOrphanedTransactionRecoveryDuration(); d != nil {
			if d.AsDuration() > maxTxRecovery {
				return nil, grpcStatus(v2.Code_BAD_REQUEST, fmt.Sprintf("the max transaction recovery time of message is too large, max is %d", int(maxTxRecovery.Seconds())))
			}
			props = message.AppendProperty(props, propertyCheckImmunityTime, strconv.FormatInt(int64(d.AsDuration().Seconds()), 10))
		}
	}
	if ts := sp.GetDeliveryTimestamp(); ts != nil {
		at := ts.AsTime().UnixMilli()
		maxDelay := min(DefaultGRPCMaxDelay, s.b.cfg.sem.timerMaxDelay).Milliseconds()
		if at-s.b.clock.Now().UnixMilli() > maxDelay {
			return nil, grpcStatus(v2.Code_ILLEGAL_DELIVERY_TIME, fmt.Sprintf("the max delay time of message is too large, max is %d", maxDelay))
		}
		props = message.AppendProperty(props, propertyTimerDeliverMS, strconv.FormatInt(at, 10))
	}
	props = message.AppendProperty(props, message.PropertyProducerGroup, topic)
	if g := sp.GetMessageGroup(); g != "" {
		switch {
		case strings.TrimSpace(g) == "":
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_GROUP, "message group cannot be the char sequence of whitespace")
		case len(g) >= maxMessageGroupBytes:
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_GROUP, fmt.Sprintf("message group exceed the max size %d", maxMessageGroupBytes))
		case hasControl(g):
			return nil, grpcStatus(v2.Code_ILLEGAL_MESSAGE_GROUP, "message group cannot contain control character")
		}
		props = message.AppendProperty(props, propertyShardingKey, g)
	}
	if tc := sp.GetTraceContext(); tc != "" && !hasControl(tc) {
		props = message.AppendProperty(props, propertyTraceContext, tc)
	}
	bornHost := sp.GetBornHost()
	if strings.TrimSpace(bornHost) == "" || hasControl(bornHost) {
		bornHost = c.remote.String()
	}
	props = message.AppendProperty(props, propertyBornHost, bornHost)
	born := s.b.clock.Now().UnixMilli()
	if ts := sp.GetBornTimestamp(); ts != nil && ts.IsValid() {
		born = ts.AsTime().UnixMilli()
		props = message.AppendProperty(props, propertyBornTimestamp, strconv.FormatInt(born, 10))
	}
	stored := s.b.storedProperties(string(props))
	if len(stored) > 32767 {
		return nil, grpcStatus(v2.Code_MESSAGE_PROPERTIES_TOO_LARGE, "the properties of the message are too large, max is 32767 bytes")
	}
	m := &message.Message{
		Topic:         topic,
		SysFlag:       sysFlag,
		BornTimestamp: born,
		BornHost:      c.remote,
		StoreHost:     s.b.storeHost,
		Body:          body,
		Properties:    stored,
		TagsCode:      tagsCode(stored),
	}
	if err := message.Validate(m); err != nil {
		return nil, grpcStatus(v2.Code_MESSAGE_PROPERTIES_TOO_LARGE, err.Error())
	}
	return m, nil
}

// batchBodyLimit is the most a SendMessage request's bodies may hold in
// all once decompressed: what the request could carry uncompressed
// (WithMaxFrameSize, the gRPC receive limit), and at least one message of
// WithMaxMessageSize. Without it a request of small GZIP bombs, each under
// the message limit once decompressed, could make the broker hold
// gigabytes before storing any (the proxy stores bodies compressed, so its
// broker only checks the compressed batch against maxMessageSize).
func (s *grpcServer) batchBodyLimit() int {
	return max(s.b.cfg.maxFrameSize, s.b.cfg.maxMessageSize)
}

// messageBody returns a message's body as stored: decompressed, checked
// against its digest and the size limits, and taken from *budget (the
// bytes the request's bodies may still hold): decompression stops as soon
// as either limit is passed.
func (s *grpcServer) messageBody(pm *v2.Message, budget *int) ([]byte, *v2.Status) {
	sp := pm.GetSystemProperties()
	body := pm.GetBody()
	if d := sp.GetBodyDigest(); d != nil && d.GetChecksum() != "" && !digestMatches(d, body) {
		return nil, grpcStatus(v2.Code_MESSAGE_CORRUPTED, fmt.Sprintf("message body digest %s %s does not match the body", d.GetType(), d.GetChecksum()))
	}
	limit := s.b.cfg.maxMessageSize
	if sp.GetBodyEncoding() == v2.Encoding_GZIP {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, grpcStatus(v2.Code_MESSAGE_CORRUPTED, "message body is not gzip: "+err.Error())
		}
		plain, err := io.ReadAll(io.LimitReader(zr, int64(min(limit, *budget))+1))
		if err != nil {
			return nil, grpcStatus(v2.Code_MESSAGE_CORRUPTED, "message body is not gzip: "+err.Error())
		}
		body = plain
	}
	switch {
	case len(body) == 0:
		return nil, grpcStatus(v2.Code_MESSAGE_BODY_EMPTY, "message body cannot be empty")
	case len(body) > limit:
		return nil, grpcStatus(v2.Code_MESSAGE_BODY_TOO_LARGE, fmt.Sprintf("message body cannot exceed the max %d", limit))
	case len(body) > *budget:
		return nil, grpcStatus(v2.Code_MESSAGE_BODY_TOO_LARGE, fmt.Sprintf("message bodies of a request cannot exceed the max %d in all, decompressed", s.batchBodyLimit()))
	}
	*budget -= len(body)
	return body, nil
}

// digestMatches checks a body against a client's digest (hex, any case,
// CRC32 without leading zeros as the clients write it).
func digestMatches(d *v2.Digest, body []byte) bool {
	var want string
	switch d.GetType() {
	case v2.DigestType_CRC32:
		want = strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 16)
		return strings.EqualFold(strings.TrimLeft(d.GetChecksum(), "0"), strings.TrimLeft(want, "0"))
	case v2.DigestType_MD5:
		sum := md5.Sum(body)
		want = hex.EncodeToString(sum[:])
	case v2.DigestType_SHA1:
		sum := sha1.Sum(body)
		want = hex.EncodeToString(sum[:])
	default:
		return true
	}
	return strings.EqualFold(d.GetChecksum(), want)
}

// hasControl is CharMatcher.javaIsoControl over a string.
func hasControl(s string) bool {
	for _, r := range s {
		if r <= 0x1f || (r >= 0x7f && r <= 0x9f) {
			return true
		}
	}
	return false
}

// consistentHash is Guava's Hashing.consistentHash(long, int).
func consistentHash(input int64, buckets int) int {
	if buckets <= 1 {
		return 0
	}
	state := uint64(input)
	next := func() float64 {
		state = 2862933555777941757*state + 1
		return float64(int32(state>>33)+1) / float64(1<<31)
	}
	candidate := 0
	for {
		n := int(float64(candidate+1) / next())
		if n >= 0 && n < buckets {
			candidate = n
		} else {
			return candidate
		}
	}
}
