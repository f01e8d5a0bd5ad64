package minirocketmq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Broker is an embedded RocketMQ name server and broker. Create it with New
// (or Run / RunT), Start it, point clients at Addr, Close it.
type Broker struct {
	cfg   config
	log   Logger
	clock Clock
	store store.Store

	topics  *topicTable
	groups  *groupTable
	offsets *offsetTable
	clients *clientRegistry
	holds   *pullHolds
	routes  *routeTable // the name server's dropped routes (routes.go)
	stats   *statsTable // put and get counts for the admin tools (brokerstats.go)
	hooks   hooks
	sem     semantics    // retry, delay, transactions, locks (semantics.go)
	v5      v5State      // timer, pop engine and gRPC endpoint (v5.go)
	http    *httpServer  // the Aliyun MQ HTTP endpoint (http.go); nil without WithHTTPAddr
	persist *persister   // the data directory's tables (persist.go); nil without one
	syncer  store.Syncer // set with SYNC_FLUSH: sends are answered after fsync

	pullBufs sync.Pool // *[]byte, see pullBuffer

	// Dispatch tables, built in New and read-only afterwards.
	nsHandlers     map[int16]handlerFunc
	brokerHandlers map[int16]handlerFunc

	// Set by Start before the listeners accept, read-only afterwards.
	nsAddr, brokerAddr string         // bound addresses, loopback for unspecified hosts
	advertised         string         // broker address in routes
	storeHost          netip.AddrPort // advertised address as an IP, for records and ids

	// Connections refused by WithMaxConnections, and when that was last
	// logged (UnixNano).
	refusedConns, refusedLogged atomic.Int64
	panics                      atomic.Int64   // requests whose handler panicked
	keepReady                   retentionReady // pending transactions recovered (retention.go)

	mu      sync.Mutex // guards the lifecycle fields below
	booted  time.Time  // when Start ran
	started bool
	closed  bool
	lns     []net.Listener
	conns   map[*conn]struct{}
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

// Tester is the part of testing.TB that RunT needs.
type Tester interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
}

// New returns a configured broker; it does not listen until Start.
func New(opts ...Option) (*Broker, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.clusterName == "" || cfg.brokerName == "" {
		return nil, errors.New("minirocketmq: cluster and broker names must not be empty")
	}
	if cfg.sem.err != nil {
		return nil, cfg.sem.err
	}
	b := &Broker{
		cfg:     cfg,
		log:     cfg.logger,
		clock:   cfg.clock,
		store:   cfg.store,
		topics:  newTopicTable(),
		groups:  newGroupTable(),
		offsets: newOffsetTable(),
		clients: newClientRegistry(),
		routes:  newRouteTable(),
		stats:   newStatsTable(),
		conns:   make(map[*conn]struct{}),
		done:    make(chan struct{}),
	}
	if cfg.dur.dataDir != "" {
		if err := b.openDataDir(); err != nil {
			return nil, err
		}
	}
	if b.store == nil {
		b.store = b.newMemoryStore() // retention.go
	} else if r, ok := b.store.(store.Retainer); ok && cfg.store != nil {
		r.SetKeeper(b.retentionKeep)
	}
	if s, ok := b.store.(store.Syncer); ok && cfg.dur.flushDiskType == SyncFlush {
		b.syncer = s
	}
	if v := cfg.security.acl; v != nil {
		b.cfg.interceptors = append([]Interceptor{b.aclInterceptor(v)}, b.cfg.interceptors...)
	}
	b.holds = newPullHolds(b)
	b.initSemantics()
	b.initV5()
	b.nsHandlers = b.nameServerHandlers()
	b.brokerHandlers = b.brokerHandlerTable()
	for _, t := range b.builtinTopics() {
		b.topics.put(t)
	}
	if b.persist != nil {
		if err := b.loadDataDir(); err != nil {
			_ = b.store.Close()
			return nil, err
		}
	}
	return b, nil
}

// Run starts a broker whose name server and broker listen on free loopback
// ports (options may override that). The caller must Close it.
func Run(opts ...Option) (*Broker, error) {
	opts = append([]Option{WithNameServerAddr("127.0.0.1:0"), WithBrokerAddr("127.0.0.1:0")}, opts...)
	b, err := New(opts...)
	if err != nil {
		return nil, err
	}
	if err := b.Start(context.Background()); err != nil {
		_ = b.Close()
		return nil, err
	}
	return b, nil
}

