package nacostest

import (
	"context"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcRequest serves service Request: one Payload in, one out. The checks run in the real
// server's order (GrpcRequestAcceptor): server starting, ServerCheckRequest (answered on
// any connection), unknown type, unregistered connection, then the handler, which checks
// the access token itself when auth is on.
type grpcRequest struct{ s *Server }

// handlerEntry is one row of the dispatch table.
type handlerEntry struct {
	response string // response type, also used for auth failures
	secured  bool   // needs a valid access token when auth is on
	handle   func(c *conn, r *request) reply
}

// handlerTable lists the request types this server implements; see each handler's file.
func (s *Server) handlerTable() map[string]handlerEntry {
	return map[string]handlerEntry{
		"HealthCheckRequest":       {response: "HealthCheckResponse", handle: s.handleHealthCheck},
		"ConfigQueryRequest":       {response: "ConfigQueryResponse", secured: true, handle: s.handleConfigQuery},
		"ConfigPublishRequest":     {response: "ConfigPublishResponse", secured: true, handle: s.handleConfigPublish},
		"ConfigRemoveRequest":      {response: "ConfigRemoveResponse", secured: true, handle: s.handleConfigRemove},
		"ConfigBatchListenRequest": {response: "ConfigChangeBatchListenResponse", secured: true, handle: s.handleConfigBatchListen},
	}
}

func (g grpcRequest) Request(ctx context.Context, p *pb.Payload) (*pb.Payload, error) {
	rep := g.s.dispatch(connIDFrom(ctx), parsePayload(p))
	out, err := encode(rep.typ, rep.body)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return out, nil
}

func (s *Server) dispatch(connID string, r *request) reply {
	if s.isStarting() {
		return errorReply(codeInvalidServerStatus, msgStarting)
	}
	if r.typ == "ServerCheckRequest" {
		return s.handleServerCheck(connID)
	}
	h, ok := s.handlers[r.typ]
	if !ok {
		s.logf("nacostest: no handler for %s", r.typ)
		return errorReply(codeNoHandler, msgNoHandler)
	}
	c := s.connection(connID)
	if c == nil {
		return errorReply(codeUnregistered, msgUnregistered)
	}
	if h.secured {
		if msg := s.checkToken(r.headers["accessToken"]); msg != "" {
			return reply{typ: h.response, body: fail(codeNoRight, msg)}
		}
	}
	return h.handle(c, r)
}

// SetStarting makes the server behave like one still starting up: every request is
// answered with INVALID_SERVER_STATUS and new connections are refused, which clients
// retry for a while. SetStarting(false) makes it serve again.
func (s *Server) SetStarting(starting bool) {
	s.mu.Lock()
	s.starting = starting
	s.mu.Unlock()
}

func (s *Server) isStarting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starting
}
