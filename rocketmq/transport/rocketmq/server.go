package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/transport"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
)

var (
	_ transport.Server     = (*Server)(nil)
	_ transport.Endpointer = (*Server)(nil)
)

// DriverType names the RocketMQ client library (see the constants).
type DriverType = rmq.DriverType

// Driver types: DriverTypeV2 (rocketmq-client-go, remoting protocol), DriverTypeV5 (the
// RocketMQ 5 proxy's gRPC API; WithNameServer then names the proxies' gRPC endpoints)
// and DriverTypeAliyun (Aliyun's MQ HTTP API; WithNameServer then names the instance's
// HTTP endpoint, WithNamespace its instance id).
const (
	DriverTypeAliyun = rmq.DriverTypeAliyun
	DriverTypeV2     = rmq.DriverTypeV2
	DriverTypeV5     = rmq.DriverTypeV5
)

// Server consumes RocketMQ topics as a Kratos transport server. The embedded Broker
// publishes with the same connection; the embedded RWMutex is kept for compatibility
// with the reference package and is not used by the Server itself.
type Server struct {
	broker.Broker
	sync.RWMutex

	mu         sync.Mutex // guards the fields below
	brokerOpts []broker.Option
	driverErr  error
	middleware []middleware.Middleware
	logger     log.Logger
	log        *log.Helper
	regs       []*registration // every registration, in order; (re)made by each Start
	active     map[subKey]broker.Subscriber
	started    bool
	startErr   error
	baseCtx    context.Context

	keepAlive     bool
	keepAliveAddr string
	ka            *keepAliveServer
}

type subKey struct{ group, topic string }

type registration struct {
	key     subKey
	handler broker.Handler
	binder  broker.Binder
	opts    []broker.SubscribeOption
}

// NewServer builds a server on the given driver; it does not dial (Start does). A
// driver this build lacks, or an invalid option such as an unknown codec, is reported by
// Start.
func NewServer(driverType DriverType, opts ...ServerOption) *Server {
	s := &Server{
		active:        make(map[subKey]broker.Subscriber),
		keepAlive:     true,
		keepAliveAddr: ":0",
		baseCtx:       context.Background(),
	}
	for _, o := range opts {
		o(s)
	}
	if s.logger == nil {
		s.logger = log.GetLogger()
	}
	s.log = log.NewHelper(log.With(s.logger, "module", "transport/rocketmq"))
	s.Broker, s.driverErr = rmq.NewBroker(driverType, s.brokerOpts...)
	return s
}

// Name returns "rocketmq".
func (s *Server) Name() string { return string(KindRocketMQ) }

// Start connects, makes every subscription registered so far and serves the keep-alive
// endpoint. It returns every subscription error; after a failed Start, Start returns
// that cause again.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.startErr != nil {
		return fmt.Errorf("rocketmq server: an earlier Start failed: %w", s.startErr)
	}
	if s.started {
		return nil
	}
	if err := s.start(ctx); err != nil {
		s.startErr = err
		return err
	}
	s.started = true
	return nil
}

func (s *Server) start(ctx context.Context) error {
	if s.driverErr != nil {
		return fmt.Errorf("rocketmq server: %w", s.driverErr)
	}
	if err := s.Connect(); err != nil {
		return fmt.Errorf("rocketmq server: connect to %s: %w", s.Address(), err)
	}
	var errs []error
	if s.keepAlive {
		if _, err := s.keepAliveLocked().endpoint(); err != nil {
			errs = append(errs, fmt.Errorf("rocketmq server: keep-alive endpoint: %w", err))
		}
	}
	for _, r := range s.regs {
		if err := s.subscribeLocked(r); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && s.keepAlive {
		if err := s.keepAliveLocked().start(); err != nil {
			errs = append(errs, fmt.Errorf("rocketmq server: keep-alive endpoint: %w", err))
		}
	}
	if len(errs) > 0 {
		if err := s.Disconnect(); err != nil {
			errs = append(errs, fmt.Errorf("disconnect after failed start: %w", err))
		}
		s.active = make(map[subKey]broker.Subscriber)
		if s.ka != nil {
			_ = s.ka.stop(context.Background())
			s.ka = nil
		}
		return errors.Join(errs...)
	}
	s.baseCtx = ctx
	s.log.Infow("msg", "server started", "nameServer", s.Address(), "subscriptions", len(s.active))
	return nil
}

// Stop stops fetching, waits for running handlers until ctx is done (then cancels their
// contexts; their messages are delivered again later), and disconnects.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.started {
		ka := s.ka // Endpoint may have opened the listener
		s.ka = nil
		s.mu.Unlock()
		if ka != nil {
			return ka.stop(ctx)
		}
		return nil
	}
	s.started = false
	ka := s.ka
	s.ka = nil
	s.active = make(map[subKey]broker.Subscriber)
	s.mu.Unlock()

	var errs []error
	if ka != nil {
		if err := ka.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop keep-alive endpoint: %w", err))
		}
	}
	if d, ok := s.Broker.(broker.Drainer); ok {
		if err := d.Drain(ctx); err != nil {
			s.log.Warnw("msg", "stop deadline reached with handlers running; forcing stop", "error", err)
		}
	}
	if err := s.Disconnect(); err != nil {
		errs = append(errs, err)
	}
	s.log.Infow("msg", "server stopped")
	return errors.Join(errs...)
}

