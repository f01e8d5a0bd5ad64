package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

var (
	_ broker.Broker  = (*Broker)(nil)
	_ broker.Drainer = (*Broker)(nil)
)

// ErrNotConnected is returned by Publish, Subscribe and Request before Connect.
var ErrNotConnected = errors.New("rocketmq: broker not connected")

// instanceSeq makes default instance names unique within the process.
var instanceSeq atomic.Uint64

// Broker is the rocketmq-client-go/v2 driver. Create it with New or NewBroker; it is
// safe for concurrent use after Connect.
type Broker struct {
	mu       sync.Mutex // guards everything below up to "immutable after Init"
	opts     broker.Options
	inited   bool
	ses      *session // nil while disconnected
	groups   map[string]*groupConsumer
	producer atomic.Pointer[producerHandle]
	tx       *txProducer

	// immutable after Init
	set       settings
	log       *log.Helper
	logger    log.Logger
	tracing   *tracing
	metrics   *metrics
	metricsOn bool
	resolver  func() primitive.NsResolver
	addrs     []string // the name servers given (none with a domain)
	instance  string
	useTLS    bool // dial TLS (tls.go)
}

// session is one Connect..Disconnect span: consumers park deliveries on release while
// draining, and handler contexts are cancelled by cancel on a forced stop.
type session struct {
	flight  *inflight
	release chan struct{}
	hard    context.Context
	cancel  context.CancelFunc
	sink    *logSink
}

type producerHandle struct{ p rocketmq.Producer }

// New returns an unconnected driver with opts applied; Init validates them.
func New(opts ...broker.Option) *Broker {
	return &Broker{opts: broker.NewOptions(opts...), groups: make(map[string]*groupConsumer)}
}

// Name names the driver.
func (b *Broker) Name() string { return "rocketmq-client-go/v2" }

// Options returns the current options.
func (b *Broker) Options() broker.Options {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opts
}

// Address returns the first name server (or the name server domain).
func (b *Broker) Address() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.opts.Addrs) > 0 {
		return b.opts.Addrs[0]
	}
	if s, ok := b.opts.Driver.(*settings); ok && s.nameServerDomain != "" {
		return s.nameServerDomain
	}
	return DefaultNameServer
}

// Init applies opts and validates the configuration; options cannot change while connected.
func (b *Broker) Init(opts ...broker.Option) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ses != nil && len(opts) > 0 {
		return errors.New("rocketmq: Init with options while connected")
	}
	b.opts.Apply(opts...)
	return b.initLocked()
}

func (b *Broker) initLocked() error {
	o := &b.opts
	if err := o.Validate(); err != nil {
		return err
	}
	useTLS, err := checkTLS(o.Secure, o.TLSConfig)
	if err != nil {
		return err
	}
	b.useTLS = useTLS
	if s, ok := o.Driver.(*settings); ok {
		b.set = *s
	} else {
		b.set = settings{}
	}
	b.logger = o.Logger
	if b.logger == nil {
		b.logger = log.GetLogger()
	}
	b.log = log.NewHelper(log.With(b.logger, "module", "broker/rocketmq"))
	b.tracing = newTracing(o)
	m, on, err := newMetrics(o)
	if err != nil {
		return fmt.Errorf("rocketmq: create metric instruments: %w", err)
	}
	b.metrics, b.metricsOn = m, on

	addrs := append([]string(nil), o.Addrs...)
	domain := b.set.nameServerDomain
	switch {
	case len(addrs) > 0 && domain != "":
		return fmt.Errorf("rocketmq: name servers %q and a name server domain (%s) exclude each other", addrs, domain)
	case len(addrs) > 0:
		for _, a := range addrs {
			if strings.TrimSpace(a) == "" {
				return fmt.Errorf("rocketmq: empty name server address in %q", addrs)
			}
		}
		b.resolver = func() primitive.NsResolver { return newHostResolver(primitive.NewPassthroughResolver(addrs)) }
	case domain != "":
		b.resolver = func() primitive.NsResolver { return newHostResolver(primitive.NewHttpResolver("DEFAULT", domain)) }
	default:
		addrs = []string{DefaultNameServer}
		b.resolver = func() primitive.NsResolver { return primitive.NewPassthroughResolver([]string{DefaultNameServer}) }
	}
	b.addrs = addrs
	b.instance = b.set.instanceName
	if b.instance == "" {
		b.instance = fmt.Sprintf("kratos-%d-%d", os.Getpid(), instanceSeq.Add(1))
	}
	b.inited = true
	return nil
}

