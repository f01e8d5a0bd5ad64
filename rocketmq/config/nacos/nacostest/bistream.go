package nacostest

import (
	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
)

// grpcBiStream serves service BiRequestStream. On it the client sends
// ConnectionSetupRequest once and then only answers to what the server pushes
// (ConfigChangeNotifyRequest, ConnectResetRequest); the server never answers the setup.
//
// Not implemented: ability negotiation (SetupAckRequest; the Go client sends no ability
// table), connection limits, ClientDetectionRequest probes.
type grpcBiStream struct{ s *Server }

// connectionSetup is ConnectionSetupRequest.
type connectionSetup struct {
	ClientVersion string            `json:"clientVersion"`
	Tenant        string            `json:"tenant"`
	Labels        map[string]string `json:"labels"`
}

// RequestBiStream reads the stream on a goroutine of its own so that the server can end
// the stream (conn.close, Close) while the client is silent.
func (b grpcBiStream) RequestBiStream(stream pb.BiRequestStream_RequestBiStreamServer) error {
	s := b.s
	id := connIDFrom(stream.Context())
	setup := make(chan *conn, 1)
	readerDone := make(chan struct{})
	if !s.spawn(func() {
		defer close(readerDone)
		s.readBiStream(id, stream, setup)
	}) {
		return nil // Close began
	}
	select {
	case <-readerDone: // the client closed the stream before setting up, or was refused
		return nil
	case c := <-setup:
		select {
		case <-c.kicked:
		case <-readerDone:
		case <-s.done:
		}
		s.unregister(c.id, "bi-stream ended")
		return nil
	}
}

// readBiStream handles what the client sends on its bi-stream until the stream ends.
func (s *Server) readBiStream(id string, stream pb.BiRequestStream_RequestBiStreamServer, setup chan<- *conn) {
	var c *conn
	for {
		p, err := stream.Recv()
		if err != nil {
			return
		}
		r := parsePayload(p)
		switch {
		case r.typ == "ConnectionSetupRequest" && c == nil:
			var req connectionSetup
			if err := r.decode(&req); err != nil {
				s.logf("nacostest: connection %s: %v", id, err)
				continue
			}
			if s.isStarting() {
				s.logf("nacostest: connection %s rejected: server is starting", id)
				return
			}
			c = &conn{id: id, clientIP: r.clientIP, clientVersion: req.ClientVersion, tenant: req.Tenant,
				labels: req.Labels, kicked: make(chan struct{}), stream: stream, pending: make(map[string]chan response)}
			if err := s.register(c); err != nil {
				return
			}
			s.logf("nacostest: connection %s set up by %s (%s)", id, req.ClientVersion, r.clientIP)
			setup <- c
		case isResponse(r.typ) && c != nil:
			var resp response
			if err := r.decode(&resp); err != nil {
				s.logf("nacostest: connection %s: %v", id, err)
				continue
			}
			if !c.answer(resp) {
				s.logf("nacostest: connection %s: %s for no pending request (id %q)", id, r.typ, resp.RequestID)
			}
		default:
			s.logf("nacostest: connection %s: unexpected %s on the bi-stream", id, r.typ)
		}
	}
}
