package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

var (
	_ broker.Broker  = (*V5Broker)(nil)
	_ broker.Drainer = (*V5Broker)(nil)
)

// V5Broker is the RocketMQ 5 driver (DriverTypeV5): our own client of the 5.x proxy's
// gRPC API (package protocol/v2), with the semantics of the v2 driver. WithNameServer
// gives it the proxies' gRPC endpoints ("host:8081"), not name servers. Create it with
// NewV5 or NewBroker(DriverTypeV5, ...); it is safe for concurrent use after Connect.
// The package doc's "RocketMQ 5" section says what it maps onto the protocol and what
// it refuses.
type V5Broker struct {
	mu     sync.Mutex // guards opts, inited, ses's groups; held for Connect/Disconnect
	opts   broker.Options
	inited bool
	ses    atomic.Pointer[v5Session] // nil while disconnected

	// immutable after Init
	set       settings
	log       *log.Helper
	tracing   *tracing
	metrics   *metrics
	metricsOn bool
	addrs     []string
	useTLS    bool
	instance  string
	timeout   time.Duration
}

// v5Session is one Connect..Disconnect span.
type v5Session struct {
	conn     *v5Conn
	producer *v5Producer
	groups   map[string]*v5Group // by group name; guarded by V5Broker.mu
	flight   *inflight
	hard     context.Context // cancelled on a forced stop: handler contexts end
	cancel   context.CancelFunc
	done     chan struct{} // closed by Disconnect: background loops end
	bg       sync.WaitGroup
	ids      *messageIDs
}

// NewV5 returns an unconnected v5 driver with opts applied; Init validates them.
func NewV5(opts ...broker.Option) *V5Broker {
	return &V5Broker{opts: broker.NewOptions(opts...)}
}

// Name names the driver.
func (b *V5Broker) Name() string { return "rocketmq-v5-grpc" }

// Options returns the current options.
func (b *V5Broker) Options() broker.Options {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opts
}

// Address returns the first proxy endpoint.
func (b *V5Broker) Address() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.opts.Addrs) > 0 {
		return b.opts.Addrs[0]
	}
	return DefaultProxyEndpoint
}

// Init applies opts and validates the configuration; options cannot change while
// connected. Options the RocketMQ 5 protocol has no counterpart for are refused here
// with an error naming them.
func (b *V5Broker) Init(opts ...broker.Option) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ses.Load() != nil && len(opts) > 0 {
		return errors.New("rocketmq v5: Init with options while connected")
	}
	b.opts.Apply(opts...)
	return b.initLocked()
}

func (b *V5Broker) initLocked() error {
	o := &b.opts
	if err := o.Validate(); err != nil {
		return err
	}
	if s, ok := o.Driver.(*settings); ok {
		b.set = *s
	} else {
		b.set = settings{}
	}
	switch {
	case b.set.nameServerDomain != "":
		return fmt.Errorf("rocketmq v5: WithNameServerDomain is a name-server lookup of the remoting protocol; give the proxies' gRPC endpoints with WithNameServer")
	case b.set.enableTrace:
		return fmt.Errorf("rocketmq v5: WithEnableTrace (RocketMQ's message trace topic) is not part of the gRPC API; trace with OpenTelemetry (WithTracerProvider)")
	}
	logger := o.Logger
	if logger == nil {
		logger = log.GetLogger()
	}
	b.log = log.NewHelper(log.With(logger, "module", "broker/rocketmq/v5"))
	b.tracing = newTracing(o)
	m, on, err := newMetrics(o)
	if err != nil {
		return fmt.Errorf("rocketmq v5: create metric instruments: %w", err)
	}
	b.metrics, b.metricsOn = m, on
	b.addrs = append([]string(nil), o.Addrs...)
	if len(b.addrs) == 0 {
		b.addrs = []string{DefaultProxyEndpoint}
	}
	for _, a := range b.addrs {
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("rocketmq v5: empty proxy endpoint in %q", b.addrs)
		}
	}
	if _, err := v5Endpoints(b.addrs); err != nil {
		return err
	}
	b.useTLS = o.Secure || o.TLSConfig != nil
	b.instance = b.set.instanceName
	if b.instance == "" {
		b.instance = fmt.Sprintf("kratos-%d-%d", os.Getpid(), instanceSeq.Add(1))
	}
	b.timeout = v5DefaultRequestTimeout
	if b.set.sendTimeout > 0 {
		b.timeout = b.set.sendTimeout
	}
	b.inited = true
	return nil
}