func (b *Broker) credentials() primitive.Credentials {
	return primitive.Credentials{AccessKey: b.set.accessKey, SecretKey: b.set.secretKey, SecurityToken: b.set.securityToken}
}

// Connect starts the producer (and the transactional producer when a checker is set).
func (b *Broker) Connect() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ses != nil {
		return nil
	}
	if !b.inited {
		if err := b.initLocked(); err != nil {
			return err
		}
	}
	if err := checkHosts(b.addrs); err != nil {
		return err
	}
	if err := clientTLS.claim(b.useTLS); err != nil {
		return err
	}
	routeClientLogs()
	sink := &logSink{logger: b.logger, level: b.opts.ClientLogLevel}
	clientLogs.push(sink)

	p, err := b.newProducer()
	if err != nil {
		clientLogs.remove(sink)
		return err
	}
	hard, cancel := context.WithCancel(context.Background())
	b.ses = &session{flight: newInflight(), release: make(chan struct{}), hard: hard, cancel: cancel, sink: sink}
	b.producer.Store(&producerHandle{p})
	if b.set.txChecker != nil {
		if _, err := b.txProducerLocked(); err != nil {
			b.disconnectLocked()
			return err
		}
	}
	return nil
}

// Drain pauses fetching, makes deliveries that have not started wait, and waits for
// running handlers until ctx is done; then it cancels their contexts and returns
// ctx.Err(). Disconnect afterwards.
func (b *Broker) Drain(ctx context.Context) error {
	b.mu.Lock()
	ses := b.ses
	groups := make([]*groupConsumer, 0, len(b.groups))
	for _, g := range b.groups {
		groups = append(groups, g)
	}
	b.mu.Unlock()
	if ses == nil {
		return nil
	}
	for _, g := range groups {
		g.pc.Suspend()
	}
	if err := ses.flight.drain(ctx); err != nil {
		b.log.Warnw("msg", "handlers still running at the drain deadline; cancelling them",
			"running", ses.flight.running(), "error", err)
		ses.cancel()
		return err
	}
	return nil
}

// Disconnect shuts down every consumer, then the producers. Handlers still running
// keep running but their messages are not acknowledged (they come again).
func (b *Broker) Disconnect() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.disconnectLocked()
}

func (b *Broker) disconnectLocked() error {
	ses := b.ses
	if ses == nil {
		return nil
	}
	var errs []error
	gs := make([]*groupConsumer, 0, len(b.groups))
	for _, g := range b.groups {
		gs = append(gs, g)
	}
	settle(gs...)
	for name, g := range b.groups {
		if err := g.shutdown(); err != nil {
			errs = append(errs, fmt.Errorf("shut down consumer group %s: %w", name, err))
		}
		delete(b.groups, name)
	}
	close(ses.release)
	ses.cancel()
	if ph := b.producer.Swap(nil); ph != nil {
		if err := ph.p.Shutdown(); err != nil {
			errs = append(errs, fmt.Errorf("shut down producer: %w", err))
		}
	}
	if b.tx != nil {
		if err := b.tx.p.Shutdown(); err != nil {
			errs = append(errs, fmt.Errorf("shut down transactional producer: %w", err))
		}
		b.tx = nil
	}
	clientLogs.remove(ses.sink)
	b.ses = nil
	return errors.Join(errs...)
}

// userTopic strips the namespace prefix the client adds to consumed topics.
func (b *Broker) userTopic(topic string) string {
	if ns := b.set.namespace; ns != "" {
		return strings.TrimPrefix(topic, ns+"%")
	}
	return topic
}
