package minirocketmq

import (
	"context"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// QueryRoute: the message queues of a topic (RouteActivity.queryRoute).
//
// Honoured: topic (validated; system topics refused with ILLEGAL_TOPIC;
// unknown → TOPIC_NOT_FOUND with the name server's remark; %RETRY% and
// %DLQ% topics are routed before they exist, as on the remoting side),
// endpoints: the queues' broker is reached at the endpoints the client
// sent (the address it dialled), or at the advertised gRPC address when it
// sent none. Queues as the proxy lists them: read-only, write-only, then
// read-write ones, each with the topic's message type as
// accept_message_types. One broker, id 0, named WithBrokerName.

// QueryRoute serves the RPC.
func (s *grpcServer) QueryRoute(ctx context.Context, req *v2.QueryRouteRequest) (*v2.QueryRouteResponse, error) {
	c, st := s.begin(ctx, func(c *v5Call) []acl.GRPCResource {
		return []acl.GRPCResource{{Name: c.wrap(req.GetTopic()), Access: acl.AccessPubOrSub}}
	})
	if st != nil {
		return &v2.QueryRouteResponse{Status: st}, nil
	}
	topic, st := c.topic(req.GetTopic())
	if st != nil {
		return &v2.QueryRouteResponse{Status: st}, nil
	}
	tc, st := s.topicConfig(topic)
	if st != nil {
		return &v2.QueryRouteResponse{Status: st}, nil
	}
	broker := s.broker(req.GetEndpoints())
	types := acceptMessageTypes(tc.messageType())
	res := resourceOf(topic)
	var queues []*v2.MessageQueue
	add := func(n int, perm v2.Permission) {
		for i := 0; i < n; i++ {
			queues = append(queues, &v2.MessageQueue{Topic: res, Id: int32(len(queues)), Permission: perm, Broker: broker, AcceptMessageTypes: types})
		}
	}
	readable, writable := tc.Perm&PermRead != 0, tc.Perm&PermWrite != 0
	switch {
	case readable && writable:
		rw := min(tc.ReadQueueNums, tc.WriteQueueNums)
		add(tc.ReadQueueNums-rw, v2.Permission_READ)
		add(tc.WriteQueueNums-rw, v2.Permission_WRITE)
		add(rw, v2.Permission_READ_WRITE)
	case writable:
		add(tc.WriteQueueNums, v2.Permission_WRITE)
	case readable:
		add(tc.ReadQueueNums, v2.Permission_READ)
	default:
		add(max(1, tc.queueCount()), v2.Permission_NONE)
	}
	return &v2.QueryRouteResponse{Status: okStatus(), MessageQueues: queues}, nil
}

// topicConfig returns an existing topic's config; for a %RETRY% or %DLQ%
// topic that does not exist yet, the config it will have (one queue per
// retry queue of the group, one for a dead-letter queue), so consumers can
// route and read it from the start; TOPIC_NOT_FOUND for any other unknown
// topic. Nothing is created here (Broker.groupTopicConfig).
func (s *grpcServer) topicConfig(topic string) (*TopicConfig, *v2.Status) {
	if tc := s.b.topics.get(topic); tc != nil {
		return tc, nil
	}
	if tc := s.b.groupTopicConfig(topic); tc != nil {
		return tc, nil
	}
	return nil, grpcStatus(v2.Code_TOPIC_NOT_FOUND, remarkf(msgNoTopicRoute, topic))
}

// broker is the route's broker, at the endpoints the client used.
func (s *grpcServer) broker(ep *v2.Endpoints) *v2.Broker {
	if len(ep.GetAddresses()) == 0 {
		ep = s.advertised
	}
	return &v2.Broker{Name: s.b.cfg.brokerName, Id: 0, Endpoints: ep}
}

// acceptMessageTypes is RouteActivity.parseTopicMessageType.
func acceptMessageTypes(t string) []v2.MessageType {
	switch t {
	case MessageTypeFIFO:
		return []v2.MessageType{v2.MessageType_FIFO}
	case MessageTypeDelay:
		return []v2.MessageType{v2.MessageType_DELAY}
	case MessageTypeTransaction:
		return []v2.MessageType{v2.MessageType_TRANSACTION}
	case MessageTypeMixed:
		return []v2.MessageType{v2.MessageType_NORMAL, v2.MessageType_FIFO, v2.MessageType_DELAY, v2.MessageType_TRANSACTION}
	}
	return []v2.MessageType{v2.MessageType_NORMAL}
}

// permission is RouteActivity.convertToPermission.
func permission(perm int) v2.Permission {
	switch r, w := perm&PermRead != 0, perm&PermWrite != 0; {
	case r && w:
		return v2.Permission_READ_WRITE
	case r:
		return v2.Permission_READ
	case w:
		return v2.Permission_WRITE
	}
	return v2.Permission_NONE
}

// QueryAssignment: the queues a consumer of a group reads
// (RouteActivity.queryAssignment). The broker balances the group's
// consumers itself (pop), so a group gets one assignment, queue id -1 (all
// queues); a FIFO group (consumeMessageOrderly) gets one per read queue.
// No readable queue → FORBIDDEN "no readable queue". Topic and group are
// validated; unknown topic → TOPIC_NOT_FOUND.

// QueryAssignment serves the RPC.
func (s *grpcServer) QueryAssignment(ctx context.Context, req *v2.QueryAssignmentRequest) (*v2.QueryAssignmentResponse, error) {
	c, st := s.begin(ctx, consumerResources(req.GetGroup(), req.GetTopic()))
	if st != nil {
		return &v2.QueryAssignmentResponse{Status: st}, nil
	}
	topic, group, st := c.topicAndGroup(req.GetTopic(), req.GetGroup())
	if st != nil {
		return &v2.QueryAssignmentResponse{Status: st}, nil
	}
	tc, st := s.topicConfig(topic)
	if st != nil {
		return &v2.QueryAssignmentResponse{Status: st}, nil
	}
	if tc.Perm&PermRead == 0 || tc.ReadQueueNums <= 0 {
		return &v2.QueryAssignmentResponse{Status: grpcStatus(v2.Code_FORBIDDEN, "no readable queue")}, nil
	}
	broker, res, perm := s.broker(req.GetEndpoints()), resourceOf(topic), permission(tc.Perm)
	var out []*v2.Assignment
	if gc := s.b.groups.get(group); gc != nil && gc.ConsumeMessageOrderly {
		for i := 0; i < tc.ReadQueueNums; i++ {
			out = append(out, &v2.Assignment{MessageQueue: &v2.MessageQueue{Topic: res, Id: int32(i), Permission: perm, Broker: broker}})
		}
	} else {
		out = append(out, &v2.Assignment{MessageQueue: &v2.MessageQueue{Topic: res, Id: -1, Permission: perm, Broker: broker}})
	}
	return &v2.QueryAssignmentResponse{Status: okStatus(), Assignments: out}, nil
}
