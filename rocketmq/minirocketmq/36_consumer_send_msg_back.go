package minirocketmq

import (
	"math/rand/v2"
	"strconv"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// CONSUMER_SEND_MSG_BACK (36): a consumer hands back a message it failed to
// consume, to be redelivered later through its group's retry topic
// (asyncConsumerSendMsgBack).
//
// Honoured: group (must exist: SUBSCRIPTION_GROUP_NOT_EXIST otherwise; a
// group with retryQueueNums 0 gets SUCCESS and the message is dropped, as
// on the real broker), offset (the commit-log offset of the consumed
// message: SYSTEM_ERROR "look message by offset failed" when it is not
// stored), delayLevel (0: 3 + reconsume times; < 0: straight to the
// dead-letter queue), maxReconsumeTimes (else the group's retryMaxTimes).
// The message is stored again with the same body, flag, system flag, born
// time and host and properties, reconsume times + 1, RETRY_TOPIC (the
// original topic, set once) and ORIGIN_MESSAGE_ID (the first offset message
// id, set once): into %RETRY%<group> with DELAY = the level, or, when it has
// been reconsumed maxReconsumeTimes times (or delayLevel < 0), into
// %DLQ%<group> without a delay. Both topics are created when missing (one
// queue, read + write). Answer: SUCCESS; the Go client falls back to a
// plain SEND_MESSAGE to the retry topic on any other code.
//
// Ignored: originMsgId and originTopic (the stored message says both),
// unitMode, bname.

// handleConsumerSendMsgBack serves code 36.
func (b *Broker) handleConsumerSendMsgBack(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("group", true)
	offset := h.int64("offset", true)
	delayLevel := h.int32("delayLevel", true)
	maxHeader := h.optInt32("maxReconsumeTimes", -1)
	v, maxSent := req.Lookup("maxReconsumeTimes")
	maxSent = maxSent && v != "" && v != "null"
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	gc := b.groups.get(group)
	if gc == nil {
		return remoting.NewResponse(req, remoting.SubscriptionGroupNotExist, remarkf(msgSubscriptionGroupNotExist, group)), nil
	}
	if gc.RetryQueueNums <= 0 {
		return remoting.NewResponse(req, remoting.Success, ""), nil
	}
	retryTopic := RetryTopic(group)
	tc := b.createSystemGroupTopic(retryTopic, gc.RetryQueueNums)
	if tc.Perm&PermWrite == 0 {
		return remoting.NewResponse(req, remoting.NoPermission, remarkf(msgTopicSendForbidden, retryTopic)), nil
	}
	rec, err := b.store.Lookup(nil, offset)
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgLookMessageByOffsetFailed, offset)), nil
	}
	orig, _, err := message.DecodeRecord(rec)
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgLookMessageByOffsetFailed, offset)), nil
	}

	set := make([]string, 0, 6)
	if _, ok := message.Property(orig.Properties, message.PropertyRetryTopic); !ok {
		set = append(set, message.PropertyRetryTopic, orig.Topic)
	}
	if v, _ := message.Property(orig.Properties, message.PropertyOriginMessageID); v == "" {
		set = append(set, message.PropertyOriginMessageID, message.OffsetMsgID(orig.StoreHost, orig.CommitLogOffset))
	}
	m := &message.Message{
		Topic:          retryTopic,
		QueueID:        int32(rand.IntN(gc.RetryQueueNums)),
		Flag:           orig.Flag,
		SysFlag:        orig.SysFlag,
		BornTimestamp:  orig.BornTimestamp,
		BornHost:       orig.BornHost,
		StoreHost:      orig.StoreHost,
		ReconsumeTimes: orig.ReconsumeTimes + 1,
		Body:           orig.Body,
		BodyCRC:        orig.BodyCRC,
		TagsCode:       orig.TagsCode,
	}
	if orig.ReconsumeTimes >= maxReconsumeTimes(gc, maxHeader, maxSent) || delayLevel < 0 {
		m.Properties = message.EditProperties(orig.Properties, nil, set...)
		if code, remark := b.makeDeadLetter(m, group); code != remoting.Success {
			return remoting.NewResponse(req, code, remark), nil
		}
	} else {
		if delayLevel == 0 {
			delayLevel = 3 + orig.ReconsumeTimes
		}
		set = append(set, message.PropertyDelayTimeLevel, strconv.Itoa(int(delayLevel)))
		m.Properties = message.EditProperties(orig.Properties, nil, set...)
	}
	if err := b.storeMessage(m); err != nil {
		b.log.Logf(LogLevelError, "send back from %s (group %s): %v", c.RemoteAddr(), group, err)
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	return remoting.NewResponse(req, remoting.Success, ""), nil
}
