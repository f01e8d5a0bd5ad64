package minirocketmq

import (
	"context"
	"strconv"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// SEND_REPLY_MESSAGE (324, header SendMessageRequestHeader) and
// SEND_REPLY_MESSAGE_V2 (325, the one-letter header): the answer of
// request-reply (ReplyMessageProcessor). A requester (the Go client's
// producer.Request) sends an ordinary message with CORRELATION_ID,
// REPLY_TO_CLIENT (its client id) and TTL; the replier builds the reply
// with MSG_TYPE=reply for topic <CLUSTER>_REPLY_TOPIC (pre-created) and
// sends it with this code; the broker pushes it to the requester with
// PUSH_REPLY_MESSAGE_TO_CLIENT (326) on the requester's connection, found
// by client id among the clients that have heartbeated or sent a request
// (better than the real broker, which knows heartbeated clients only, so a
// Go requester's first requests can fail there until its heartbeat).
//
// Honoured: the send header and checks of SEND_MESSAGE (topic, queue,
// sizes; properties get CLUSTER, lose WAIT). Bodies may be empty (the Go
// client's CreateReplyMessage drops its body argument). The push carries
// the header fields the clients read (producerGroup, topic, defaultTopic,
// defaultTopicQueueNums, queueId, sysFlag, bornTimestamp, flag, properties
// with PUSH_REPLY_TIME added, reconsumeTimes, unitMode, bornHost = the
// replier's address, storeHost, storeTimestamp) and the body as sent (the
// client inflates it when sysFlag says compressed). The push waits up to
// 10 s for the requester's answer, in a goroutine of its own (never on the
// reader of the connection being served: replier and requester may be the
// same client), and the replier's request is answered after it: SUCCESS
// with the stored reply's id, queueId and queueOffset when the push was
// answered SUCCESS; else SYSTEM_ERROR with the real remarks
// ("reply message properties[REPLY_TO_CLIENT] is null", "push reply message
// fail, channel of <id> not found.", "push reply message to <id>fail.").
// Like storeReplyMessageEnable, the reply is also stored in its topic,
// pushed or not.
//
// Not implemented: the TTL (the requester times out on its own).

// replyPushTimeout is how long the push waits for the requester
// (Broker2Client.callClient).
const replyPushTimeout = 10 * time.Second

// handleSendReplyMessage serves code 324.
func (b *Broker) handleSendReplyMessage(c *conn, req *remoting.Command) (*remoting.Command, error) {
	sh, errResp := parseSendHeader(req, &sendKeysV1)
	if errResp != nil {
		return errResp, nil
	}
	return b.sendReply(c, req, sh), nil
}

// handleSendReplyMessageV2 serves code 325.
func (b *Broker) handleSendReplyMessageV2(c *conn, req *remoting.Command) (*remoting.Command, error) {
	sh, errResp := parseSendHeader(req, &sendKeysV2)
	if errResp != nil {
		return errResp, nil
	}
	return b.sendReply(c, req, sh), nil
}

// sendReply checks a reply and starts its push; it returns the response
// only when the reply is refused, else nil (the push answers later).
func (b *Broker) sendReply(c *conn, req *remoting.Command, sh *sendHeader) *remoting.Command {
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
	m := &message.Message{
		Topic:          sh.topic,
		QueueID:        pickQueue(tc, sh.queueID),
		Flag:           sh.flag,
		SysFlag:        sh.sysFlag,
		BornTimestamp:  sh.bornTimestamp,
		BornHost:       c.remote,
		StoreHost:      b.storeHost,
		ReconsumeTimes: sh.reconsumeTimes,
		Body:           req.Body, // the frame's; nobody writes to it
		Properties:     props,
		TagsCode:       tagsCode(props),
	}
	b.wg.Add(1) // the serving connection's goroutine is counted, so Close cannot be past Wait
	go b.guard(c, req, func() {
		defer b.wg.Done()
		b.pushReply(c, req, resp, sh, m)
	})
	return nil
}

// pushReply pushes a reply to its requester, stores it and answers the
// replier's request.
func (b *Broker) pushReply(c *conn, req, resp *remoting.Command, sh *sendHeader, m *message.Message) {
	requester, _ := message.Property(m.Properties, message.PropertyReplyToClient)
	var pushErr string
	switch rc := b.clients.clientConn(requester); {
	case requester == "":
		pushErr = msgReplyToClientMissing
	case rc == nil:
		pushErr = remarkf(msgReplyChannelNotFound, requester)
	default:
		now := time.Now().UnixMilli()
		push := remoting.NewRequest(remoting.PushReplyMessageToClient,
			"producerGroup", sh.producerGroup,
			"topic", sh.topic,
			"defaultTopic", sh.defaultTopic,
			"defaultTopicQueueNums", strconv.Itoa(int(sh.defaultTopicQueueNums)),
			"queueId", strconv.Itoa(int(m.QueueID)),
			"sysFlag", strconv.Itoa(int(sh.sysFlag)),
			"bornTimestamp", itoa(sh.bornTimestamp),
			"flag", strconv.Itoa(int(sh.flag)),
			"properties", message.EditProperties(m.Properties, nil, propertyPushReplyTime, itoa(now)),
			"reconsumeTimes", strconv.Itoa(int(sh.reconsumeTimes)),
			"unitMode", strconv.FormatBool(sh.unitMode),
			"bornHost", c.remote.String(),
			"storeHost", b.advertised,
			"storeTimestamp", itoa(now))
		push.Body = m.Body
		ctx, cancel := context.WithTimeout(context.Background(), replyPushTimeout)
		answer, err := rc.Invoke(ctx, push) // ends early when the broker closes its connections
		cancel()
		if err != nil || answer.Code != remoting.Success {
			pushErr = remarkf(msgReplyPushFailed, requester)
			b.log.Logf(LogLevelWarn, "push reply to %s at %s: %v %v", requester, rc.RemoteAddr(), err, answer)
		}
	}
	stored := b.putMessages([]*message.Message{m})
	if stored != nil {
		b.log.Logf(LogLevelError, "store reply from %s: %v", c.RemoteAddr(), stored)
	}
	if pushErr != "" {
		fail(resp, remoting.SystemError, pushErr)
	} else {
		msgID, queueOffset := "0", int64(0) // what the real broker answers
		if stored == nil {
			msgID, queueOffset = message.OffsetMsgID(b.storeHost, m.CommitLogOffset), m.QueueOffset
		}
		resp.Ext = append(resp.Ext,
			remoting.Field{Key: "msgId", Value: msgID},
			remoting.Field{Key: "queueId", Value: strconv.Itoa(int(m.QueueID))},
			remoting.Field{Key: "queueOffset", Value: itoa(queueOffset)})
	}
	if err := b.respond(c, req, resp); err != nil {
		_ = c.Close()
	}
}

// propertyPushReplyTime is when the broker pushed a reply (ms).
const propertyPushReplyTime = "PUSH_REPLY_TIME"

// noteRequester remembers the connection of a request's sender: a message
// with REPLY_TO_CLIENT that is not itself a reply.
func (b *Broker) noteRequester(c *conn, props string) {
	id, _ := message.Property(props, message.PropertyReplyToClient)
	if id == "" {
		return
	}
	if t, _ := message.Property(props, message.PropertyMsgType); t == replyMessageType {
		return
	}
	b.clients.addClient(c, id, b.nowReal())
}

// replyMessageType is MSG_TYPE of a reply.
const replyMessageType = "reply"
