package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware/recovery"

	"github.com/kratos-rocketmq/rocketmq/admin"
	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	transport "github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// envNameServer names an external cluster to measure instead of the embedded broker.
const envNameServer = "ROCKETMQ_NAMESRV"

// envProxy names the gRPC endpoint of that cluster's RocketMQ 5 proxy, for scenario 6
// (the v5 driver); without it an external cluster's run skips the v5 tables.
const envProxy = "ROCKETMQ_PROXY"

// config holds the counts and durations of a run.
type config struct {
	mode            string        // "short", "full" or "smoke"
	rounds          int           // rounds of alternating turns (scenarios 1 and 3)
	turn            time.Duration // length of one turn (scenarios 1 and 3)
	warmup          time.Duration // unmeasured turn of each side first
	consumeRounds   int           // drains per side (scenario 2)
	consumeMessages int           // messages per side over all drains (scenario 2)
	latencyRate     int           // offered msg/s (scenario 3)
	storeMessages   map[int]int   // body size → messages (scenario 4)
	rssMessages     int           // messages stored before RSS is read (scenario 5)
}

func fullConfig() config {
	return config{mode: "full", rounds: 20, turn: time.Second, warmup: time.Second,
		consumeRounds: 5, consumeMessages: 100_000, latencyRate: 1000,
		storeMessages: map[int]int{128: 50_000, 1024: 50_000, 16 << 10: 10_000}, rssMessages: 200_000}
}

func shortConfig() config {
	return config{mode: "short", rounds: 6, turn: 400 * time.Millisecond, warmup: 300 * time.Millisecond,
		consumeRounds: 4, consumeMessages: 40_000, latencyRate: 1000,
		storeMessages: map[int]int{128: 5_000, 1024: 5_000, 16 << 10: 2_000}, rssMessages: 20_000}
}

// bodySize is the body of scenarios 1-3: a JSON event of 1 KiB.
const bodySize = 1024

// env is the broker a run measures and what every scenario shares.
type env struct {
	cfg      config
	ns       string     // name server address
	grpc     string     // RocketMQ 5 gRPC endpoint ("" when there is none)
	embedded *child     // the broker process; nil when ROCKETMQ_NAMESRV is set
	logger   log.Logger // error level: the harness prints only its report
	// logSink is a connected driver kept for the whole run: the driver routes the
	// client's process-wide logger to its connected brokers' loggers (error level
	// here), so the raw clients stay quiet too. It must connect before any raw client.
	logSink *rmq.Broker
	created []string // topics ensureTopics created on ns, for dropTopics
}

func newEnv(cfg config) (*env, error) {
	e := &env{cfg: cfg, logger: log.NewFilter(log.NewStdLogger(os.Stderr), log.FilterLevel(log.LevelError))}
	if ns := strings.TrimSpace(os.Getenv(envNameServer)); ns != "" {
		e.ns, e.grpc = ns, strings.TrimSpace(os.Getenv(envProxy))
	} else {
		c, err := startChild("memory+grpc")
		if err != nil {
			return nil, fmt.Errorf("start the embedded broker: %w", err)
		}
		e.embedded, e.ns, e.grpc = c, c.addr, c.grpc
	}
	e.logSink = e.newDriver()
	if err := e.logSink.Connect(); err != nil {
		e.close()
		return nil, fmt.Errorf("connect to %s: %w", e.ns, err)
	}
	return e, nil
}

func (e *env) close() {
	if e.logSink != nil {
		_ = e.logSink.Disconnect()
	}
	if e.embedded != nil {
		_ = e.embedded.stop()
	}
}

// target describes the broker for the report.
func (e *env) target() string {
	if e.embedded != nil {
		return "embedded minirocketmq (in-memory store) in a process of its own on this machine"
	}
	return envNameServer + "=" + e.ns
}

// name returns a topic or group name unique to this run.
func name(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "rmqbench_" + prefix + "_" + hex.EncodeToString(b[:])
}

// ensureTopics creates topics (8 queues), waits for their routes and remembers them
// for dropTopics.
func (e *env) ensureTopics(ctx context.Context, topics ...string) error {
	if err := ensureTopics(ctx, e.ns, topics...); err != nil {
		return err
	}
	e.created = append(e.created, topics...)
	return nil
}

// dropTopics deletes the topics ensureTopics created, with their messages: the
// in-memory broker would otherwise hold every message of the run (gigabytes in full
// mode), and a real cluster is left as it was found.
func (e *env) dropTopics(ctx context.Context) error {
	topics := e.created
	e.created = nil
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return admin.DeleteTopics(ctx, []string{e.ns}, topics)
}