// Connect dials the proxies and starts the producer: its Telemetry stream must carry
// the server's answer to its settings within the request timeout (as the SDKs' start
// waits for it), so a wrong endpoint, credentials the server refuses or a server that
// is not a RocketMQ 5 proxy fail here.
func (b *V5Broker) Connect() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ses.Load() != nil {
		return nil
	}
	if !b.inited {
		if err := b.initLocked(); err != nil {
			return err
		}
	}
	signer := v5Signer{accessKey: b.set.accessKey, secretKey: b.set.secretKey, securityToken: b.set.securityToken}
	conn, err := dialV5(b.addrs, b.opts.TLSConfig, b.useTLS, b.set.namespace, signer, b.timeout)
	if err != nil {
		return err
	}
	hard, cancel := context.WithCancel(context.Background())
	ses := &v5Session{conn: conn, groups: make(map[string]*v5Group), flight: newInflight(),
		hard: hard, cancel: cancel, done: make(chan struct{}), ids: newMessageIDs()}
	p, err := b.startProducer(ses)
	if err != nil {
		cancel()
		_ = conn.close()
		return err
	}
	ses.producer = p
	ses.bg.Add(1)
	go b.background(ses)
	b.ses.Store(ses)
	return nil
}

// background heartbeats every client of the session and refreshes the producer's
// routes until Disconnect.
func (b *V5Broker) background(ses *v5Session) {
	defer ses.bg.Done()
	beat := time.NewTicker(v5Heartbeat)
	defer beat.Stop()
	routes := time.NewTicker(v5RouteRefresh)
	defer routes.Stop()
	for {
		select {
		case <-ses.done:
			return
		case <-beat.C:
			clients := []*v5Client{ses.producer.client}
			b.mu.Lock()
			for _, g := range ses.groups {
				clients = append(clients, g.client)
			}
			b.mu.Unlock()
			for _, c := range clients {
				if err := c.heartbeat(context.Background()); err != nil {
					b.log.Warnw("msg", "heartbeat failed", "client", c.id, "error", err)
				}
			}
		case <-routes.C:
			ses.producer.refreshRoutes(context.Background())
		}
	}
}

// Drain stops receiving, gives back messages received but not started, and waits for
// running handlers until ctx is done; then it cancels their contexts and returns
// ctx.Err(). Their messages are not acknowledged, so they come again. Disconnect
// afterwards.
func (b *V5Broker) Drain(ctx context.Context) error {
	ses := b.ses.Load()
	if ses == nil {
		return nil
	}
	b.mu.Lock()
	groups := make([]*v5Group, 0, len(ses.groups))
	for _, g := range ses.groups {
		groups = append(groups, g)
	}
	b.mu.Unlock()
	for _, g := range groups {
		g.stopReceiving()
	}
	if err := ses.flight.drain(ctx); err != nil {
		b.log.Warnw("msg", "handlers still running at the drain deadline; cancelling them",
			"running", ses.flight.running(), "error", err)
		ses.cancel()
		return err
	}
	return nil
}

// Disconnect stops every consumer group (receivers end; each group's client says
// goodbye, so the server hands the messages it kept for it to others at once), waits
// for asynchronous sends, and closes the producer and the connection. Handlers still
// running keep running but cannot acknowledge their messages: they come again.
func (b *V5Broker) Disconnect() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	ses := b.ses.Swap(nil)
	if ses == nil {
		return nil
	}
	var errs []error
	for name, g := range ses.groups {
		if err := g.shutdown(); err != nil {
			errs = append(errs, fmt.Errorf("shut down consumer group %s: %w", name, err))
		}
		delete(ses.groups, name)
	}
	close(ses.done)
	ses.cancel()                      // handler and checker contexts
	ses.bg.Wait()                     // the background loop
	ses.producer.tasks.closeAndWait() // async and oneway sends, transaction checks
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	if err := ses.producer.client.close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close producer: %w", err))
	}
	cancel()
	if err := ses.conn.close(); err != nil {
		errs = append(errs, fmt.Errorf("close connection: %w", err))
	}
	return errors.Join(errs...)
}

// session returns the connected session or ErrNotConnected.
func (b *V5Broker) session() (*v5Session, error) {
	ses := b.ses.Load()
	if ses == nil {
		return nil, ErrNotConnected
	}
	return ses, nil
}

// Request is not available: RocketMQ 5's gRPC API has no request-reply.
func (b *V5Broker) Request(context.Context, string, broker.Any, ...broker.RequestOption) (broker.Any, error) {
	return nil, fmt.Errorf("rocketmq v5: Request: %w", ErrV5Unsupported)
}

// ErrV5Unsupported is wrapped by the errors of features the RocketMQ 5 gRPC API does not
// have (request-reply, broadcast consumption, ...): use DriverTypeV2 for them.
var ErrV5Unsupported = errors.New("not available on RocketMQ 5's gRPC API (driver v5); the v2 driver (remoting protocol) has it")
