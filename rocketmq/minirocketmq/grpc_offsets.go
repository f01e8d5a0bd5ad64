package minirocketmq

import (
	"context"
	"fmt"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// Offset-based consumption over gRPC: PullMessage, GetOffset, UpdateOffset,
// QueryOffset. The 5.x proxy declares these and does not serve them; here
// they have the remoting side's semantics (PULL_MESSAGE,
// QUERY_CONSUMER_OFFSET, UPDATE_CONSUMER_OFFSET, GET_MIN/MAX_OFFSET,
// SEARCH_OFFSET_BY_TIMESTAMP), on the same offset table, so a pull
// consumer's progress is the group's progress on either protocol. Topic
// and group are validated, the queue id must be one of the topic's queues
// (BAD_REQUEST).
//
//   - PullMessage (server stream: status, messages, next_offset): up to
//     batch_size (1..32) messages from offset through the filter; nothing
//     there and long_polling_timeout > 0 → waits (within the long-polling
//     bounds) for a message to be stored in the topic; status OK with
//     messages, MESSAGE_NOT_FOUND without, ILLEGAL_OFFSET when offset is
//     outside the queue (next_offset says where to go on).
//   - GetOffset: the group's committed offset; none → 0 for a queue that
//     still starts at 0 (a young queue, as QUERY_CONSUMER_OFFSET), else
//     OFFSET_NOT_FOUND.
//   - UpdateOffset: commits offset (>= 0, else ILLEGAL_OFFSET).
//   - QueryOffset: BEGINNING → the queue's first offset, END → the next
//     offset to be written, TIMESTAMP → the offset stored at (or nearest to)
//     timestamp (required: BAD_REQUEST).

// queueOf validates a request's message queue.
func (s *grpcServer) queueOf(c *v5Call, mq *v2.MessageQueue) (string, int32, *v2.Status) {
	topic, st := c.topic(mq.GetTopic())
	if st != nil {
		return "", 0, st
	}
	tc, st := s.topicConfig(topic)
	if st != nil {
		return "", 0, st
	}
	if id := mq.GetId(); id < 0 || int(id) >= tc.queueCount() {
		return "", 0, grpcStatus(v2.Code_BAD_REQUEST, fmt.Sprintf("queueId[%d] is illegal, topic:[%s] topicConfig.readQueueNums:[%d]", id, topic, tc.ReadQueueNums))
	}
	return topic, mq.GetId(), nil
}

// PullMessage serves the RPC.
func (s *grpcServer) PullMessage(req *v2.PullMessageRequest, stream v2.MessagingService_PullMessageServer) error {
	ctx := stream.Context()
	send := func(st *v2.Status, msgs []*message.Message, next int64) error {
		if err := stream.Send(&v2.PullMessageResponse{Content: &v2.PullMessageResponse_Status{Status: st}}); err != nil {
			return nil
		}
		for _, m := range msgs {
			if err := stream.Send(&v2.PullMessageResponse{Content: &v2.PullMessageResponse_Message{Message: protoMessage(m, delivery{})}}); err != nil {
				return nil
			}
		}
		if next >= 0 {
			_ = stream.Send(&v2.PullMessageResponse{Content: &v2.PullMessageResponse_NextOffset{NextOffset: next}})
		}
		return nil
	}
	c, st := s.begin(ctx, consumerResources(req.GetGroup(), req.GetMessageQueue().GetTopic()))
	if st != nil {
		return send(st, nil, -1)
	}
	if _, st := c.group(req.GetGroup()); st != nil {
		return send(st, nil, -1)
	}
	topic, qid, st := s.queueOf(c, req.GetMessageQueue())
	if st != nil {
		return send(st, nil, -1)
	}
	filter, st := s.filter(topic, req.GetFilterExpression())
	if st != nil {
		return send(st, nil, -1)
	}
	batch := int(req.GetBatchSize())
	if batch <= 0 || batch > maxReceiveBatch {
		return send(grpcStatus(v2.Code_BAD_REQUEST, fmt.Sprintf("batch size %d: want 1..%d", batch, maxReceiveBatch)), nil, -1)
	}
	if req.GetOffset() < 0 {
		return send(grpcStatus(v2.Code_ILLEGAL_OFFSET, fmt.Sprintf("offset %d is illegal", req.GetOffset())), nil, -1)
	}
	_, hi := s.b.cfg.v5.longPolling()
	wait := min(req.GetLongPollingTimeout().AsDuration(), hi)
	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		woken, stop := s.b.v5.pop.Watch(topic)
		res, err := s.b.store.Get(&store.GetRequest{Topic: topic, QueueID: qid, Offset: req.GetOffset(), MaxMsgs: batch, MaxBytes: maxPullBytes, Filter: filter})
		if err != nil {
			stop()
			return send(grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, err.Error()), nil, -1)
		}
		switch res.Status {
		case store.Found:
			stop()
			var msgs []*message.Message
			for rec := res.Records; len(rec) > 0; {
				m, n, err := message.DecodeRecord(rec)
				if err != nil {
					break
				}
				msgs, rec = append(msgs, m), rec[n:]
			}
			return send(okStatus(), msgs, res.NextOffset)
		case store.OffsetTooSmall, store.OffsetOverflowBadly:
			stop()
			return send(grpcStatus(v2.Code_ILLEGAL_OFFSET, fmt.Sprintf("offset %d is outside the queue [%d, %d]", req.GetOffset(), res.MinOffset, res.MaxOffset)), nil, res.NextOffset)
		case store.NoMatchedMessage:
			stop()
			return send(grpcStatus(v2.Code_MESSAGE_NOT_FOUND, "no matched message"), nil, res.NextOffset)
		}
		if deadline == nil {
			stop()
			return send(grpcStatus(v2.Code_MESSAGE_NOT_FOUND, "no new message"), nil, req.GetOffset())
		}
		select {
		case <-woken:
			stop()
		case <-deadline:
			stop()
			return send(grpcStatus(v2.Code_MESSAGE_NOT_FOUND, "no new message"), nil, req.GetOffset())
		case <-ctx.Done():
			stop()
			return nil
		case <-s.b.done:
			stop()
			return nil
		}
	}
}

