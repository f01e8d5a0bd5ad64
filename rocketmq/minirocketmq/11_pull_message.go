package minirocketmq

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// PULL_MESSAGE (11): read a queue from an offset, with long polling.
//
// Honoured: consumerGroup, topic, queueId, queueOffset, maxMsgNums (capped at
// 32 messages and 256 KiB per response, at least one message, like the
// real broker), sysFlag bits COMMIT_OFFSET (store commitOffset as the
// group's offset), SUSPEND (hold the request when nothing is there) and
// SUBSCRIPTION (use the header's subscription/expressionType instead of the
// one registered by heartbeat), suspendTimeoutMillis (capped by
// WithMaxPullHold), subVersion (SUBSCRIPTION_NOT_LATEST when the registered
// one is older). Without the SUBSCRIPTION bit the group's subscription from
// heartbeats is used: missing group or topic → SUBSCRIPTION_NOT_EXIST, as on
// the real broker (the client retries after its next heartbeat).
//
// Result codes and nextBeginOffset follow PullMessageProcessor + the store
// (see store.Status): FOUND → SUCCESS; nothing matched the filter →
// PULL_RETRY_IMMEDIATELY; caught up → PULL_NOT_FOUND (held first when
// SUSPEND); empty queue → PULL_NOT_FOUND at offset 0, else PULL_OFFSET_MOVED;
// offset out of range → PULL_OFFSET_MOVED. The response always carries
// nextBeginOffset, minOffset, maxOffset and suggestWhichBrokerId 0.
//
// A held pull is answered as soon as a message that passes its filter is
// stored in its queue, or when its hold time ends (longpoll.go). A
// connection holds at most WithMaxHeldPulls pulls; past that a pull that
// finds nothing is answered PULL_NOT_FOUND at once.
//
// SQL92 expressions (expressionType SQL92, as enablePropertyFilter=true;
// WithPropertyFilter(false) refuses them with the real broker's
// SYSTEM_ERROR "does not support ... SQL92") select on the properties of
// each record. A heartbeat expression that does not compile gets
// FILTER_DATA_NOT_EXIST on every pull, as on the real broker; one in the
// request (SUBSCRIPTION flag) gets SUBSCRIPTION_PARSE_FAILED, where 4.9.4
// (its assert disabled) serves every message unfiltered.
//
// Not implemented: CLASS_FILTER mode, slave redirection.

// Pull system flag bits (PullSysFlag).
const (
	pullFlagCommitOffset = 1 << 0
	pullFlagSuspend      = 1 << 1
	pullFlagSubscription = 1 << 2
	pullFlagClassFilter  = 1 << 3
)

// Per-response limits (maxTransferCountOnMessageInMemory and
// maxTransferBytesOnMessageInMemory).
const (
	maxPullMessages = 32
	maxPullBytes    = 256 << 10
)

// handlePullMessage serves code 11.
func (b *Broker) handlePullMessage(c *conn, req *remoting.Command) (*remoting.Command, error) {
	return b.pull(c, req, true), nil
}

