package minirocketmq

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
)

// Consume: GET /topics/<topic>/messages?consumer=<group>&numOfMessages=
// <1..16>&waitseconds=<1..30>&tag=<expr>&ns=<instance>[&trans=order|pop];
// 200 with <Messages>, or 404 MessageNotExist when nothing came within the
// wait.
//
// Honoured: the topic must exist (TopicNotExist; %DLQ%<group> is
// consumable before its first dead letter, without being created) and be
// readable (AccessDenied); the group is created on first use; numOfMessages
// (default 16) and waitseconds (default 0: answer at once; capped by
// WithHTTPMaxWait) out of range → InvalidArgument; tag is a tag expression
// ("*", "a||b"; InvalidArgument when it does not parse). Messages come from
// every readable queue through the pop engine: each delivery is invisible
// to the group for WithHTTPInvisibleDuration (5 minutes), after which it
// comes again with ConsumedTimes + 1 unless acked; after the group's
// retryMaxTimes + 1 deliveries (17 by default; UPDATE_AND_CREATE_
// SUBSCRIPTIONGROUP or Broker.UpdateSubscriptionGroup change it) the
// message goes to %DLQ%<group> instead. A waiting consume is answered as
// soon as a message is stored or becomes visible again.
//
// trans=order is orderly consumption: per message group (__SHARDINGKEY;
// messages without one, per queue) one batch in flight, in queue order: a
// batch may hold several consecutive messages of a group, and the group
// gives nothing more until all of them are acked or expired (the pop
// engine's FIFO, as Aliyun's orderly consume blocks a partition). trans=pop is a transactional
// producer consuming its half messages to check them (http_transaction.go).
//
// Entries: MessageId (UNIQ_KEY), ReceiptHandle (the pop engine's), the
// body (text; base64 with HTTPPropertyBodyEncoding when it is not XML text;
// bodies remoting clients compressed arrive inflated), MessageBodyMD5 of
// the text sent, PublishTime (born), FirstConsumeTime, NextConsumeTime,
// ConsumedTimes, MessageTag, and Properties: user properties and KEYS,
// __SHARDINGKEY, __STARTDELIVERTIME (from TIMER_DELIVER_MS),
// DLQ_ORIGIN_TOPIC/DLQ_ORIGIN_MESSAGE_ID of dead letters; RocketMQ's other
// system properties are left out, and so is a property the format cannot
// carry (a ':' or '|' in its key or value).

// The trans values of the API.
const (
	httpTransOrder    = "order"
	httpTransHalf     = "pop"
	httpTransCommit   = "commit"
	httpTransRollback = "rollback"
	httpMaxBatch      = 16
)

// consume serves GET.
func (s *httpServer) consume(c *httpCall) {
	if _, ok := c.readBody(maxHTTPAckBody); !ok {
		return
	}
	num, wait, ok := c.batchAndWait()
	if !ok {
		return
	}
	switch c.trans {
	case "", httpTransOrder:
	case httpTransHalf:
		s.consumeHalf(c, num, wait)
		return
	default:
		c.fail(errHTTPInvalidArgument, fmt.Sprintf("The value of trans %s is invalid: order or pop.", quoteShort(c.trans)))
		return
	}
	tc := s.b.topics.get(c.topic)
	if tc == nil && strings.HasPrefix(c.topic, DLQGroupTopicPrefix) && len(c.topic) > len(DLQGroupTopicPrefix) {
		// A dead-letter topic is consumable before its first dead letter (as the
		// name server and the gRPC endpoint route it), without being created.
		tc = &TopicConfig{TopicName: c.topic, ReadQueueNums: dlqQueueNums, WriteQueueNums: dlqQueueNums, Perm: PermRead | PermWrite}
	}
	switch {
	case tc == nil:
		c.fail(errHTTPTopicNotExist, msgHTTPTopicNotExist)
		return
	case tc.Perm&PermRead == 0 || tc.ReadQueueNums <= 0:
		c.fail(errHTTPAccessDenied, fmt.Sprintf("The topic %s is not readable.", c.topic))
		return
	}
	expr := c.query.Get("tag")
	if strings.TrimSpace(expr) == "" {
		expr = subscribeAll
	}
	sub, remark := s.b.newSubscription(c.topic, expr, ExpressionTag, 0)
	if sub == nil {
		c.fail(errHTTPInvalidArgument, "The value of tag is invalid: "+remark)
		return
	}
	gc := s.b.groups.getOrCreate(c.group)
	invisible := s.b.cfg.http.invisibleDuration()
	msgs, err := s.b.v5.pop.Receive(c.r.Context(), &pop.ReceiveRequest{
		Group: c.group, Topic: c.topic, QueueIDs: tc.readQueueIDs(), MaxMessages: num,
		InvisibleDuration: invisible, Filter: sub.filter, Wait: wait,
		FIFO: c.trans == httpTransOrder, MaxAttempts: gc.RetryMaxTimes + 1,
	})
	switch {
	case errors.Is(err, pop.ErrClosed), s.base.Err() != nil:
		c.fail(errHTTPServiceShuttingDown, "The broker is shutting down.")
		return
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return // the client went away
	case err != nil:
		s.b.log.Logf(LogLevelError, "HTTP consume of %s by %s: %v", c.topic, c.group, err)
		c.fail(errHTTPInternal, msgHTTPInternal)
		return
	case len(msgs) == 0:
		c.fail(errHTTPMessageNotExist, msgHTTPMessageNotExist)
		return
	case c.r.Context().Err() != nil:
		s.b.popGiveBack("HTTP consume", c.group, c.topic, msgs) // taken as the client went away: visible again soon, as the gRPC endpoint does
		return
	}
	resp := &httpMessages{XMLNS: httpNamespace, Messages: make([]httpMessageX, 0, len(msgs))}
	for _, m := range msgs {
		resp.Messages = append(resp.Messages, s.httpMessage(m.Message, httpDelivery{
			handle: m.ReceiptHandle, attempt: m.Attempt, first: m.FirstPopTime,
			next: m.PopTime.Add(m.InvisibleDuration),
		}))
	}
	c.reply(http.StatusOK, resp)
}

