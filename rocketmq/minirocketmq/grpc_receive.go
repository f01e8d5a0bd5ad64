package minirocketmq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// ReceiveMessage (server stream): pop consumption (ReceiveMessageActivity,
// ReceiveMessageResponseStreamWriter), through the pop engine (package
// pop). The stream is a status, then the messages, then the delivery
// timestamp; with nothing to deliver, status MESSAGE_NOT_FOUND "no new
// message".
//
// Honoured, in the proxy's order:
//   - the long polling: long_polling_timeout, else the call's deadline less
//     half the client's request timeout, within WithGRPCLongPolling (5 s ..
//     20 s); when the deadline leaves less than the minimum →
//     ILLEGAL_POLLING_TIME (BAD_REQUEST for clients older than 5.0.3)
//     "The deadline time remaining is not enough for polling, please check
//     network condition";
//   - topic and group (validated; unknown topic TOPIC_NOT_FOUND, none
//     readable FORBIDDEN "no readable queue"; the group is created when
//     missing);
//   - invisible_duration, between WithGRPCMinInvisibleDuration (10 s) and
//     12 h (ILLEGAL_INVISIBLE_TIME "the invisibleTime is too small. min is
//     10000"), or auto_renew: 60 s, renewed while the client lives (pop
//     Release when it terminates or goes silent);
//   - filter_expression, TAG or SQL (SQL92 as on the remoting side;
//     ILLEGAL_FILTER_EXPRESSION with the parser's message);
//   - batch_size 1..32 (BAD_REQUEST otherwise: the real broker refuses more
//     than 32 as well, though the proxy reports it as an internal error);
//   - message_queue: its topic; the queue id is not used, every readable
//     queue is read (as the proxy pops the whole broker: the SDKs pick a
//     queue from the route and would otherwise wait on an empty one while
//     another has messages).
//
// FIFO (one batch in flight per message group, in order) when the group
// is consumeMessageOrderly, the settings' fifo; the delivery attempts are
// the group's retryMaxTimes + 1 (the settings' backoff max_attempts), after
// which the message goes to %DLQ%<group>. A message the stream cannot
// deliver (the client went away) is made visible again after a second, as
// the proxy does. attempt_id is accepted and not used.

// Receive limits.
const (
	maxReceiveBatch      = pop.MaxReceiveBatch
	nackInvisible        = time.Second
	defaultClientTimeout = 3 * time.Second // a client's request timeout when it sent none
)

// ReceiveMessage serves the RPC.
func (s *grpcServer) ReceiveMessage(req *v2.ReceiveMessageRequest, stream v2.MessagingService_ReceiveMessageServer) error {
	ctx := stream.Context()
	finish := func(st *v2.Status) error {
		if err := stream.Send(&v2.ReceiveMessageResponse{Content: &v2.ReceiveMessageResponse_Status{Status: st}}); err != nil {
			return nil // the client is gone
		}
		_ = stream.Send(&v2.ReceiveMessageResponse{Content: &v2.ReceiveMessageResponse_DeliveryTimestamp{DeliveryTimestamp: timestamppb.New(s.b.clock.Now())}})
		return nil
	}
	c, st := s.begin(ctx, consumerResources(req.GetGroup(), req.GetMessageQueue().GetTopic()))
	if st != nil {
		return finish(st)
	}
	wait, st := s.pollingTime(c, req)
	if st != nil {
		return finish(st)
	}
	topic, group, st := c.topicAndGroup(req.GetMessageQueue().GetTopic(), req.GetGroup())
	if st != nil {
		return finish(st)
	}
	invisible := req.GetInvisibleDuration().AsDuration() // 0 when missing
	if req.GetAutoRenew() {
		invisible = DefaultGRPCAutoRenewInvisible
	} else if st := invisibleCheck(invisible, s.b.cfg.v5.minReceiveInvisible()); st != nil {
		return finish(st)
	}
	filter, st := s.filter(topic, req.GetFilterExpression())
	if st != nil {
		return finish(st)
	}
	tc, st := s.topicConfig(topic)
	if st != nil {
		return finish(st)
	}
	if tc.Perm&PermRead == 0 || tc.ReadQueueNums <= 0 {
		return finish(grpcStatus(v2.Code_FORBIDDEN, "no readable queue"))
	}
	batch := int(req.GetBatchSize())
	if batch <= 0 || batch > maxReceiveBatch {
		return finish(grpcStatus(v2.Code_BAD_REQUEST, fmt.Sprintf("the broker[%s] pop message's num is greater than 32 or not positive: %d", s.b.cfg.brokerName, batch)))
	}
	gc := s.b.groups.getOrCreate(group)
	msgs, err := s.b.v5.pop.Receive(ctx, &pop.ReceiveRequest{
		Group: group, Topic: topic, QueueIDs: tc.readQueueIDs(), MaxMessages: batch,
		InvisibleDuration: invisible, Filter: filter, Wait: wait,
		FIFO: gc.ConsumeMessageOrderly, MaxAttempts: gc.RetryMaxTimes + 1,
		Owner: c.clientID, AutoRenew: req.GetAutoRenew(),
	})
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil
	case errors.Is(err, pop.ErrClosed):
		return finish(grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, "the broker is shutting down"))
	case err != nil:
		return finish(grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, err.Error()))
	case len(msgs) == 0:
		return finish(grpcStatus(v2.Code_MESSAGE_NOT_FOUND, "no new message"))
	}
	if err := stream.Send(&v2.ReceiveMessageResponse{Content: &v2.ReceiveMessageResponse_Status{Status: okStatus()}}); err != nil {
		s.b.popGiveBack("gRPC receive", group, topic, msgs)
		return nil
	}
	for i, m := range msgs {
		pm := protoMessage(m.Message, delivery{handle: m.ReceiptHandle, attempt: m.Attempt, invisible: m.InvisibleDuration})
		if err := stream.Send(&v2.ReceiveMessageResponse{Content: &v2.ReceiveMessageResponse_Message{Message: pm}}); err != nil {
			s.b.popGiveBack("gRPC receive", group, topic, msgs[i:])
			return nil
		}
	}
	_ = stream.Send(&v2.ReceiveMessageResponse{Content: &v2.ReceiveMessageResponse_DeliveryTimestamp{DeliveryTimestamp: timestamppb.New(s.b.clock.Now())}})
	return nil
}

