package minirocketmq

import (
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// SEND_BATCH_MESSAGE (320): several messages for one queue in one request,
// header SendMessageRequestHeaderV2 (the Go client's multi-message SendSync,
// SendAsync and SendOneWay), body in the batch encoding of
// message.DecodeBatch.
//
// Honoured: the send header as for code 10; each member keeps its own flag,
// body and properties, with the batch header's properties (plus CLUSTER)
// appended as the real broker does; the members are stored contiguously in
// one queue, each with its own offsets and offset message id. The response
// msgId is the comma-joined list of those ids and queueOffset the first
// member's. Refused like the real broker: batches to %RETRY% topics, with a
// transaction flag or a DELAY property (MESSAGE_ILLEGAL), bodies over
// maxMessageSize. A body that does not split into whole messages is refused
// with MESSAGE_ILLEGAL (the Java broker fails it with an internal error).

// handleSendBatchMessage stores a batch (code 320).
func (b *Broker) handleSendBatchMessage(c *conn, req *remoting.Command) (*remoting.Command, error) {
	sh, errResp := parseSendHeader(req, &sendKeysV2)
	if errResp != nil {
		return errResp, nil
	}
	resp := b.newSendResponse(req)
	tc, code, remark := b.checkSend(c, sh)
	if tc == nil {
		return fail(resp, code, remark), nil
	}
	if strings.HasPrefix(sh.topic, RetryGroupTopicPrefix) {
		return fail(resp, remoting.MessageIllegal, remarkf(msgBatchRetryTopic, sh.topic)), nil
	}
	if len(req.Body) > b.cfg.maxMessageSize {
		return fail(resp, remoting.MessageIllegal, remarkf(msgMessageIllegal, b.cfg.maxMessageSize)), nil
	}
	batchProps := b.storedProperties(sh.properties)
	if d, ok := message.Property(batchProps, message.PropertyDelayTimeLevel); message.TransactionValue(sh.sysFlag) != 0 || (ok && d != "" && d != "0") {
		return fail(resp, remoting.MessageIllegal, msgBatchTransaction), nil
	}
	entries, err := message.DecodeBatch(req.Body)
	if err != nil || len(entries) == 0 {
		remark := msgEmptyBatch
		if err != nil {
			remark = err.Error()
		}
		return fail(resp, remoting.MessageIllegal, remark), nil
	}
	queueID := pickQueue(tc, sh.queueID)
	msgs := make([]*message.Message, len(entries))
	for i, e := range entries {
		props := e.Properties
		if props != "" && !strings.HasSuffix(props, string(message.PropertySeparator)) && batchProps != "" {
			props += string(message.PropertySeparator)
		}
		props += batchProps
		if len(props) > 32767 {
			return fail(resp, remoting.MessageIllegal, remarkf(msgMessageIllegal, b.cfg.maxMessageSize)), nil
		}
		msgs[i] = &message.Message{
			Topic:          sh.topic,
			QueueID:        queueID,
			Flag:           e.Flag,
			SysFlag:        sh.sysFlag,
			BornTimestamp:  sh.bornTimestamp,
			BornHost:       c.remote,
			StoreHost:      b.storeHost,
			ReconsumeTimes: sh.reconsumeTimes,
			Body:           e.Body,
			Properties:     props,
			TagsCode:       tagsCode(props),
		}
	}
	if err := b.putMessages(msgs); err != nil {
		b.log.Logf(LogLevelError, "batch send from %s: %v", c.RemoteAddr(), err)
		return fail(resp, remoting.SystemError, err.Error()), nil
	}
	var ids strings.Builder
	for i, m := range msgs {
		if i > 0 {
			ids.WriteByte(',')
		}
		ids.WriteString(message.OffsetMsgID(b.storeHost, m.CommitLogOffset))
	}
	resp.Ext = append(resp.Ext,
		remoting.Field{Key: "msgId", Value: ids.String()},
		remoting.Field{Key: "queueId", Value: itoa(int64(queueID))},
		remoting.Field{Key: "queueOffset", Value: itoa(msgs[0].QueueOffset)})
	return resp, nil
}
