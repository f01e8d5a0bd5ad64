package minirocketmq

import (
	"context"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// Heartbeat: a client says it is alive, every 10 s (ClientActivity.heartbeat).
// Needs the client's settings from its Telemetry stream, else
// UNRECOGNIZED_CLIENT_TYPE "cannot find client settings for this client";
// a producer is alive for its topics, a push or simple consumer for its
// group (validated, created when missing); other client types →
// UNRECOGNIZED_CLIENT_TYPE with the type's name.

// Heartbeat serves the RPC.
func (s *grpcServer) Heartbeat(ctx context.Context, req *v2.HeartbeatRequest) (*v2.HeartbeatResponse, error) {
	c, st := s.begin(ctx, func(c *v5Call) []acl.GRPCResource {
		if t := req.GetClientType(); req.Group != nil && (t == v2.ClientType_PUSH_CONSUMER || t == v2.ClientType_SIMPLE_CONSUMER) {
			return []acl.GRPCResource{{Name: c.wrap(req.GetGroup()), Group: true, Access: acl.AccessSub}}
		}
		return nil
	})
	if st != nil {
		return &v2.HeartbeatResponse{Status: st}, nil
	}
	settings := s.clients.settingsOf(c.clientID)
	if settings == nil {
		return &v2.HeartbeatResponse{Status: grpcStatus(v2.Code_UNRECOGNIZED_CLIENT_TYPE, "cannot find client settings for this client")}, nil
	}
	switch settings.GetClientType() {
	case v2.ClientType_PRODUCER:
	case v2.ClientType_PUSH_CONSUMER, v2.ClientType_SIMPLE_CONSUMER:
		g, st := c.group(req.GetGroup())
		if st != nil {
			return &v2.HeartbeatResponse{Status: st}, nil
		}
		s.b.groups.getOrCreate(g)
	default:
		return &v2.HeartbeatResponse{Status: grpcStatus(v2.Code_UNRECOGNIZED_CLIENT_TYPE, settings.GetClientType().String())}, nil
	}
	return &v2.HeartbeatResponse{Status: okStatus()}, nil
}

// NotifyClientTermination: a client says goodbye
// (ClientActivity.notifyClientTermination). Its settings are forgotten
// (none → UNRECOGNIZED_CLIENT_TYPE "cannot find client settings for this
// client"), and the messages the pop engine was auto-renewing for it become
// visible to the rest of its group at once.

// NotifyClientTermination serves the RPC.
func (s *grpcServer) NotifyClientTermination(ctx context.Context, req *v2.NotifyClientTerminationRequest) (*v2.NotifyClientTerminationResponse, error) {
	c, st := s.begin(ctx, func(c *v5Call) []acl.GRPCResource {
		if req.Group != nil {
			return []acl.GRPCResource{{Name: c.wrap(req.GetGroup()), Group: true, Access: acl.AccessSub}}
		}
		return nil
	})
	if st != nil {
		return &v2.NotifyClientTerminationResponse{Status: st}, nil
	}
	settings := s.clients.remove(c.clientID)
	s.b.v5.pop.Release(c.clientID)
	if settings == nil {
		return &v2.NotifyClientTerminationResponse{Status: grpcStatus(v2.Code_UNRECOGNIZED_CLIENT_TYPE, "cannot find client settings for this client")}, nil
	}
	switch settings.GetClientType() {
	case v2.ClientType_PRODUCER:
	case v2.ClientType_PUSH_CONSUMER, v2.ClientType_SIMPLE_CONSUMER:
		if _, st := c.group(req.GetGroup()); st != nil {
			return &v2.NotifyClientTerminationResponse{Status: st}, nil
		}
	default:
		return &v2.NotifyClientTerminationResponse{Status: grpcStatus(v2.Code_UNRECOGNIZED_CLIENT_TYPE, settings.GetClientType().String())}, nil
	}
	return &v2.NotifyClientTerminationResponse{Status: okStatus()}, nil
}