// GetOffset serves the RPC.
func (s *grpcServer) GetOffset(ctx context.Context, req *v2.GetOffsetRequest) (*v2.GetOffsetResponse, error) {
	c, st := s.begin(ctx, consumerResources(req.GetGroup(), req.GetMessageQueue().GetTopic()))
	if st != nil {
		return &v2.GetOffsetResponse{Status: st}, nil
	}
	group, st := c.group(req.GetGroup())
	if st != nil {
		return &v2.GetOffsetResponse{Status: st}, nil
	}
	topic, qid, st := s.queueOf(c, req.GetMessageQueue())
	if st != nil {
		return &v2.GetOffsetResponse{Status: st}, nil
	}
	off, ok := s.b.offsets.query(group, topic, qid)
	if !ok {
		if s.b.store.MinOffset(topic, qid) > 0 {
			return &v2.GetOffsetResponse{Status: grpcStatus(v2.Code_OFFSET_NOT_FOUND, msgOffsetNotFound)}, nil
		}
		off = 0
	}
	return &v2.GetOffsetResponse{Status: okStatus(), Offset: off}, nil
}

// UpdateOffset serves the RPC.
func (s *grpcServer) UpdateOffset(ctx context.Context, req *v2.UpdateOffsetRequest) (*v2.UpdateOffsetResponse, error) {
	c, st := s.begin(ctx, consumerResources(req.GetGroup(), req.GetMessageQueue().GetTopic()))
	if st != nil {
		return &v2.UpdateOffsetResponse{Status: st}, nil
	}
	group, st := c.group(req.GetGroup())
	if st != nil {
		return &v2.UpdateOffsetResponse{Status: st}, nil
	}
	topic, qid, st := s.queueOf(c, req.GetMessageQueue())
	if st != nil {
		return &v2.UpdateOffsetResponse{Status: st}, nil
	}
	if req.GetOffset() < 0 {
		return &v2.UpdateOffsetResponse{Status: grpcStatus(v2.Code_ILLEGAL_OFFSET, fmt.Sprintf("offset %d is illegal", req.GetOffset()))}, nil
	}
	s.b.setConsumerOffset(group, topic, qid, req.GetOffset())
	return &v2.UpdateOffsetResponse{Status: okStatus()}, nil
}

// QueryOffset serves the RPC.
func (s *grpcServer) QueryOffset(ctx context.Context, req *v2.QueryOffsetRequest) (*v2.QueryOffsetResponse, error) {
	c, st := s.begin(ctx, func(c *v5Call) []acl.GRPCResource {
		return []acl.GRPCResource{{Name: c.wrap(req.GetMessageQueue().GetTopic()), Access: acl.AccessSub}}
	})
	if st != nil {
		return &v2.QueryOffsetResponse{Status: st}, nil
	}
	topic, qid, st := s.queueOf(c, req.GetMessageQueue())
	if st != nil {
		return &v2.QueryOffsetResponse{Status: st}, nil
	}
	var off int64
	switch req.GetQueryOffsetPolicy() {
	case v2.QueryOffsetPolicy_BEGINNING:
		off = s.b.store.MinOffset(topic, qid)
	case v2.QueryOffsetPolicy_END:
		off = s.b.store.MaxOffset(topic, qid)
	case v2.QueryOffsetPolicy_TIMESTAMP:
		if req.Timestamp == nil {
			return &v2.QueryOffsetResponse{Status: grpcStatus(v2.Code_BAD_REQUEST, "timestamp is required for the TIMESTAMP policy")}, nil
		}
		off = s.b.store.OffsetByTime(topic, qid, req.GetTimestamp().AsTime().UnixMilli())
	default:
		return &v2.QueryOffsetResponse{Status: grpcStatus(v2.Code_BAD_REQUEST, "unknown query offset policy "+req.GetQueryOffsetPolicy().String())}, nil
	}
	return &v2.QueryOffsetResponse{Status: okStatus(), Offset: off}, nil
}
