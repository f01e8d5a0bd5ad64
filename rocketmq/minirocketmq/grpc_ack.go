package minirocketmq

import (
	"context"
	"errors"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// AckMessage, ChangeInvisibleDuration, ForwardMessageToDeadLetterQueue: what
// a consumer does with a received message, by its receipt handle, through
// the pop engine (AckMessageActivity, ChangeInvisibleDurationActivity,
// ForwardMessageToDLQActivity). Topic and group are validated. A handle
// whose delivery is over (its invisible duration passed, or it was acked,
// dead-lettered or replaced by ChangeInvisibleDuration's new handle) →
// INVALID_RECEIPT_HANDLE "receipt handle is expired", as the proxy checks
// first; a handle that is not one of ours → INVALID_RECEIPT_HANDLE with
// what is wrong (the proxy fails to decode it and reports an internal
// error).
//
//   - AckMessage: one status per entry (message_id and receipt_handle
//     echoed); the response status is their common code, MULTIPLE_RESULTS
//     when they differ, INTERNAL_SERVER_ERROR "ack message result is empty"
//     without entries.
//   - ChangeInvisibleDuration: invisible_duration 0..12 h
//     (ILLEGAL_INVISIBLE_TIME); the message is invisible that long from
//     now and the answer carries the handle that replaces the old one.
//     0 gives the message back at once (a nack); suspend keeps its delivery
//     attempt. The next delivery counts an attempt, and after the group's
//     last one the message goes to %DLQ%<group>.
//   - ForwardMessageToDeadLetterQueue: the message goes to %DLQ%<group>
//     now (with DLQ_ORIGIN_TOPIC and DLQ_ORIGIN_MESSAGE_ID); delivery_attempt
//     and max_delivery_attempts are informational.

// popStatus maps the pop engine's errors.
func popStatus(err error) *v2.Status {
	switch {
	case err == nil:
		return okStatus()
	case errors.Is(err, pop.ErrHandleExpired):
		return grpcStatus(v2.Code_INVALID_RECEIPT_HANDLE, pop.ErrHandleExpired.Error())
	case errors.Is(err, pop.ErrInvalidHandle):
		return grpcStatus(v2.Code_INVALID_RECEIPT_HANDLE, err.Error())
	case errors.Is(err, pop.ErrClosed):
		return grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, "the broker is shutting down")
	}
	return grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, err.Error())
}

// AckMessage serves the RPC.
func (s *grpcServer) AckMessage(ctx context.Context, req *v2.AckMessageRequest) (*v2.AckMessageResponse, error) {
	c, st := s.begin(ctx, consumerResources(req.GetGroup(), req.GetTopic()))
	if st != nil {
		return &v2.AckMessageResponse{Status: st}, nil
	}
	topic, group, st := c.topicAndGroup(req.GetTopic(), req.GetGroup())
	if st != nil {
		return &v2.AckMessageResponse{Status: st}, nil
	}
	resp := &v2.AckMessageResponse{}
	for _, e := range req.GetEntries() {
		err := s.b.v5.pop.Ack(group, topic, e.GetReceiptHandle())
		resp.Entries = append(resp.Entries, &v2.AckMessageResultEntry{MessageId: e.GetMessageId(), ReceiptHandle: e.GetReceiptHandle(), Status: popStatus(err)})
	}
	resp.Status = aggregate(len(resp.Entries), func(i int) *v2.Status { return resp.Entries[i].Status }, "ack message result is empty")
	return resp, nil
}

// ChangeInvisibleDuration serves the RPC.
func (s *grpcServer) ChangeInvisibleDuration(ctx context.Context, req *v2.ChangeInvisibleDurationRequest) (*v2.ChangeInvisibleDurationResponse, error) {
	c, st := s.begin(ctx, consumerResources(req.GetGroup(), req.GetTopic()))
	if st != nil {
		return &v2.ChangeInvisibleDurationResponse{Status: st}, nil
	}
	topic, group, st := c.topicAndGroup(req.GetTopic(), req.GetGroup())
	if st != nil {
		return &v2.ChangeInvisibleDurationResponse{Status: st}, nil
	}
	d := req.GetInvisibleDuration().AsDuration()
	if st := invisibleCheck(d, 0); st != nil {
		return &v2.ChangeInvisibleDurationResponse{Status: st}, nil
	}
	handle, err := s.b.v5.pop.ChangeInvisibleDuration(group, topic, req.GetReceiptHandle(), d, req.GetSuspend())
	return &v2.ChangeInvisibleDurationResponse{Status: popStatus(err), ReceiptHandle: handle}, nil
}

// ForwardMessageToDeadLetterQueue serves the RPC.
func (s *grpcServer) ForwardMessageToDeadLetterQueue(ctx context.Context, req *v2.ForwardMessageToDeadLetterQueueRequest) (*v2.ForwardMessageToDeadLetterQueueResponse, error) {
	c, st := s.begin(ctx, consumerResources(req.GetGroup(), req.GetTopic()))
	if st != nil {
		return &v2.ForwardMessageToDeadLetterQueueResponse{Status: st}, nil
	}
	topic, group, st := c.topicAndGroup(req.GetTopic(), req.GetGroup())
	if st != nil {
		return &v2.ForwardMessageToDeadLetterQueueResponse{Status: st}, nil
	}
	err := s.b.v5.pop.DeadLetter(group, topic, req.GetReceiptHandle())
	if err == nil {
		err = s.b.waitDurable(ctx)
	}
	return &v2.ForwardMessageToDeadLetterQueueResponse{Status: popStatus(err)}, nil
}
