package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/broker/rocketmq/internal/mqhttp"
)

var (
	_ broker.Broker  = (*AliyunBroker)(nil)
	_ broker.Drainer = (*AliyunBroker)(nil)
)

// DefaultHTTPEndpoint is what DriverTypeAliyun dials when WithNameServer names no
// endpoint: the embedded broker's HTTP endpoint (cmd/minirocketmq -http).
const DefaultHTTPEndpoint = "http://127.0.0.1:8082"

// ErrAliyunUnsupported is wrapped by the errors of options and calls Aliyun's MQ HTTP
// API has no counterpart for; each such error names the option.
var ErrAliyunUnsupported = errors.New("not available on Aliyun's MQ HTTP API (driver aliyun); the v2 driver (TCP/remoting) has it")

// AliyunBroker is the driver DriverTypeAliyun: Aliyun's MQ HTTP API (Message Queue for
// Apache RocketMQ 4.x instances; the embedded broker's WithHTTPAddr endpoint) on the
// HTTP client of internal/mqhttp. Create it with NewAliyun or NewBroker; it is safe
// for concurrent use after Connect.
//
// Options: WithNameServer names the HTTP endpoint ("http://<id>.mqrest.<region>.
// aliyuncs.com", one), WithNamespace the instance id, WithCredentials the access key
// pair (and STS token), WithGroupName the group id of the transactional producer and
// of subscriptions that name none; WithRetryCount retries a publish that failed on the
// network or with a server error, WithSendTimeout bounds each publish, ack, commit and
// rollback (default 5 s); WithTransactionChecker answers check-backs of the topics of
// WithTransactionTopics and of every topic it publishes transactions to. WithTLSConfig
// needs an https endpoint (certificates are verified). WithNameServerDomain,
// WithInstanceName and WithEnableTrace make Init fail (ErrAliyunUnsupported).
//
// Publishing maps tags, keys (KEYS), properties, sharding keys (__SHARDINGKEY), delay
// levels and broker.WithDeliveryTime (__STARTDELIVERTIME) onto the API; bodies XML
// cannot carry go base64 (see PropBodyEncoding in mqhttp). Each subscription is a
// long-polling consumer (30 s polls, up to 16 messages, as many in flight as its
// concurrency) on top of consume/ack: see aliyun_consumer.go for what happens to a
// message.
type AliyunBroker struct {
	mu     sync.Mutex // guards everything below up to "immutable after Init"
	opts   broker.Options
	inited bool
	ses    *aliyunSession // nil while disconnected
	subs   map[aliyunKey]*aliyunSub

	// immutable after Init
	set       settings
	cfg       mqhttp.Config
	log       *log.Helper
	tracing   *tracing
	metrics   *metrics
	metricsOn bool
}

// aliyunKey names a subscription: its consumer group and topic.
type aliyunKey struct{ group, topic string }

// aliyunSession is one Connect..Disconnect span.
type aliyunSession struct {
	client *mqhttp.Client
	flight *inflight
	// poll ends the consumers' polls (Drain, Disconnect); hard ends everything else the
	// session runs (handler contexts, acks, half-message checks: a forced stop,
	// Disconnect).
	poll, hard         context.Context
	stopPoll, stopHard context.CancelFunc
	async              chan struct{} // slots of asynchronous publishes
	// tasks are the pollers, checkers, acks and async publishes (not handlers).
	tasks tasks

	mu       sync.Mutex      // guards checkers
	checkers map[string]bool // topics whose half messages are checked
}

// maxAsyncPublishes bounds the asynchronous publishes in flight; more wait for a slot.
const maxAsyncPublishes = 256

// NewAliyun returns an unconnected Aliyun HTTP driver with opts applied; Init validates them.
func NewAliyun(opts ...broker.Option) *AliyunBroker {
	return &AliyunBroker{opts: broker.NewOptions(opts...), subs: make(map[aliyunKey]*aliyunSub)}
}

// Name names the driver.
func (b *AliyunBroker) Name() string { return "aliyun-mq-http" }

// Options returns the current options.
func (b *AliyunBroker) Options() broker.Options {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opts
}

// Address returns the HTTP endpoint.
func (b *AliyunBroker) Address() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.opts.Addrs) > 0 {
		return b.opts.Addrs[0]
	}
	return DefaultHTTPEndpoint
}

// Init applies opts and validates the configuration; options cannot change while connected.
func (b *AliyunBroker) Init(opts ...broker.Option) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ses != nil && len(opts) > 0 {
		return errors.New("rocketmq aliyun: Init with options while connected")
	}
	b.opts.Apply(opts...)
	return b.initLocked()
}

