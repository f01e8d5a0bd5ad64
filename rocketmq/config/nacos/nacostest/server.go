package nacostest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Server is an in-process Nacos 2.x config server. Create it with New (or Run / RunT),
// Start it, give clients ServerConfig, Close it.
//
// Concurrency: one mutex (mu) guards the stored configurations, the listeners, the
// registered connections, the tokens and the lifecycle fields; every handler takes it for
// a short, complete operation and never across I/O. Pushes to clients run on goroutines of
// their own (tracked by wg) after the lock is released, so a slow client never blocks a
// publish. Sends on one bi-stream are serialised by that connection's own lock.
type Server struct {
	cfg      config
	handlers map[string]handlerEntry // built in New, read-only afterwards
	reqID    atomic.Uint64           // ids of server-pushed requests

	// Set by Start, read-only afterwards.
	httpAddr, grpcAddr string
	httpSrv            *http.Server
	grpcSrv            *grpc.Server

	mu         sync.Mutex
	configs    map[configKey]*item
	listeners  map[configKey]map[string]string // key -> connection id -> tenant as the client wrote it
	conns      map[string]*conn                // connections that sent ConnectionSetupRequest
	tokens     map[string]time.Time            // access token -> expiry
	starting   bool
	dropPushes bool
	started    bool
	closed     bool
	done       chan struct{} // closed by Close
	wg         sync.WaitGroup
}

// Tester is the part of testing.TB that RunT needs.
type Tester interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
}

// New returns a configured server; it does not listen until Start.
func New(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.pushAttempts < 1 || cfg.ackTimeout <= 0 || cfg.pushRetryDelay < 0 {
		return nil, errors.New("nacostest: push retry needs at least one attempt and a positive ack timeout")
	}
	if (cfg.username == "") != (cfg.password == "") {
		return nil, errors.New("nacostest: WithAuth needs both a username and a password")
	}
	s := &Server{
		cfg:       cfg,
		configs:   make(map[configKey]*item),
		listeners: make(map[configKey]map[string]string),
		conns:     make(map[string]*conn),
		tokens:    make(map[string]time.Time),
		done:      make(chan struct{}),
	}
	s.handlers = s.handlerTable()
	return s, nil
}

// Start listens on the HTTP address and on the gRPC address and serves both until Close.
// Without WithGrpcAddr the gRPC port is the HTTP port + 1000, the offset clients assume by
// default, when such a pair of free ports can be found; otherwise it is any free port, and
// ServerConfig carries it explicitly.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return errors.New("nacostest: Start called twice or after Close")
	}
	httpLn, grpcLn, err := s.listen(ctx)
	if err != nil {
		return err
	}
	s.started = true
	s.httpAddr, s.grpcAddr = httpLn.Addr().String(), grpcLn.Addr().String()

	s.grpcSrv = grpc.NewServer(
		grpc.StatsHandler(connTagger{s}),
		// The clients ping every 60s even without streams; the default policy (5m) would
		// answer with GOAWAY too_many_pings.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	pb.RegisterRequestServer(s.grpcSrv, grpcRequest{s})
	pb.RegisterBiRequestStreamServer(s.grpcSrv, grpcBiStream{s})
	s.httpSrv = &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: 10 * time.Second}

	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.grpcSrv.Serve(grpcLn); err != nil {
			s.logf("grpc server on %s stopped: %v", s.grpcAddr, err)
		}
	}()
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("http server on %s stopped: %v", s.httpAddr, err)
		}
	}()
	s.logf("nacostest: http on %s, grpc on %s", s.httpAddr, s.grpcAddr)
	return nil
}

