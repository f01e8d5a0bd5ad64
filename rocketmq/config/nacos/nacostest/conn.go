package nacostest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"google.golang.org/grpc/stats"
)

// A client opens one gRPC (HTTP/2) connection per server, asks ServerCheckRequest for the
// id the server gave that connection, opens the bi-stream on it and sends
// ConnectionSetupRequest; only then is the connection registered and may send other
// requests. The id is assigned per transport connection, like the real server's
// "<millis>_<remote ip>_<remote port>", by connTagger.

type connIDKey struct{}

// connTagger is a gRPC stats.Handler that gives every transport connection its id and
// unregisters the connection when the transport closes.
type connTagger struct{ s *Server }

func (t connTagger) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	remote := info.RemoteAddr.String()
	if host, port, err := net.SplitHostPort(remote); err == nil {
		remote = host + "_" + port
	}
	return context.WithValue(ctx, connIDKey{}, fmt.Sprintf("%d_%s", time.Now().UnixMilli(), remote))
}

func (t connTagger) HandleConn(ctx context.Context, s stats.ConnStats) {
	if _, end := s.(*stats.ConnEnd); end {
		t.s.unregister(connIDFrom(ctx), "transport closed")
	}
}

func (connTagger) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (connTagger) HandleRPC(context.Context, stats.RPCStats)                       {}

func connIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(connIDKey{}).(string)
	return id
}

// conn is a registered client connection: its bi-stream and what the client said about
// itself in ConnectionSetupRequest.
type conn struct {
	id            string
	clientIP      string
	clientVersion string
	tenant        string
	labels        map[string]string

	kicked chan struct{} // closed to make the bi-stream handler end the stream
	kick   sync.Once

	mu      sync.Mutex // guards stream sends and pending
	stream  pb.BiRequestStream_RequestBiStreamServer
	pending map[string]chan response // request id of a push -> where its answer goes
}

// send writes one payload on the bi-stream.
func (c *conn) send(p *pb.Payload) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stream.Send(p)
}

// expect registers a push awaiting its answer.
func (c *conn) expect(requestID string) <-chan response {
	ch := make(chan response, 1)
	c.mu.Lock()
	c.pending[requestID] = ch
	c.mu.Unlock()
	return ch
}

// forget drops a push's answer slot.
func (c *conn) forget(requestID string) {
	c.mu.Lock()
	delete(c.pending, requestID)
	c.mu.Unlock()
}

// answer routes a client's response to the push it answers; it reports whether one waited.
func (c *conn) answer(resp response) bool {
	c.mu.Lock()
	ch, ok := c.pending[resp.RequestID]
	delete(c.pending, resp.RequestID)
	c.mu.Unlock()
	if ok {
		ch <- resp
	}
	return ok
}

// close makes the bi-stream handler end the stream; the client sees the stream complete
// and reconnects.
func (c *conn) close() { c.kick.Do(func() { close(c.kicked) }) }

// register records a connection after its ConnectionSetupRequest.
func (s *Server) register(c *conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server closed")
	}
	if old := s.conns[c.id]; old != nil {
		old.close()
	}
	s.conns[c.id] = c
	return nil
}

// unregister forgets a connection and everything it listened to and ends its stream.
func (s *Server) unregister(id, reason string) {
	s.mu.Lock()
	c := s.conns[id]
	if c == nil {
		s.mu.Unlock()
		return
	}
	delete(s.conns, id)
	for k, m := range s.listeners {
		if _, ok := m[id]; ok {
			s.removeListener(k, id)
		}
	}
	s.mu.Unlock()
	c.close()
	s.logf("nacostest: connection %s unregistered: %s", id, reason)
}

// connection returns the registered connection with that id, or nil.
func (s *Server) connection(id string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

// ConnectionIDs returns the ids of the registered client connections (set up and not
// closed), sorted. A client that reconnects gets a new id.
func (s *Server) ConnectionIDs() []string {
	s.mu.Lock()
	ids := make([]string, 0, len(s.conns))
	for id := range s.conns {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	sort.Strings(ids)
	return ids
}

// ResetConnections asks every connected client to reconnect to this server
// (ConnectResetRequest naming it, as a server rebalancing its clients does); each client
// opens a new connection, drops the old one and listens again on the new one.
func (s *Server) ResetConnections() {
	host, port, _ := net.SplitHostPort(s.httpAddr)
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		p, err := encode("ConnectResetRequest", connectReset{RequestID: s.newRequestID(), Module: "internal",
			ServerIP: host, ServerPort: port})
		if err == nil {
			err = c.send(p)
		}
		if err != nil {
			s.logf("nacostest: reset connection %s: %v", c.id, err)
		}
	}
}

// connectReset is ConnectResetRequest. Without a server address the Go client only
// checks that its connection is healthy and keeps it.
type connectReset struct {
	RequestID  string `json:"requestId"`
	Module     string `json:"module"`
	ServerIP   string `json:"serverIp"`
	ServerPort string `json:"serverPort"`
}

func (s *Server) newRequestID() string {
	return fmt.Sprint(s.reqID.Add(1))
}

func isResponse(typ string) bool { return strings.HasSuffix(typ, "Response") }
