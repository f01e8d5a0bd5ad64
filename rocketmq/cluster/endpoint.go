package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

// Endpoint is where a service's clients connect: its producer's and its consumer's
// resolved settings, and the embedded broker when one runs in the process.
type Endpoint struct {
	// Producer and Consumer are the two sides of the service.
	Producer, Consumer *Client
	// Embedded is the in-process broker; nil when the settings name a cluster.
	Embedded *minirocketmq.Broker
}

// Option configures Open.
type Option func(*openOptions)

type openOptions struct {
	logger log.Logger
	meter  metric.MeterProvider
	tracer trace.TracerProvider
	hints  Hints
	topics []string
}

// WithLogger sets the logger of the clients and of the embedded broker (default: Kratos'
// global logger).
func WithLogger(l log.Logger) Option { return func(o *openOptions) { o.logger = l } }

// WithTelemetry gives the clients a meter provider (message metrics, consumer lag) and a
// tracer provider (spans, when Settings.Trace.Enabled). Either may be nil.
func WithTelemetry(mp metric.MeterProvider, tp trace.TracerProvider) Option {
	return func(o *openOptions) { o.meter, o.tracer = mp, tp }
}

// EnsureTopicsTimeout bounds the creation of the topics of WithTopics in Open.
const EnsureTopicsTimeout = 30 * time.Second

// WithTopics makes Open create the topics (names as the clients use them) that have no
// route yet, once, before any client needs them (see Client.EnsureTopics), within
// EnsureTopicsTimeout; Open fails when it cannot.
func WithTopics(topics ...string) Option {
	return func(o *openOptions) { o.topics = append(o.topics, topics...) }
}

// Open resolves the settings of a service's producer and consumer, each taking the
// connection settings it leaves unset from the other (Settings.Inherit), and, when
// either selects the embedded broker, starts it (with the first side's Embedded
// settings that are set; with its HTTP endpoint too when a side of driver "aliyun" uses
// it, its gRPC endpoint when a side of driver "v5" does) and points that side at it.
// Settings that cannot work (see Settings.Validate; driver "v5" on a cluster without
// an endpoint) are an error naming each. When the embedded broker cannot listen
// because its address is taken, the error (an *AddrInUseError) says whether a RocketMQ
// name server answers there and how to use it or move the embedded one (see
// WithHints). Close stops the broker.
func Open(ctx context.Context, producer, consumer Settings, opts ...Option) (*Endpoint, error) {
	o := openOptions{logger: log.GetLogger(), hints: defaultHints}
	for _, opt := range opts {
		opt(&o)
	}
	if err := errors.Join(joinFields("producer", producer.Validate()), joinFields("consumer", consumer.Validate())); err != nil {
		return nil, err
	}
	p, c := producer.Inherit(consumer), consumer.Inherit(producer)
	if err := checkResolved(p, c); err != nil {
		return nil, err
	}
	sides := []*Settings{&p, &c}
	for _, s := range sides {
		if s.NameServerDomain != "" {
			s.NameServers = nil // "embedded", the default, gives way to the domain
		}
		if s.aliyunRemote() && IsEmbedded(s.NameServers) {
			s.NameServers = nil // an Aliyun instance: no name server for the admin calls
		}
	}
	ep := &Endpoint{}
	if p.UsesEmbedded() || c.UsesEmbedded() {
		emb := p.Embedded
		if emb == nil {
			emb = c.Embedded
		}
		withHTTP, withGRPC := false, false
		for _, s := range sides {
			withHTTP = withHTTP || (s.UsesEmbedded() && s.Driver == DriverAliyun)
			withGRPC = withGRPC || (s.UsesEmbedded() && s.Driver == DriverV5 && s.Endpoint == "")
		}
		b, err := startEmbedded(ctx, emb, withHTTP, withGRPC, o.logger, o.hints)
		if err != nil {
			return nil, err
		}
		ep.Embedded = b
		for _, s := range sides {
			if s.UsesEmbedded() {
				switch {
				case s.Driver == DriverAliyun:
					s.Endpoint = "http://" + b.HTTPAddr()
				case s.Driver == DriverV5 && s.Endpoint == "":
					s.Endpoint = b.GRPCAddr()
				}
				s.NameServers = []string{b.Addr()}
			}
		}
	}
	ep.Producer = &Client{Settings: p, logger: o.logger, meter: o.meter, tracer: o.tracer, hints: o.hints}
	ep.Consumer = &Client{Settings: c, logger: o.logger, meter: o.meter, tracer: o.tracer, hints: o.hints}
	if len(o.topics) > 0 {
		tctx, cancel := context.WithTimeout(ctx, EnsureTopicsTimeout)
		defer cancel()
		if err := ep.Producer.EnsureTopics(tctx, o.topics...); err != nil {
			return nil, errors.Join(err, ep.Close())
		}
	}
	return ep, nil
}