// emptyTopics deletes topics and creates them again, empty.
func (e *env) emptyTopics(ctx context.Context, topics ...string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := admin.DeleteTopics(ctx, []string{e.ns}, topics); err != nil {
		return err
	}
	return admin.EnsureTopics(ctx, []string{e.ns}, topics)
}

func ensureTopics(ctx context.Context, ns string, topics ...string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return admin.EnsureTopics(ctx, []string{ns}, topics)
}

// newDriver returns our broker driver on the run's broker (not connected).
func (e *env) newDriver() *rmq.Broker {
	return rmq.New(rmq.WithNameServer([]string{e.ns}), broker.WithLogger(e.logger),
		rmq.WithInstanceName(name("ours")), rmq.WithGroupName(name("PG")))
}

// newServer returns our transport server the way a service builds one: JSON codec,
// recovery middleware (the template's set also has logging.Server, which writes a line
// per message and would measure the log sink).
func (e *env) newServer() *transport.Server {
	return transport.NewServer(transport.DriverTypeV2,
		transport.WithNameServer([]string{e.ns}), transport.WithCodec("json"),
		transport.WithMiddleware(recovery.Recovery()), transport.WithEnableKeepAlive(false),
		transport.WithLogger(e.logger), transport.WithInstanceName(name("ours")), transport.WithGroupName(name("PG")))
}

// newV5Driver returns our RocketMQ 5 driver on the run's gRPC endpoint (not connected).
func (e *env) newV5Driver() *rmq.V5Broker {
	return rmq.NewV5(rmq.WithNameServer([]string{e.grpc}), broker.WithLogger(e.logger), rmq.WithInstanceName(name("v5")))
}

// newV5Server returns a transport server on the v5 driver, built as newServer.
func (e *env) newV5Server() *transport.Server {
	return transport.NewServer(transport.DriverTypeV5,
		transport.WithNameServer([]string{e.grpc}), transport.WithCodec("json"),
		transport.WithMiddleware(recovery.Recovery()), transport.WithEnableKeepAlive(false),
		transport.WithLogger(e.logger), transport.WithInstanceName(name("v5")))
}

// newRawProducer starts a rocketmq-client-go producer on the run's broker.
func (e *env) newRawProducer(opts ...producer.Option) (rocketmq.Producer, error) {
	return newRawProducer(e.ns, opts...)
}

// newRawProducer starts a rocketmq-client-go producer the way its README does.
func newRawProducer(ns string, opts ...producer.Option) (rocketmq.Producer, error) {
	opts = append([]producer.Option{
		producer.WithNsResolver(primitive.NewPassthroughResolver([]string{ns})),
		producer.WithInstanceName(name("raw")), producer.WithGroupName(name("PG")),
	}, opts...)
	p, err := rocketmq.NewProducer(opts...)
	if err != nil {
		return nil, err
	}
	if err := p.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

// newRawConsumer returns a rocketmq-client-go push consumer of a new group (not started).
func newRawConsumer(ns string, from consumer.ConsumeFromWhere) (rocketmq.PushConsumer, error) {
	return rocketmq.NewPushConsumer(
		consumer.WithNsResolver(primitive.NewPassthroughResolver([]string{ns})),
		consumer.WithGroupName(name("CG")), consumer.WithInstance(name("raw")),
		consumer.WithConsumeFromWhere(from))
}

// settleTime is how long a consumer runs at least before Shutdown: the client races
// with itself when Shutdown follows Start closely (see transport/rocketmq/README.md).
const settleTime = time.Second

// shutdownConsumer shuts c down no earlier than settleTime after started.
func shutdownConsumer(c rocketmq.PushConsumer, started time.Time) {
	time.Sleep(time.Until(started.Add(settleTime)))
	_ = c.Shutdown()
}

// event is the body of scenarios 1-3, JSON-encoded by both sides.
type event struct {
	ID     int64  `json:"id"`
	SentAt int64  `json:"sent_at,omitempty"` // unix ns, set by the latency scenario
	Note   string `json:"note"`              // pads the body to bodySize
}

// newEvent returns an event whose JSON encoding is about bodySize bytes.
func newEvent(id int64) *event {
	ev := &event{ID: id}
	b, _ := json.Marshal(ev)
	ev.Note = strings.Repeat("x", max(bodySize-len(b), 0))
	return ev
}