// pull runs a pull request. allowSuspend is false when a held request is
// run again; then it always answers. It returns nil when the request was
// parked.
func (b *Broker) pull(c *conn, req *remoting.Command, allowSuspend bool) *remoting.Command {
	h := newHeader(req)
	group := h.str("consumerGroup", true)
	topic := h.str("topic", true)
	queueID := h.int32("queueId", true)
	offset := h.int64("queueOffset", true)
	maxMsgs := h.int32("maxMsgNums", true)
	sysFlag := h.int32("sysFlag", true)
	commitOffset := h.int64("commitOffset", true)
	suspendMillis := h.int64("suspendTimeoutMillis", true)
	subExpr := h.str("subscription", false)
	subVersion := h.int64("subVersion", true)
	exprType := h.str("expressionType", false)
	if resp := h.errResponse(); resp != nil {
		return resp
	}

	tc := b.topics.get(topic)
	if tc == nil {
		tc = b.groupTopicConfig(topic) // routed before it exists: an empty queue
	}
	if tc == nil {
		return remoting.NewResponse(req, remoting.TopicNotExist, remarkf(msgTopicNotExistApply, topic))
	}
	if tc.Perm&PermRead == 0 {
		return remoting.NewResponse(req, remoting.NoPermission, remarkf(msgPullForbidden, topic))
	}
	if queueID < 0 || int(queueID) >= tc.ReadQueueNums {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgPullQueueIDIllegal, queueID, topic, tc.ReadQueueNums, c.RemoteAddr()))
	}

	var sub *subscription
	if sysFlag&pullFlagSubscription != 0 {
		s, remark := b.newSubscription(topic, subExpr, exprType, subVersion)
		if s == nil {
			return remoting.NewResponse(req, remoting.SystemError, remark)
		}
		if s.sqlErr != nil {
			return remoting.NewResponse(req, remoting.SubscriptionParseFailed, msgSubscriptionParseFailed)
		}
		sub = s
	} else {
		s, groupKnown := b.clients.subscription(group, topic)
		switch {
		case !groupKnown:
			return remoting.NewResponse(req, remoting.SubscriptionNotExist, msgSubscriptionGroupMissing)
		case s == nil:
			return remoting.NewResponse(req, remoting.SubscriptionNotExist, msgSubscriptionMissing)
		case s.SubVersion < subVersion:
			return remoting.NewResponse(req, remoting.SubscriptionNotLatest, msgSubscriptionNotLatest)
		case s.sqlErr != nil:
			return remoting.NewResponse(req, remoting.FilterDataNotExist, msgFilterDataNotExist)
		}
		sub = s
	}

	res, err := b.store.Get(&store.GetRequest{
		Topic:    topic,
		QueueID:  queueID,
		Offset:   offset,
		MaxMsgs:  min(int(max(maxMsgs, 1)), maxPullMessages),
		MaxBytes: maxPullBytes,
		Filter:   sub.filter,
		Dst:      b.pullBuffer(),
	})
	if err != nil {
		b.releasePullBuffer(res.Records)
		return remoting.NewResponse(req, remoting.SystemError, err.Error())
	}

	resp := remoting.NewResponse(req, remoting.Success, "")
	switch res.Status {
	case store.Found:
		resp.Body = res.Records
		b.stats.add(statsGroupGetNums, topic+"@"+group, int64(res.Count), time.Now())
	default:
		b.releasePullBuffer(res.Records)
	}
	switch res.Status {
	case store.Found:
	case store.NoMatchedMessage:
		resp.Code = remoting.PullRetryImmediately
	case store.NoMessageInQueue:
		if offset != 0 {
			resp.Code = remoting.PullOffsetMoved
		} else {
			resp.Code = remoting.PullNotFound
		}
	case store.OffsetOverflowOne:
		resp.Code = remoting.PullNotFound
	case store.OffsetTooSmall, store.OffsetOverflowBadly:
		resp.Code = remoting.PullOffsetMoved
	}
	if resp.Code != remoting.Success {
		resp.Remark = res.Status.String()
	}
	resp.Ext = make([]remoting.Field, 0, 4)
	resp.Ext = append(resp.Ext,
		remoting.Field{Key: "nextBeginOffset", Value: itoa(res.NextOffset)},
		remoting.Field{Key: "minOffset", Value: itoa(res.MinOffset)},
		remoting.Field{Key: "maxOffset", Value: itoa(res.MaxOffset)},
		remoting.Field{Key: "suggestWhichBrokerId", Value: "0"})

	if allowSuspend && sysFlag&pullFlagCommitOffset != 0 {
		b.offsets.commit(group, topic, queueID, commitOffset)
	}
	if resp.Code == remoting.PullNotFound && allowSuspend && sysFlag&pullFlagSuspend != 0 {
		hold := time.Duration(suspendMillis) * time.Millisecond
		if hold <= 0 || hold > b.cfg.maxPullHold {
			hold = b.cfg.maxPullHold
		}
		if b.holds.hold(c, req, queueKey{topic, queueID}, offset, sub.filter, hold) {
			return nil
		}
	}
	return resp
}

// pullBuffer returns a buffer for the records of a pull response. Pull
// bodies are the broker's largest allocations; they are recycled because
// Conn.Send copies a frame into its write buffer, so a body is free again
// as soon as its response has been sent (respond hands it back).
func (b *Broker) pullBuffer() []byte {
	if p, ok := b.pullBufs.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 64<<10)
}

// releasePullBuffer returns a pull body to the pool; buf must not be used
// afterwards.
func (b *Broker) releasePullBuffer(buf []byte) {
	if cap(buf) == 0 || cap(buf) > 2*maxPullBytes {
		return
	}
	b.pullBufs.Put(&buf)
}
