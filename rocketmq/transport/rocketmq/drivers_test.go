package rocketmq

import (
	"context"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// The transport's suites run for every driver: each test is a table over driver types,
// a subtest per driver, on an embedded broker that serves every protocol (remoting for
// v2, the RocketMQ 5 gRPC endpoint for v5, the Aliyun MQ HTTP API for aliyun). With
// ROCKETMQ_NAMESRV the v2 subtests run against that cluster and the others skip
// (RocketMQ 4.9.4 has neither a gRPC nor an HTTP endpoint).
//
// Where rocketmq-client-go races with itself (orderly consumption, transaction
// check-backs, stopping with messages in flight: client-quirks.md), the v2 subtest
// lives in a `!race` file as TestNoRace..., and the race-enabled test runs the other
// drivers (raceFree).

// allDrivers are the drivers every suite covers.
var allDrivers = []DriverType{DriverTypeV2, DriverTypeV5, DriverTypeAliyun}

// raceFree are the drivers whose clients are race-free where rocketmq-client-go's is
// not; their subtests run with the race detector.
var raceFree = []DriverType{DriverTypeV5, DriverTypeAliyun}

// driverEnv is the broker one driver's subtest runs against.
type driverEnv struct {
	t      testing.TB
	driver DriverType
	ns     string               // the remoting name server (topic set-up, remoting peers)
	mini   *minirocketmq.Broker // nil when ROCKETMQ_NAMESRV names a cluster
}

// forDrivers runs test once per driver in drivers, each on a broker of its own
// started with opts.
func forDrivers(t *testing.T, drivers []DriverType, opts []minirocketmq.Option, test func(t *testing.T, e *driverEnv)) {
	t.Helper()
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			test(t, newDriverEnv(t, d, opts...))
		})
	}
}

func newDriverEnv(t testing.TB, driver DriverType, opts ...minirocketmq.Option) *driverEnv {
	t.Helper()
	if driver == DriverTypeV5 && rmqtest.External() != "" {
		t.Skip("the v5 driver needs the embedded broker's gRPC endpoint (RocketMQ 4.9.4 has none)")
	}
	if driver == DriverTypeAliyun && rmqtest.External() != "" {
		t.Skip("the aliyun driver needs the embedded broker's HTTP endpoint (RocketMQ 4.9.4 has none)")
	}
	all := append([]minirocketmq.Option{
		minirocketmq.WithGRPCAddr("127.0.0.1:0"),
		minirocketmq.WithGRPCLongPolling(100*time.Millisecond, 2*time.Second),
		minirocketmq.WithHTTPAddr("127.0.0.1:0"),
		minirocketmq.WithHTTPInvisibleDuration(aliyunInvisible),
	}, opts...)
	ns, mini := rmqtest.Start(t, all...)
	return &driverEnv{t: t, driver: driver, ns: ns, mini: mini}
}

// endpoint is what the driver dials: the name server (v2), the gRPC endpoint (v5) or
// the HTTP endpoint (aliyun).
func (e *driverEnv) endpoint() string {
	switch e.driver {
	case DriverTypeV5:
		return e.mini.GRPCAddr()
	case DriverTypeAliyun:
		return "http://" + e.mini.HTTPAddr()
	}
	return e.ns
}

// server builds a server of the env's driver with a loopback keep-alive endpoint;
// Stop is registered in Cleanup (a second Stop is a no-op).
func (e *driverEnv) server(opts ...ServerOption) *Server {
	e.t.Helper()
	all := append([]ServerOption{
		WithNameServer([]string{e.endpoint()}), WithKeepAliveAddress("127.0.0.1:0"), WithLogger(testLogger()),
	}, opts...)
	srv := NewServer(e.driver, all...)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			e.t.Errorf("stop: %v", err)
		}
	})
	return srv
}

// topic creates a topic holding one warm-up message (see ensureTopic) and, on the
// embedded broker, gives it messageType (NORMAL, FIFO, DELAY, TRANSACTION, MIXED: what
// a RocketMQ 5 proxy checks sends against; the remoting side ignores it).
func (e *driverEnv) topic(messageType string) string {
	e.t.Helper()
	topic := rmqtest.Name(e.t, "T")
	ensureTopic(e.t, e.ns, topic)
	if e.mini != nil {
		if err := e.mini.SetTopicMessageType(topic, messageType); err != nil {
			e.t.Fatal(err)
		}
	}
	return topic
}

// group returns a new consumer group; fifo makes it a FIFO group on the embedded
// broker (consumeMessageOrderly, which RocketMQ 5 consumers follow; the v2 driver
// orders by WithOrderly alone).
func (e *driverEnv) group(fifo bool) string {
	e.t.Helper()
	name := rmqtest.Name(e.t, "G")
	if fifo && e.mini != nil {
		err := e.mini.UpdateSubscriptionGroup(minirocketmq.SubscriptionGroupConfig{GroupName: name, ConsumeEnable: true,
			ConsumeMessageOrderly: true, RetryQueueNums: 1, RetryMaxTimes: 16, WhichBrokerWhenConsumeSlowly: 1})
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return name
}

// aliyunInvisible is the embedded HTTP endpoint's invisible time in these tests: an
// Aliyun consumer's failed message comes again after it (Aliyun: 5 minutes).
const aliyunInvisible = time.Second

// retryDelay is WithRetryDelayLevel(level), except for the aliyun driver, which
// refuses it (its retry interval is the service's invisible time, aliyunInvisible
// here).
func (e *driverEnv) retryDelay(level int) broker.SubscribeOption {
	if e.driver == DriverTypeAliyun {
		return func(*broker.SubscribeOptions) {}
	}
	return rmq.WithRetryDelayLevel(level)
}

// suspend is WithSuspendInterval(d), except for the aliyun driver (see retryDelay).
func (e *driverEnv) suspend(d time.Duration) broker.SubscribeOption {
	if e.driver == DriverTypeAliyun {
		return func(*broker.SubscribeOptions) {}
	}
	return rmq.WithSuspendInterval(d)
}