func (b *AliyunBroker) initLocked() error {
	o := &b.opts
	if err := o.Validate(); err != nil {
		return err
	}
	if s, ok := o.Driver.(*settings); ok {
		b.set = *s
	} else {
		b.set = settings{}
	}
	unsupported := func(option, why string) error {
		return fmt.Errorf("rocketmq aliyun: %s: %w (%s)", option, ErrAliyunUnsupported, why)
	}
	switch {
	case b.set.nameServerDomain != "":
		return unsupported("WithNameServerDomain", "WithNameServer names the instance's HTTP endpoint")
	case b.set.instanceName != "":
		return unsupported("WithInstanceName", "HTTP clients have no client instance")
	case b.set.enableTrace:
		return unsupported("WithEnableTrace", "RocketMQ's message trace is not part of the HTTP API; use OpenTelemetry tracing")
	case len(o.Addrs) > 1:
		return fmt.Errorf("rocketmq aliyun: WithNameServer: one HTTP endpoint, got %d (%q)", len(o.Addrs), o.Addrs)
	case b.set.txChecker != nil && b.set.groupName == "":
		return errors.New("rocketmq aliyun: WithTransactionChecker needs WithGroupName: check-backs are consumed as the transactional producer's group id")
	}
	endpoint := DefaultHTTPEndpoint
	if len(o.Addrs) == 1 {
		endpoint = strings.TrimSpace(o.Addrs[0])
		if !strings.Contains(endpoint, "://") {
			endpoint = "http://" + endpoint
		}
	}
	cfg := mqhttp.Config{
		Endpoint:  endpoint,
		AccessKey: b.set.accessKey, SecretKey: b.set.secretKey, SecurityToken: b.set.securityToken,
		InstanceID: b.set.namespace,
	}
	if o.Secure {
		if !strings.HasPrefix(endpoint, "https://") {
			return fmt.Errorf("rocketmq aliyun: TLS asked for (WithTLSConfig/WithEnableSecure) but the endpoint %q is not https", endpoint)
		}
		cfg.TLS = o.TLSConfig
	}
	// Checked here so that Init reports a bad endpoint or credentials.
	if _, err := mqhttp.New(cfg); err != nil {
		return fmt.Errorf("rocketmq aliyun: %w", err)
	}
	b.cfg = cfg
	logger := o.Logger
	if logger == nil {
		logger = log.GetLogger()
	}
	b.log = log.NewHelper(log.With(logger, "module", "broker/rocketmq/aliyun"))
	b.tracing = newTracing(o)
	m, on, err := newMetrics(o)
	if err != nil {
		return fmt.Errorf("rocketmq aliyun: create metric instruments: %w", err)
	}
	b.metrics, b.metricsOn = m, on
	b.inited = true
	return nil
}

// Connect makes the HTTP client and, with a TransactionChecker, starts checking the
// half messages of WithTransactionTopics.
func (b *AliyunBroker) Connect() error {
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
	client, err := mqhttp.New(b.cfg)
	if err != nil {
		return fmt.Errorf("rocketmq aliyun: %w", err)
	}
	ses := &aliyunSession{client: client, flight: newInflight(), async: make(chan struct{}, maxAsyncPublishes),
		checkers: make(map[string]bool)}
	ses.poll, ses.stopPoll = context.WithCancel(context.Background())
	ses.hard, ses.stopHard = context.WithCancel(context.Background())
	b.ses = ses
	if b.set.txChecker != nil {
		for _, topic := range b.set.txTopics {
			b.startChecker(ses, topic)
		}
	}
	return nil
}

// session returns the connected session, nil when disconnected.
func (b *AliyunBroker) session() *aliyunSession {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ses
}

// Drain stops polling, lets deliveries that have not started go (unacknowledged: the
// service delivers them again after their invisible time), and waits for running
// handlers until ctx is done; then it cancels their contexts and returns ctx.Err().
// Disconnect afterwards.
func (b *AliyunBroker) Drain(ctx context.Context) error {
	ses := b.session()
	if ses == nil {
		return nil
	}
	ses.stopPoll()
	if err := ses.flight.drain(ctx); err != nil {
		b.log.Warnw("msg", "handlers still running at the drain deadline; cancelling them",
			"running", ses.flight.running(), "error", err)
		ses.stopHard()
		return err
	}
	return nil
}

// Disconnect stops every poll, half-message check and asynchronous publish and waits
// for them. Handlers still running keep running, but their messages are not
// acknowledged (the service delivers them again).
func (b *AliyunBroker) Disconnect() error {
	b.mu.Lock()
	ses := b.ses
	b.ses = nil
	subs := b.subs
	b.subs = make(map[aliyunKey]*aliyunSub)
	b.mu.Unlock()
	if ses == nil {
		return nil
	}
	ses.tasks.close()
	ses.stopPoll()
	ses.stopHard()
	for _, s := range subs {
		s.stop()
	}
	ses.tasks.wait()
	ses.client.CloseIdleConnections()
	return nil
}

// Request is not part of the HTTP API.
func (b *AliyunBroker) Request(context.Context, string, broker.Any, ...broker.RequestOption) (broker.Any, error) {
	return nil, fmt.Errorf("rocketmq aliyun: Request (request-reply): %w", ErrAliyunUnsupported)
}
