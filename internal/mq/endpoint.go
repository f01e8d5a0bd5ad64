package mq

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-kratos/kratos/v2/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/admin"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

// Defaults of the embedded broker's listeners: the real RocketMQ ports, on loopback.
const (
	DefaultEmbeddedNameServerAddr = "127.0.0.1:9876"
	DefaultEmbeddedBrokerAddr     = "127.0.0.1:10911"
)

// Endpoint is where the application's RocketMQ clients connect: the resolved settings of
// both sides, and the embedded broker when one runs in-process.
type Endpoint struct {
	// Producer and Consumer are data.rocketmq and server.rocketmq with the shared connection
	// settings filled in (see Resolve) and the name servers of the embedded broker when
	// one was started.
	Producer *conf.RocketMQ
	Consumer *conf.RocketMQ
	// Embedded is the in-process broker, nil when a cluster is configured.
	Embedded *minirocketmq.Broker
}

// NameServers returns the name servers of the producing side (the consuming side's when
// only it is configured).
func (e *Endpoint) NameServers() []string {
	if len(e.Producer.GetNameServers()) > 0 {
		return e.Producer.GetNameServers()
	}
	return e.Consumer.GetNameServers()
}

// Topics lists the topics the configuration names (the producer's event topic and every
// subscription's topic), with their namespace prefix, as the broker knows them.
func (e *Endpoint) Topics() []string {
	seen := map[string]bool{}
	var topics []string
	add := func(ns, t string) {
		if t == "" {
			return
		}
		t = Namespaced(ns, t)
		if !seen[t] {
			seen[t] = true
			topics = append(topics, t)
		}
	}
	add(e.Producer.GetNamespace(), e.Producer.GetTopic())
	for _, s := range e.Consumer.GetSubscriptions() {
		add(e.Consumer.GetNamespace(), s.GetTopic())
	}
	return topics
}

// Namespaced returns name as the broker knows it in namespace ns ("ns%name").
func Namespaced(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "%" + name
}

// EnsureTopics creates the configured topics that have no route yet (see EnsureTopics).
func (e *Endpoint) EnsureTopics(ctx context.Context) error {
	return admin.EnsureTopics(ctx, e.NameServers(), e.Topics())
}

// NewEndpoint resolves the RocketMQ settings and, when they name no cluster, starts the
// embedded broker; the cleanup closes it.
func NewEndpoint(s *conf.Server, d *conf.Data, logger log.Logger) (*Endpoint, func(), error) {
	producer, consumer := Resolve(d.GetRocketmq(), s.GetRocketmq())
	ep := &Endpoint{Producer: producer, Consumer: consumer}
	if !conf.IsEmbedded(producer.GetNameServers()) && !conf.IsEmbedded(consumer.GetNameServers()) {
		return ep, func() {}, nil
	}
	h := log.NewHelper(log.With(logger, "module", "mq/embedded"))
	emb := producer.GetEmbedded()
	if emb == nil {
		emb = consumer.GetEmbedded()
	}
	nsAddr := orDefault(emb.GetNameServerAddr(), DefaultEmbeddedNameServerAddr)
	brokerAddr := orDefault(emb.GetBrokerAddr(), DefaultEmbeddedBrokerAddr)
	opts := []minirocketmq.Option{
		minirocketmq.WithNameServerAddr(nsAddr),
		minirocketmq.WithBrokerAddr(brokerAddr),
		minirocketmq.WithLogger(brokerLogger{h: h}),
	}
	// The check-back interval of transactions (the order service's events); the
	// first check comes min(6s, interval) after the half message.
	if d := producer.GetTransactionCheckInterval().AsDuration(); d > 0 {
		opts = append(opts, minirocketmq.WithTransactionCheckInterval(d))
	}
	if dir := emb.GetDataDir(); dir != "" {
		opts = append(opts, minirocketmq.WithDataDir(dir))
	}
	b, err := minirocketmq.New(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded RocketMQ broker: %w", err)
	}
	if err := b.Start(context.Background()); err != nil {
		return nil, nil, fmt.Errorf("start embedded RocketMQ broker (name server %s, broker %s): %w", nsAddr, brokerAddr, err)
	}
	ep.Embedded = b
	for _, side := range []*conf.RocketMQ{ep.Producer, ep.Consumer} {
		if conf.IsEmbedded(side.GetNameServers()) {
			side.NameServers = []string{b.Addr()}
		}
	}
	store := emb.GetDataDir()
	if store == "" {
		store = "memory"
	}
	h.Infow("msg", "embedded RocketMQ broker started", "name_server", b.NameServerAddr(), "broker", b.BrokerAddr(), "store", store)
	cleanup := func() {
		if err := b.Close(); err != nil {
			h.Errorw("msg", "close embedded broker", "err", err)
		}
	}
	return ep, cleanup, nil
}

// Resolve returns copies of the producing (data) and consuming (server) settings in which
// every connection key left empty on one side is taken from the other: name servers,
// name server domain, namespace, instance name, credentials, TLS, trace, retry count,
// codec, send timeout and the embedded broker's settings. Group, topic and subscriptions
// stay per side. Either argument may be nil.
func Resolve(producer, consumer *conf.RocketMQ) (*conf.RocketMQ, *conf.RocketMQ) {
	p, c := clone(producer), clone(consumer)
	inherit(p, c)
	inherit(c, p)
	return p, c
}

func clone(r *conf.RocketMQ) *conf.RocketMQ {
	if r == nil {
		return &conf.RocketMQ{}
	}
	return proto.Clone(r).(*conf.RocketMQ)
}

// inherit fills the empty connection keys of dst from src.
func inherit(dst, src *conf.RocketMQ) {
	if len(dst.NameServers) == 0 {
		dst.NameServers = append([]string(nil), src.NameServers...)
	}
	if dst.NameServerDomain == "" {
		dst.NameServerDomain = src.NameServerDomain
	}
	if dst.Namespace == "" {
		dst.Namespace = src.Namespace
	}
	if dst.InstanceName == "" {
		dst.InstanceName = src.InstanceName
	}
	if dst.Credentials == nil && src.Credentials != nil {
		dst.Credentials = proto.Clone(src.Credentials).(*conf.RocketMQ_Credentials)
	}
	if dst.Tls == nil && src.Tls != nil {
		dst.Tls = proto.Clone(src.Tls).(*conf.RocketMQ_TLS)
	}
	if dst.Trace == nil && src.Trace != nil {
		dst.Trace = proto.Clone(src.Trace).(*conf.RocketMQ_Trace)
	}
	if dst.RetryCount == 0 {
		dst.RetryCount = src.RetryCount
	}
	if dst.Codec == "" {
		dst.Codec = src.Codec
	}
	if dst.SendTimeout == nil && src.SendTimeout != nil {
		dst.SendTimeout = proto.Clone(src.SendTimeout).(*durationpb.Duration)
	}
	if dst.Embedded == nil && src.Embedded != nil {
		dst.Embedded = proto.Clone(src.Embedded).(*conf.RocketMQ_Embedded)
	}
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

// brokerLogger routes the embedded broker's log lines to the application's logger.
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