// Close stops the embedded broker, if one was started.
func (e *Endpoint) Close() error {
	if e.Embedded == nil {
		return nil
	}
	if err := e.Embedded.Close(); err != nil {
		return fmt.Errorf("close embedded RocketMQ broker: %w", err)
	}
	return nil
}

func startEmbedded(ctx context.Context, e *Embedded, withHTTP, withGRPC bool, logger log.Logger, hints Hints) (*minirocketmq.Broker, error) {
	if e == nil {
		e = &Embedded{}
	}
	nsAddr, brokerAddr := e.NameServerAddr, e.BrokerAddr
	if nsAddr == "" {
		nsAddr = DefaultEmbeddedNameServerAddr
	}
	if brokerAddr == "" {
		brokerAddr = DefaultEmbeddedBrokerAddr
	}
	h := log.NewHelper(log.With(logger, "module", "cluster/embedded"))
	opts := []minirocketmq.Option{
		minirocketmq.WithNameServerAddr(nsAddr),
		minirocketmq.WithBrokerAddr(brokerAddr),
		minirocketmq.WithLogger(brokerLogger{h: h}),
	}
	if e.TransactionCheckInterval > 0 {
		opts = append(opts, minirocketmq.WithTransactionCheckInterval(e.TransactionCheckInterval))
	}
	if e.DataDir != "" {
		opts = append(opts, minirocketmq.WithDataDir(e.DataDir))
	}
	if withHTTP {
		addr := e.HTTPAddr
		if addr == "" {
			addr = DefaultEmbeddedHTTPAddr
		}
		opts = append(opts, minirocketmq.WithHTTPAddr(addr))
	}
	if withGRPC {
		addr := e.GRPCAddr
		if addr == "" {
			addr = DefaultEmbeddedGRPCAddr
		}
		opts = append(opts, minirocketmq.WithGRPCAddr(addr))
	}
	b, err := minirocketmq.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded RocketMQ broker: %w", err)
	}
	if err := b.Start(ctx); err != nil {
		closeErr := b.Close()
		if inUse := addrInUse(ctx, err, nsAddr, brokerAddr, hints); inUse != nil {
			return nil, errors.Join(inUse, closeErr)
		}
		return nil, errors.Join(
			fmt.Errorf("start embedded RocketMQ broker (name server %s, broker %s): %w", nsAddr, brokerAddr, err), closeErr)
	}
	store := e.DataDir
	if store == "" {
		store = "memory"
	}
	h.Infow("msg", "embedded RocketMQ broker started", "name_server", b.NameServerAddr(), "broker", b.BrokerAddr(), "store", store,
		"http", b.HTTPAddr(), "grpc", b.GRPCAddr())
	return b, nil
}

// brokerLogger routes the embedded broker's log lines to a Kratos logger.
type brokerLogger struct{ h *log.Helper }

func (l brokerLogger) Logf(level minirocketmq.LogLevel, format string, args ...any) {
	switch level {
	case minirocketmq.LogLevelError:
		l.h.Errorf(format, args...)
	case minirocketmq.LogLevelWarn:
		l.h.Warnf(format, args...)
	case minirocketmq.LogLevelInfo:
		l.h.Infof(format, args...)
	case minirocketmq.LogLevelDebug:
		l.h.Debugf(format, args...)
	}
}