// Endpoint returns the keep-alive URL (http://host:port, listening from the first call)
// or, with keep-alive off, rocketmq://<name server>.
func (s *Server) Endpoint() (*url.URL, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.driverErr != nil {
		return nil, s.driverErr
	}
	if !s.keepAlive {
		return &url.URL{Scheme: "rocketmq", Host: s.Address()}, nil
	}
	return s.keepAliveLocked().endpoint()
}

func (s *Server) keepAliveLocked() *keepAliveServer {
	if s.ka == nil {
		s.ka = newKeepAliveServer(s.keepAliveAddr)
	}
	return s.ka
}

func (s *Server) endpointString() string {
	if s.keepAlive && s.ka != nil {
		if u, err := s.ka.endpoint(); err == nil {
			return u.String()
		}
	}
	return "rocketmq://" + s.Address()
}

// RegisterSubscriber subscribes handler to topic in consumer group groupName (""
// means WithGroupName's). Before Start the subscription is queued and made by Start;
// after Start it is made at once (and its error returned). Every Start, also after a
// Stop, makes all registered subscriptions. ctx is the parent of handler contexts (its values, not
// its cancellation). Registering the same (group, topic) twice is an error.
func (s *Server) RegisterSubscriber(ctx context.Context, topic, groupName string, handler broker.Handler, binder broker.Binder, opts ...broker.SubscribeOption) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if handler == nil {
		return fmt.Errorf("rocketmq server: subscribe %s: nil handler", topic)
	}
	all := make([]broker.SubscribeOption, 0, len(opts)+2)
	all = append(all, broker.WithSubscribeContext(ctx))
	all = append(all, opts...)
	if groupName != "" {
		all = append(all, broker.WithQueueName(groupName))
	}
	group := broker.NewSubscribeOptions(all...).Queue
	r := &registration{key: subKey{group, topic}, handler: handler, binder: binder, opts: all}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.regs {
		if p.key == r.key {
			return fmt.Errorf("rocketmq server: topic %s already registered in group %q", topic, group)
		}
	}
	if s.started {
		if err := s.subscribeLocked(r); err != nil {
			return err
		}
	}
	s.regs = append(s.regs, r)
	return nil
}

func (s *Server) subscribeLocked(r *registration) error {
	sub, err := s.Subscribe(r.key.topic, s.wrap(r.key.topic, r.handler), r.binder, r.opts...)
	if err != nil {
		return fmt.Errorf("rocketmq server: subscribe %s in group %q: %w", r.key.topic, r.key.group, err)
	}
	s.active[r.key] = sub
	return nil
}

// wrap puts a Transport into each handler's context and runs the middleware chain,
// which is built once per subscription. Middleware sees the decoded body as request.
func (s *Server) wrap(topic string, h broker.Handler) broker.Handler {
	endpoint := s.endpointString()
	if len(s.middleware) == 0 {
		return func(ctx context.Context, evt broker.Event) error {
			tr := &Transport{endpoint: endpoint, operation: topic, reqHeader: headerCarrier(evt.Message().Headers), event: evt}
			return h(transport.NewServerContext(ctx, tr), evt)
		}
	}
	chain := middleware.Chain(s.middleware...)(func(ctx context.Context, _ any) (any, error) {
		tr, ok := transport.FromServerContext(ctx)
		if !ok {
			return nil, errors.New("rocketmq server: middleware removed the transport from the context")
		}
		t, ok := tr.(*Transport)
		if !ok {
			return nil, fmt.Errorf("rocketmq server: middleware replaced the transport with %T", tr)
		}
		return nil, t.handler(ctx, t.event)
	})
	return func(ctx context.Context, evt broker.Event) error {
		tr := &Transport{endpoint: endpoint, operation: topic, reqHeader: headerCarrier(evt.Message().Headers), event: evt, handler: h}
		_, err := chain(transport.NewServerContext(ctx, tr), evt.Message().Body)
		return err
	}
}

// RegisterSubscriber subscribes a typed handler: every body is decoded into a new T.
func RegisterSubscriber[T any](srv *Server, ctx context.Context, topic, groupName string, handler func(context.Context, string, broker.Headers, *T) error, opts ...broker.SubscribeOption) error {
	return srv.RegisterSubscriber(ctx, topic, groupName, broker.TypedHandler(handler), broker.NewBinder[T](), opts...)
}
