package minirocketmq

import (
	"errors"
	"math/rand/v2"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// SEND_MESSAGE (10): one message, header SendMessageRequestHeader (long
// field names). The Go client sends every single message with it; Java
// clients use SEND_MESSAGE_V2 (310), which lands in the same code path.
//
// Honoured: producerGroup, topic, defaultTopic + defaultTopicQueueNums (topic
// auto-creation from TBW102 when enabled), queueId (< 0: random), sysFlag
// (stored as sent: compression and transaction bits), bornTimestamp, flag,
// properties (WAIT dropped, CLUSTER added, as the real broker does),
// reconsumeTimes. Topic names are validated and the system topics clients
// may not send to are refused, with the real broker's codes and remarks;
// bodies over maxMessageSize and properties over 32 KiB get
// MESSAGE_ILLEGAL. The response carries msgId (the offset message id),
// queueId, queueOffset, MSG_REGION and TRACE_ON.
//
// Delivery semantics, as the real broker: TRAN_MSG=true makes a half message
// (transactions.go; the response's msgId and queueOffset are the half
// record's, which END_TRANSACTION quotes back); DELAY > 0 parks the message
// until its level's delay has passed (delay.go); a send to %RETRY%<group>
// with reconsumeTimes >= maxReconsumeTimes (header, else the group's
// retryMaxTimes) goes to %DLQ%<group> instead (retry.go; the consumer's
// fallback when CONSUMER_SEND_MSG_BACK fails). The sender of a
// request-reply request (REPLY_TO_CLIENT) is known by its client id from
// then on, so its reply can be pushed before its first heartbeat.
//
// Not implemented: unitMode and batch=true on this code are ignored.

// sendKeys names the header fields of one send header version.
type sendKeys struct {
	producerGroup, topic, defaultTopic, defaultTopicQueueNums, queueID, sysFlag,
	bornTimestamp, flag, properties, reconsumeTimes, unitMode, maxReconsumeTimes, batch string
}

var sendKeysV1 = sendKeys{
	producerGroup: "producerGroup", topic: "topic", defaultTopic: "defaultTopic",
	defaultTopicQueueNums: "defaultTopicQueueNums", queueID: "queueId", sysFlag: "sysFlag",
	bornTimestamp: "bornTimestamp", flag: "flag", properties: "properties",
	reconsumeTimes: "reconsumeTimes", unitMode: "unitMode", maxReconsumeTimes: "maxReconsumeTimes",
	batch: "batch",
}

// sendHeader is SendMessageRequestHeader.
type sendHeader struct {
	producerGroup, topic, defaultTopic, properties string
	defaultTopicQueueNums, queueID, sysFlag, flag  int32
	reconsumeTimes, maxReconsumeTimes              int32
	bornTimestamp                                  int64
	unitMode, batch                                bool
}

func parseSendHeader(req *remoting.Command, k *sendKeys) (*sendHeader, *remoting.Command) {
	h := newHeader(req)
	sh := &sendHeader{
		producerGroup:         h.str(k.producerGroup, true),
		topic:                 h.str(k.topic, true),
		defaultTopic:          h.str(k.defaultTopic, true),
		defaultTopicQueueNums: h.int32(k.defaultTopicQueueNums, true),
		queueID:               h.int32(k.queueID, true),
		sysFlag:               h.int32(k.sysFlag, true),
		bornTimestamp:         h.int64(k.bornTimestamp, true),
		flag:                  h.int32(k.flag, true),
		properties:            h.str(k.properties, false),
		reconsumeTimes:        h.optInt32(k.reconsumeTimes, 0),
		maxReconsumeTimes:     h.optInt32(k.maxReconsumeTimes, -1),
		unitMode:              h.bool(k.unitMode),
		batch:                 h.bool(k.batch),
	}
	if resp := h.errResponse(); resp != nil {
		return nil, resp
	}
	return sh, nil
}

// handleSendMessage stores one message (code 10).
func (b *Broker) handleSendMessage(c *conn, req *remoting.Command) (*remoting.Command, error) {
	sh, errResp := parseSendHeader(req, &sendKeysV1)
	if errResp != nil {
		return errResp, nil
	}
	return b.sendOne(c, req, sh), nil
}

// newSendResponse starts a send response: MSG_REGION and TRACE_ON are on
// every one, failures included.
func (b *Broker) newSendResponse(req *remoting.Command) *remoting.Command {
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Ext = make([]remoting.Field, 0, 5)
	resp.Ext = append(resp.Ext,
		remoting.Field{Key: message.PropertyMsgRegion, Value: "DefaultRegion"},
		remoting.Field{Key: message.PropertyTraceSwitch, Value: "true"})
	return resp
}

func fail(resp *remoting.Command, code int16, remark string) *remoting.Command {
	resp.Code, resp.Remark = code, remark
	return resp
}

// checkSend is AbstractSendMessageProcessor.msgCheck: topic name, forbidden
// topics, existence (auto-creating it when allowed) and queue id. It returns
// the topic config, or 0 and an error code and remark.
func (b *Broker) checkSend(c *conn, sh *sendHeader) (*TopicConfig, int16, string) {
	if remark := validateTopic(sh.topic); remark != "" {
		return nil, remoting.SystemError, remark
	}
	if isNotAllowedSendTopic(sh.topic) {
		return nil, remoting.NoPermission, remarkf(msgSendForbiddenTopic, sh.topic)
	}
	tc := b.topics.get(sh.topic)
	if tc == nil {
		tc = b.createTopicOnSend(sh.topic, sh.defaultTopic)
	}
	if tc == nil && strings.HasPrefix(sh.topic, RetryGroupTopicPrefix) {
		tc = b.createSystemGroupTopic(sh.topic, 1)
	}
	if tc == nil {
		return nil, remoting.TopicNotExist, remarkf(msgTopicNotExistApply, sh.topic)
	}
	if int(sh.queueID) >= tc.queueCount() {
		return nil, remoting.SystemError, remarkf(msgSendQueueIDIllegal, sh.queueID, tc, c.RemoteAddr())
	}
	return tc, 0, ""
}

// pickQueue returns the header's queue id, or a random writable one when it
// is negative.
func pickQueue(tc *TopicConfig, queueID int32) int32 {
	if queueID >= 0 || tc.WriteQueueNums <= 0 {
		return max(queueID, 0)
	}
	return int32(rand.IntN(tc.WriteQueueNums))
}

// storedProperties turns the sent properties into the stored ones: WAIT
// dropped (the real broker saves those 9 bytes), CLUSTER set.
func (b *Broker) storedProperties(props string) string {
	return message.EditProperties(props, []string{message.PropertyWaitStoreMsgOK}, message.PropertyCluster, b.cfg.clusterName)
}

func tagsCode(props string) int64 {
	if tags, ok := message.Property(props, message.PropertyTags); ok && tags != "" {
		return message.TagsHashCode(tags)
	}
	return 0
}

// sendOne runs the single-message send path shared by codes 10 and 310.
func (b *Broker) sendOne(c *conn, req *remoting.Command, sh *sendHeader) *remoting.Command {
	resp := b.newSendResponse(req)
	tc, code, remark := b.checkSend(c, sh)
	if tc == nil {
		return fail(resp, code, remark)
	}
	if len(req.Body) > b.cfg.maxMessageSize {
		return fail(resp, remoting.MessageIllegal, remarkf(msgMessageIllegal, b.cfg.maxMessageSize))
	}
	props := b.storedProperties(sh.properties)
	if len(props) > 32767 {
		return fail(resp, remoting.MessageIllegal, remarkf(msgMessageIllegal, b.cfg.maxMessageSize))
	}
	sysFlag := sh.sysFlag
	if tc.TopicFilterType == "MULTI_TAG" {
		sysFlag |= message.FlagMultiTags
	}
	m := &message.Message{
		Topic:          sh.topic,
		QueueID:        pickQueue(tc, sh.queueID),
		Flag:           sh.flag,
		SysFlag:        sysFlag,
		BornTimestamp:  sh.bornTimestamp,
		BornHost:       c.remote,
		StoreHost:      b.storeHost,
		ReconsumeTimes: sh.reconsumeTimes,
		Body:           req.Body,
		Properties:     props,
		TagsCode:       tagsCode(props),
	}
	queueID := m.QueueID
	if strings.HasPrefix(sh.topic, RetryGroupTopicPrefix) {
		if code, remark := b.rerouteRetry(m, sh.maxReconsumeTimes); code != remoting.Success {
			return fail(resp, code, remark)
		}
	}
	b.noteRequester(c, props)
	var err error
	if v, _ := message.Property(props, message.PropertyTransactionPrepared); isTrue(v) {
		err = b.sem.tx.prepare(c, m)
	} else {
		err = b.storeMessage(m)
	}
	if errors.Is(err, errTimerTooFar) {
		return fail(resp, remoting.MessageIllegal, remarkf(msgTimerIllegal, b.cfg.sem.timerMaxDelay.Milliseconds()))
	}
	if err != nil {
		b.log.Logf(LogLevelError, "send from %s: %v", c.RemoteAddr(), err)
		return fail(resp, remoting.SystemError, err.Error())
	}
	// m now says where it was stored (a half message, a delayed one, a
	// dead letter); queueId stays the queue the client chose, as on the
	// real broker.
	resp.Ext = append(resp.Ext,
		remoting.Field{Key: "msgId", Value: message.OffsetMsgID(b.storeHost, m.CommitLogOffset)},
		remoting.Field{Key: "queueId", Value: itoa(int64(queueID))},
		remoting.Field{Key: "queueOffset", Value: itoa(m.QueueOffset)})
	return resp
}

// isTrue is Java's Boolean.parseBoolean.
func isTrue(s string) bool {
	return len(s) == 4 && (s[0]|0x20) == 't' && (s[1]|0x20) == 'r' && (s[2]|0x20) == 'u' && (s[3]|0x20) == 'e'
}