// batchAndWait reads numOfMessages and waitseconds.
func (c *httpCall) batchAndWait() (num int, wait time.Duration, ok bool) {
	num = httpMaxBatch
	if v := c.query.Get("numOfMessages"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > httpMaxBatch {
			c.fail(errHTTPInvalidArgument, fmt.Sprintf("The value of numOfMessages should between 1 and %d.", httpMaxBatch))
			return 0, 0, false
		}
		num = n
	}
	if v := c.query.Get("waitseconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > int(DefaultHTTPMaxWait/time.Second) {
			c.fail(errHTTPInvalidArgument, fmt.Sprintf("The value of waitseconds should between 1 and %d seconds.", int(DefaultHTTPMaxWait/time.Second)))
			return 0, 0, false
		}
		wait = min(time.Duration(n)*time.Second, c.s.b.cfg.http.longPollCap())
	}
	return num, wait, true
}

// httpDelivery is what a consumer is told about one delivery.
type httpDelivery struct {
	handle      string
	attempt     int
	first, next time.Time
	half        bool // a half message: CHECK_IMMUNITY_TIME_IN_SECONDS goes as __TransCheckT
}

// httpMessage converts a stored message for a consumer.
func (s *httpServer) httpMessage(m *message.Message, d httpDelivery) httpMessageX {
	body := m.Body
	if m.SysFlag&message.FlagCompressed != 0 {
		if plain, err := inflate(m.Body); err == nil {
			body = plain
		}
	}
	text, encoded := string(body), false
	if !xmlText(text) {
		text, encoded = base64.StdEncoding.EncodeToString(body), true
	}
	props := message.ParseProperties(m.Properties)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pb strings.Builder
	for _, k := range keys {
		v := props[k]
		switch k {
		case message.PropertyKeys, propertyShardingKey, propertyDLQOriginTopic, propertyDLQOriginMsgID:
		case propertyTimerDeliverMS:
			k = httpPropStartDeliverTime
		case propertyCheckImmunityTime:
			if !d.half {
				continue
			}
			k = httpPropTransCheck
		default:
			if reservedProperties[k] || mappedProperties[k] || k == HTTPPropertyBodyEncoding {
				continue
			}
		}
		if !appendHTTPProperty(&pb, k, v) {
			s.b.log.Logf(LogLevelDebug, "HTTP consume of %s: property %q of message %s left out (the API cannot carry it)", m.Topic, k, uniqueKey(m))
		}
	}
	if encoded {
		appendHTTPProperty(&pb, HTTPPropertyBodyEncoding, "base64")
	}
	tag := props[message.PropertyTags]
	if !xmlText(tag) {
		tag = ""
	}
	return httpMessageX{
		MessageID:        uniqueKey(m),
		ReceiptHandle:    d.handle,
		MessageBodyMD5:   bodyMD5(text),
		MessageBody:      text,
		PublishTime:      m.BornTimestamp,
		FirstConsumeTime: d.first.UnixMilli(),
		NextConsumeTime:  d.next.UnixMilli(),
		ConsumedTimes:    d.attempt,
		MessageTag:       tag,
		Properties:       pb.String(),
	}
}