// pollingTime is how long the receive may wait (ReceiveMessageActivity).
func (s *grpcServer) pollingTime(c *v5Call, req *v2.ReceiveMessageRequest) (time.Duration, *v2.Status) {
	lo, hi := s.b.cfg.v5.longPolling()
	remaining := hi + time.Hour // no deadline: anything goes
	if !c.deadline.IsZero() {
		remaining = time.Until(c.deadline)
	}
	var wait time.Duration
	if req.LongPollingTimeout != nil {
		wait = req.GetLongPollingTimeout().AsDuration()
	} else {
		timeout := defaultClientTimeout
		if st := s.clients.settingsOf(c.clientID); st.GetRequestTimeout() != nil {
			timeout = st.GetRequestTimeout().AsDuration()
		}
		wait = remaining - timeout/2
	}
	wait = min(max(wait, lo), hi)
	if wait > remaining {
		if remaining < lo {
			code := v2.Code_ILLEGAL_POLLING_TIME
			if versionBefore(c.version, illegalPollingTimeSince) {
				code = v2.Code_BAD_REQUEST
			}
			return 0, grpcStatus(code, "The deadline time remaining is not enough for polling, please check network condition")
		}
		wait = remaining
	}
	return wait, nil
}

// illegalPollingTimeSince is the first client version that knows
// ILLEGAL_POLLING_TIME; older clients get BAD_REQUEST instead
// (ILLEGAL_POLLING_TIME_INTRODUCED_CLIENT_VERSION).
const illegalPollingTimeSince = "5.0.3"

// versionBefore reports whether client version v (x-mq-client-version,
// "5.0.10", "5.1.4-SNAPSHOT") is older than want, comparing the dotted
// parts as numbers (missing parts are 0; a part's non-digit suffix is
// ignored). An empty or non-numeric version counts as older. The proxy
// compares the strings, so there "5.0.10" is older than "5.0.3".
func versionBefore(v, want string) bool {
	a, ok := versionParts(v)
	if !ok {
		return true
	}
	b, _ := versionParts(want)
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// versionParts reads the leading number of each dotted part of v; false
// when v does not start with a digit.
func versionParts(v string) ([]int, bool) {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return nil, false
	}
	var parts []int
	for _, p := range strings.Split(v, ".") {
		n := 0
		for i := 0; i < len(p) && p[i] >= '0' && p[i] <= '9' && n < 1<<20; i++ {
			n = n*10 + int(p[i]-'0')
		}
		parts = append(parts, n)
	}
	return parts, true
}

// invisibleCheck is validateInvisibleTime.
func invisibleCheck(d, minD time.Duration) *v2.Status {
	switch {
	case d < minD:
		return grpcStatus(v2.Code_ILLEGAL_INVISIBLE_TIME, fmt.Sprintf("the invisibleTime is too small. min is %d", minD.Milliseconds()))
	case d > DefaultGRPCMaxInvisible:
		return grpcStatus(v2.Code_ILLEGAL_INVISIBLE_TIME, fmt.Sprintf("the invisibleTime is too large. max is %d", DefaultGRPCMaxInvisible.Milliseconds()))
	}
	return nil
}

// filter builds the store filter of a filter expression (the remoting
// side's subscription filters).
func (s *grpcServer) filter(topic string, fe *v2.FilterExpression) (store.Filter, *v2.Status) {
	typ := ExpressionTag
	if fe.GetType() == v2.FilterType_SQL {
		typ = ExpressionSQL92
	}
	expr := fe.GetExpression()
	if expr == "" {
		expr = subscribeAll
	}
	sub, remark := s.b.newSubscription(topic, expr, typ, 0)
	switch {
	case sub == nil:
		return nil, grpcStatus(v2.Code_ILLEGAL_FILTER_EXPRESSION, remark)
	case sub.sqlErr != nil:
		return nil, grpcStatus(v2.Code_ILLEGAL_FILTER_EXPRESSION, sub.sqlErr.Error())
	}
	return sub.filter, nil
}