// RunT is Run for tests: it fails t on error and closes the broker in
// t.Cleanup.
func RunT(t Tester, opts ...Option) *Broker {
	t.Helper()
	b, err := Run(opts...)
	if err != nil {
		t.Fatalf("start minirocketmq: %v", err)
		return nil
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Logf("close minirocketmq: %v", err)
		}
	})
	return b
}

// Start opens the name server and broker listeners and serves them in the
// background. ctx bounds the listen calls only; stop the broker with Close.
func (b *Broker) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return ErrClosed
	case b.started:
		return ErrStarted
	}
	if err := b.recoverSemantics(); err != nil {
		return err
	}
	b.keepReady.Store(true)
	var lc net.ListenConfig
	nsLn, err := lc.Listen(ctx, "tcp", b.cfg.nameServerAddr)
	if err != nil {
		return fmt.Errorf("minirocketmq: listen name server on %s: %w", b.cfg.nameServerAddr, err)
	}
	brLn, err := lc.Listen(ctx, "tcp", b.cfg.brokerAddr)
	if err != nil {
		_ = nsLn.Close()
		return fmt.Errorf("minirocketmq: listen broker on %s: %w", b.cfg.brokerAddr, err)
	}
	b.nsAddr = dialable(nsLn.Addr())
	b.brokerAddr = dialable(brLn.Addr())
	if err := b.setAdvertised(brLn.Addr()); err != nil {
		_ = nsLn.Close()
		_ = brLn.Close()
		return err
	}
	grpcLn, err := b.listenV5(ctx)
	if err != nil {
		_ = nsLn.Close()
		_ = brLn.Close()
		return err
	}
	httpLn, err := b.listenHTTP(ctx)
	if err != nil {
		_ = nsLn.Close()
		_ = brLn.Close()
		if grpcLn != nil {
			_ = grpcLn.Close()
		}
		return err
	}
	b.lns = []net.Listener{nsLn, brLn}
	b.started = true
	b.booted = time.Now()
	b.wg.Add(3)
	go b.acceptLoop(nsLn, ListenerNameServer)
	go b.acceptLoop(brLn, ListenerBroker)
	go b.expireLoop()
	b.startSemantics()
	b.startV5(grpcLn)
	b.startHTTP(httpLn)
	if b.persist != nil {
		b.wg.Add(1)
		go b.persistLoop()
	}
	b.log.Logf(LogLevelInfo, "name server listening on %s, broker on %s (advertised %s)", b.nsAddr, b.brokerAddr, b.advertised)
	return nil
}

// Close stops the listeners, closes every connection, waits for all of the
// broker's goroutines to end and closes the store. It is safe to call more
// than once.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	lns := b.lns
	conns := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()

	close(b.done)
	for _, ln := range lns {
		_ = ln.Close()
	}
	for _, c := range conns {
		_ = c.Close()
	}
	b.stopHTTP()
	b.stopV5()
	b.wg.Wait()
	b.holds.stopAll()
	b.stopSemantics()
	var perr error
	if b.persist != nil {
		if perr = b.persistTables(); perr != nil {
			perr = fmt.Errorf("minirocketmq: persist tables: %w", perr)
		}
	}
	if err := b.store.Close(); err != nil {
		return errors.Join(perr, fmt.Errorf("minirocketmq: close store: %w", err))
	}
	return perr
}

// Addr returns the name server address clients are configured with
// ("127.0.0.1:port"); the same as NameServerAddr. Empty before Start.
func (b *Broker) Addr() string { return b.NameServerAddr() }

// NameServerAddr returns the name server's bound address (a loopback host
// when listening on all interfaces). Empty before Start.
func (b *Broker) NameServerAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nsAddr
}

// BrokerAddr returns the broker's bound address (a loopback host when
// listening on all interfaces). Routes carry AdvertisedAddr instead.
func (b *Broker) BrokerAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.brokerAddr
}

// AdvertisedAddr returns the broker address routes and message ids carry.
func (b *Broker) AdvertisedAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.advertised
}

