package minirocketmq

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// The gRPC endpoint: the RocketMQ 5 MessagingService (the 5.x proxy's API)
// over the broker's own topics, groups and store. One file per RPC group
// (grpc_route.go, grpc_send.go, grpc_receive.go, grpc_ack.go,
// grpc_transaction.go, grpc_telemetry.go, grpc_client.go,
// grpc_offsets.go); conversions in grpc_convert.go, the client registry in
// grpc_clients.go. README.md lists what each RPC honours.
//
// Errors are answered the proxy's way: in the response's Status (code and
// message as the proxy's), never as a gRPC error, except for what the proxy
// also fails at the gRPC level (a Telemetry stream's bad settings:
// INVALID_ARGUMENT; RPCs it does not serve: UNIMPLEMENTED).
//
// Every RPC needs the x-mq-client-id metadata (CLIENT_ID_REQUIRED), and,
// with WithACL, the v5 signature in "authorization" over "x-mq-date-time"
// (UNAUTHORIZED, with the AclException's message).

// grpcServer serves the MessagingService of a broker.
type grpcServer struct {
	v2.UnimplementedMessagingServiceServer
	b          *Broker
	srv        *grpc.Server
	addr       string // bound, dialable
	advertised *v2.Endpoints
	clients    *v5Clients
	sendTurn   atomic.Uint32 // the queue of the next send without a message group
}

// Metadata keys a RocketMQ 5 client sends (GrpcConstants).
const (
	mdClientID      = "x-mq-client-id"
	mdNamespace     = "x-mq-namespace"
	mdLanguage      = "x-mq-language"
	mdClientVersion = "x-mq-client-version"
	mdDateTime      = "x-mq-date-time"
	mdAuthorization = "authorization"
	mdRequestID     = "x-mq-request-id"
)

// grpcHandshakeTimeout bounds a connection's TLS handshake and HTTP/2
// preface.
const grpcHandshakeTimeout = 10 * time.Second

// grpcMaxStreams bounds the concurrent RPCs of one connection.
const grpcMaxStreams = 1024

// listenV5 opens the gRPC listener when WithGRPCAddr asks for one (nil
// otherwise). Connections are TLS or plain as WithTLS says; without WithTLS
// the port serves both, TLS with a self-signed certificate made at start,
// as the proxy's default tlsTestModeEnable does (the official SDKs connect
// with TLS unless told otherwise).
func (b *Broker) listenV5(ctx context.Context) (net.Listener, error) {
	if b.cfg.v5.addr == "" {
		return nil, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", b.cfg.v5.addr)
	if err != nil {
		return nil, fmt.Errorf("minirocketmq: listen gRPC on %s: %w", b.cfg.v5.addr, err)
	}
	cfg, mode := b.cfg.security.tls, b.cfg.security.tlsMode
	if cfg == nil {
		if cfg, err = selfSignedTLS(); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("minirocketmq: gRPC test certificate: %w", err)
		}
		mode = TLSPermissive
	}
	cfg = cfg.Clone()
	if !slices.Contains(cfg.NextProtos, "h2") {
		cfg.NextProtos = append(cfg.NextProtos, "h2") // gRPC clients require ALPN h2
	}
	ln = &limitListener{Listener: ln, sem: make(chan struct{}, maxGRPCConns), done: make(chan struct{})}
	return &tlsListener{Listener: ln, cfg: cfg, permissive: mode == TLSPermissive}, nil
}

// maxGRPCConns bounds the gRPC endpoint's open connections; further clients
// wait in the listen backlog until one closes.
const maxGRPCConns = 10000

// limitListener accepts at most cap(sem) connections at a time.
type limitListener struct {
	net.Listener
	sem  chan struct{}
	done chan struct{}
	once sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	nc, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: nc, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// tlsListener hands out TLS server connections, or (permissive) connections
// that decide on their first byte (tls.go's sniffConn).
type tlsListener struct {
	net.Listener
	cfg        *tls.Config
	permissive bool
}

func (l *tlsListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.permissive {
		return &sniffConn{Conn: nc, cfg: l.cfg}, nil
	}
	return tls.Server(nc, l.cfg), nil
}

// selfSignedTLS makes a throwaway certificate for localhost, as the
// proxy's TLS test mode does.
func selfSignedTLS() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "minirocketmq"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// newGRPCServer builds the server of ln; serve starts it.
func (b *Broker) newGRPCServer(ln net.Listener) *grpcServer {
	s := &grpcServer{b: b, addr: dialable(ln.Addr()), clients: newV5Clients()}
	s.advertised = b.grpcAdvertised(ln.Addr())
	s.srv = grpc.NewServer(
		grpc.MaxRecvMsgSize(b.cfg.maxFrameSize),
		grpc.ConnectionTimeout(grpcHandshakeTimeout),
		grpc.MaxConcurrentStreams(grpcMaxStreams),
		grpc.WaitForHandlers(true),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: b.cfg.channelExpiry}),
		grpc.ChainUnaryInterceptor(s.recoverUnary),
		grpc.ChainStreamInterceptor(s.recoverStream),
	)
	v2.RegisterMessagingServiceServer(s.srv, s)
	return s
}