// listen opens the two listeners (see Start for the port choice).
func (s *Server) listen(ctx context.Context) (httpLn, grpcLn net.Listener, err error) {
	var lc net.ListenConfig
	if s.cfg.grpcAddr != "" {
		if httpLn, err = lc.Listen(ctx, "tcp", s.cfg.httpAddr); err != nil {
			return nil, nil, fmt.Errorf("nacostest: listen http on %s: %w", s.cfg.httpAddr, err)
		}
		if grpcLn, err = lc.Listen(ctx, "tcp", s.cfg.grpcAddr); err != nil {
			_ = httpLn.Close()
			return nil, nil, fmt.Errorf("nacostest: listen grpc on %s: %w", s.cfg.grpcAddr, err)
		}
		return httpLn, grpcLn, nil
	}
	const attempts = 20
	for i := 0; i < attempts; i++ {
		if httpLn, err = lc.Listen(ctx, "tcp", s.cfg.httpAddr); err != nil {
			return nil, nil, fmt.Errorf("nacostest: listen http on %s: %w", s.cfg.httpAddr, err)
		}
		host, port := splitAddr(httpLn.Addr())
		if port+constant.RpcPortOffset <= 65535 {
			if grpcLn, err = lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port+constant.RpcPortOffset))); err == nil {
				return httpLn, grpcLn, nil
			}
		}
		if _, fixed := splitHostPort(s.cfg.httpAddr); fixed {
			break // the HTTP port was chosen by the caller: trying again picks it again
		}
		_ = httpLn.Close()
		httpLn = nil
	}
	if httpLn == nil {
		if httpLn, err = lc.Listen(ctx, "tcp", s.cfg.httpAddr); err != nil {
			return nil, nil, fmt.Errorf("nacostest: listen http on %s: %w", s.cfg.httpAddr, err)
		}
	}
	host, _ := splitAddr(httpLn.Addr())
	if grpcLn, err = lc.Listen(ctx, "tcp", net.JoinHostPort(host, "0")); err != nil {
		_ = httpLn.Close()
		return nil, nil, fmt.Errorf("nacostest: listen grpc: %w", err)
	}
	return httpLn, grpcLn, nil
}

func splitAddr(a net.Addr) (string, int) {
	ta := a.(*net.TCPAddr)
	return ta.IP.String(), ta.Port
}

// splitHostPort reports the port of addr and whether it is fixed (not 0).
func splitHostPort(addr string) (int, bool) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, false
	}
	n, _ := strconv.Atoi(p)
	return n, n != 0
}

// Run is New followed by Start on 127.0.0.1 free ports.
func Run(opts ...Option) (*Server, error) {
	s, err := New(opts...)
	if err != nil {
		return nil, err
	}
	if err := s.Start(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// RunT is Run for tests: it fails t on error, logs through t.Logf unless WithLogf was
// given, and closes the server in t.Cleanup.
func RunT(t Tester, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithLogf(t.Logf)}, opts...)
	s, err := Run(opts...)
	if err != nil {
		t.Fatalf("nacostest: %v", err)
		return nil
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Close stops both listeners, ends every client connection and pending push, and waits
// for the server's goroutines. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	started := s.started
	s.mu.Unlock()
	var err error
	if started {
		s.grpcSrv.Stop() // ends the bi-streams; GracefulStop would wait for them forever
		err = s.httpSrv.Close()
	}
	s.wg.Wait()
	return err
}

// Addr is the HTTP address "127.0.0.1:port", the server address clients are configured with.
func (s *Server) Addr() string { return s.httpAddr }

// GrpcAddr is the gRPC address "127.0.0.1:port" the clients actually talk to.
func (s *Server) GrpcAddr() string { return s.grpcAddr }

// ServerConfig is what a nacos-sdk-go client needs to reach this server, gRPC port included.
func (s *Server) ServerConfig() constant.ServerConfig {
	host, hp, _ := net.SplitHostPort(s.httpAddr)
	_, gp, _ := net.SplitHostPort(s.grpcAddr)
	httpPort, _ := strconv.ParseUint(hp, 10, 64)
	grpcPort, _ := strconv.ParseUint(gp, 10, 64)
	return constant.ServerConfig{Scheme: "http", ContextPath: contextPath, IpAddr: host, Port: httpPort, GrpcPort: grpcPort}
}

// spawn runs f on a goroutine that Close waits for; once Close began it does nothing and
// returns false.
func (s *Server) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.logf != nil {
		s.cfg.logf(format, args...)
	}
}