// dialable turns a bound address into one a local client can dial.
func dialable(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

func (b *Broker) setAdvertised(bound net.Addr) error {
	adv := b.cfg.advertisedAddr
	ta, _ := bound.(*net.TCPAddr)
	if adv == "" && ta != nil {
		ip := ta.IP
		if ip == nil || ip.IsUnspecified() {
			ip = firstNonLoopbackIPv4()
		}
		adv = net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
	}
	host, portStr, err := net.SplitHostPort(adv)
	if err != nil {
		return fmt.Errorf("minirocketmq: advertised address %q: %w", adv, err)
	}
	var port uint16
	if _, err := fmt.Sscan(portStr, &port); err != nil {
		return fmt.Errorf("minirocketmq: advertised address %q: bad port", adv)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(context.Background(), "ip4", host)
		if lerr != nil || len(ips) == 0 {
			return fmt.Errorf("minirocketmq: resolve advertised host %q: %w", host, lerr)
		}
		ip = ips[0]
	}
	b.advertised = adv
	b.storeHost = netip.AddrPortFrom(ip.Unmap(), port)
	return nil
}

func firstNonLoopbackIPv4() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if in, ok := a.(*net.IPNet); ok && !in.IP.IsLoopback() && in.IP.To4() != nil {
				return in.IP.To4()
			}
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

// Listener says which of the two listeners a request arrived on.
type Listener int

// The two listeners.
const (
	ListenerNameServer Listener = iota + 1
	ListenerBroker
)

// String returns "nameserver" or "broker".
func (l Listener) String() string {
	if l == ListenerNameServer {
		return "nameserver"
	}
	return "broker"
}

// conn is a client connection to one of the listeners.
type conn struct {
	*remoting.Conn
	listener Listener
	remote   netip.AddrPort
}

func (b *Broker) acceptLoop(ln net.Listener, l Listener) {
	defer b.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-b.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			b.log.Logf(LogLevelWarn, "%s accept: %v; retrying in %v", l, err, backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-b.done:
				return
			}
		}
		backoff = 0
		b.wg.Add(1)
		go b.serveConn(nc, l)
	}
}

func (b *Broker) serveConn(nc net.Conn, l Listener) {
	defer b.wg.Done()
	c := &conn{listener: l}
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.remote = ta.AddrPort()
		c.remote = netip.AddrPortFrom(c.remote.Addr().Unmap(), c.remote.Port())
	}
	wrapped := b.serverConn(nc)
	c.Conn = remoting.NewConn(wrapped, remoting.Config{
		MaxFrameSize: b.cfg.maxFrameSize,
		IdleTimeout:  b.cfg.limits.idleTimeout,
		OnRequest: func(_ *remoting.Conn, cmd *remoting.Command) error {
			return b.dispatch(c, cmd)
		},
	})
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = nc.Close()
		return
	}
	if len(b.conns) >= b.cfg.limits.maxConns {
		b.mu.Unlock()
		_ = nc.Close()
		b.refusedConns.Add(1)
		if now := time.Now().UnixNano(); now-b.refusedLogged.Load() >= int64(time.Second) {
			b.refusedLogged.Store(now)
			b.log.Logf(LogLevelWarn, "%s: connection from %s refused: %d connections open (WithMaxConnections); %d refused so far", l, nc.RemoteAddr(), b.cfg.limits.maxConns, b.refusedConns.Load())
		}
		return
	}
	b.conns[c] = struct{}{}
	b.mu.Unlock()

	if err := b.handshake(wrapped); err != nil {
		b.log.Logf(LogLevelInfo, "%s: TLS handshake with %s: %v", l, nc.RemoteAddr(), err)
		_ = c.Close()
	}

	b.log.Logf(LogLevelDebug, "%s: connection from %s", l, nc.RemoteAddr())
	err := c.Serve()
	if remoting.IsClosedErr(err) {
		b.log.Logf(LogLevelDebug, "%s: connection from %s closed", l, nc.RemoteAddr())
	} else {
		b.log.Logf(LogLevelWarn, "%s: closing connection from %s: %v", l, nc.RemoteAddr(), err)
	}

	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	b.holds.dropConn(c)
	b.clientGone(c)
}

// expireLoop drops client connections that stopped heartbeating
// (ClientHousekeepingService: every 10 s, channels silent for 120 s), and
// registers the broker's topics with the name server every 30 s
// (routes.go).
func (b *Broker) expireLoop() {
	defer b.wg.Done()
	every := min(10*time.Second, b.cfg.channelExpiry/2)
	t := time.NewTicker(every)
	defer t.Stop()
	lastRegister := time.Now()
	for {
		select {
		case <-b.done:
			return
		case now := <-t.C:
			if now.Sub(lastRegister) >= nameServerRegisterPeriod {
				lastRegister = now
				b.routes.registerAll()
			}
			b.retainMemory()
			b.stats.prune(now)
			for _, c := range b.clients.expired(now, b.cfg.channelExpiry) {
				b.log.Logf(LogLevelInfo, "client connection %s silent for %v, closing it", c.RemoteAddr(), b.cfg.channelExpiry)
				_ = c.Close()
			}
		}
	}
}