// grpcAdvertised is the endpoint routes carry when a request names none.
func (b *Broker) grpcAdvertised(bound net.Addr) *v2.Endpoints {
	addr := b.cfg.v5.advertised
	if addr == "" {
		addr = bound.String()
		if ta, ok := bound.(*net.TCPAddr); ok && (ta.IP == nil || ta.IP.IsUnspecified()) {
			addr = net.JoinHostPort(firstNonLoopbackIPv4().String(), strconv.Itoa(ta.Port))
		}
	}
	host, portStr, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil {
		b.log.Logf(LogLevelWarn, "gRPC advertised address %q is not host:port; routes will carry the bound address", addr)
		host, port = "127.0.0.1", bound.(*net.TCPAddr).Port
	}
	scheme := v2.AddressScheme_DOMAIN_NAME
	if ip, err := netip.ParseAddr(host); err == nil {
		scheme = v2.AddressScheme_IPv4
		if ip.Is6() && !ip.Is4In6() {
			scheme = v2.AddressScheme_IPv6
		}
	}
	return &v2.Endpoints{Scheme: scheme, Addresses: []*v2.Address{{Host: host, Port: int32(port)}}}
}

func (s *grpcServer) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.b.log.Logf(LogLevelError, "gRPC %s panicked: %v\n%s", info.FullMethod, r, debug.Stack())
			resp, err = nil, status.Errorf(codes.Internal, "internal error in %s", info.FullMethod)
		}
	}()
	return h(ctx, req)
}

func (s *grpcServer) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.b.log.Logf(LogLevelError, "gRPC %s panicked: %v\n%s", info.FullMethod, r, debug.Stack())
			err = status.Errorf(codes.Internal, "internal error in %s", info.FullMethod)
		}
	}()
	return h(srv, ss)
}

// v5Call is what an RPC's metadata and connection say about its caller.
type v5Call struct {
	clientID, namespace, language, version string
	remote                                 netip.AddrPort
	cred                                   acl.GRPCCredentials
	deadline                               time.Time // zero: none
}

func newV5Call(ctx context.Context) *v5Call {
	md, _ := metadata.FromIncomingContext(ctx)
	get := func(k string) string {
		if v := md.Get(k); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	c := &v5Call{
		clientID:  get(mdClientID),
		namespace: get(mdNamespace),
		language:  get(mdLanguage),
		version:   get(mdClientVersion),
		cred:      acl.GRPCCredentials{Authorization: get(mdAuthorization), DateTime: get(mdDateTime)},
	}
	if p, ok := peer.FromContext(ctx); ok {
		if ta, ok := p.Addr.(*net.TCPAddr); ok {
			ap := ta.AddrPort()
			c.remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
	}
	if d, ok := ctx.Deadline(); ok {
		c.deadline = d
	}
	return c
}

// begin is every RPC's prologue: the caller's metadata, the client id, the
// ACL check of the resources the request needs, and the client's liveness.
// A non-nil status is the answer.
//
// resources lists what the request needs permissions on (names as the
// broker stores them: with the call's namespace); nil needs none.
func (s *grpcServer) begin(ctx context.Context, resources func(c *v5Call) []acl.GRPCResource) (*v5Call, *v2.Status) {
	c := newV5Call(ctx)
	if strings.TrimSpace(c.clientID) == "" {
		return c, grpcStatus(v2.Code_CLIENT_ID_REQUIRED, "client id cannot be empty")
	}
	if v := s.b.cfg.security.acl; v != nil {
		var res []acl.GRPCResource
		if resources != nil {
			res = resources(c)
		}
		if err := v.CheckGRPC(c.cred, c.remote.Addr(), res); err != nil {
			var d *acl.Denied
			msg := err.Error()
			if errors.As(err, &d) {
				msg = d.Remark
			}
			s.b.log.Logf(LogLevelWarn, "ACL: gRPC request of client %s from %s refused: %s", c.clientID, c.remote, msg)
			return c, grpcStatus(v2.Code_UNAUTHORIZED, msg)
		}
	}
	if !s.clients.touch(c, time.Now()) {
		return c, grpcStatus(v2.Code_TOO_MANY_REQUESTS, fmt.Sprintf("too many clients (%d)", maxV5Clients))
	}
	return c, nil
}

// consumerResources is what a consumer's request on a group and a topic
// needs: SUB on both.
func consumerResources(group, topic *v2.Resource) func(c *v5Call) []acl.GRPCResource {
	return func(c *v5Call) []acl.GRPCResource {
		return []acl.GRPCResource{
			{Name: c.wrap(group), Group: true, Access: acl.AccessSub},
			{Name: c.wrap(topic), Access: acl.AccessSub},
		}
	}
}

// grpcStatus builds a response status; an empty message is the code's name,
// as ResponseBuilder does.
func grpcStatus(code v2.Code, msg string) *v2.Status {
	if msg == "" {
		msg = code.String()
	}
	return &v2.Status{Code: code, Message: msg}
}

func okStatus() *v2.Status { return grpcStatus(v2.Code_OK, "") }
