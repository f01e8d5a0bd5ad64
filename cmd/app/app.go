package main

import (
	"context"
	"fmt"
	"time"

	"github.com/go-kratos/kratos/v2"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/transport/grpc"
	"github.com/go-kratos/kratos/v2/transport/http"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/telemetry"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// appInfo identifies the running instance.
type appInfo struct {
	ID      string // host name
	Name    string
	Version string
}

// fields are the key/values of every log line: the instance, and env when set.
func (i appInfo) fields(env string) []any {
	kv := []any{"service.id", i.ID, "service.name", i.Name, "service.version", i.Version}
	if env != "" {
		kv = append(kv, "env", env)
	}
	return kv
}

// newApp assembles the Kratos application: its servers (HTTP, gRPC, the RocketMQ
// subscriber) start together and stop, on SIGINT, SIGTERM or SIGQUIT, within
// app.shutdown_timeout. No kratos.Logger option: it would call log.SetLogger, which races
// with goroutines already logging; main installs the global logger once instead.
func newApp(info appInfo, c *conf.App, hs *http.Server, gs *grpc.Server, rs *rocketmq.Server) *kratos.App {
	return kratos.New(
		kratos.ID(info.ID),
		kratos.Name(info.Name),
		kratos.Version(info.Version),
		kratos.Metadata(c.GetMetadata()),
		kratos.StopTimeout(c.GetShutdownTimeout().AsDuration()),
		kratos.Server(hs, gs, rs),
	)
}

// ensureTopicsTimeout bounds the creation of missing topics at start.
const ensureTopicsTimeout = 30 * time.Second

// newEndpoint connects the service to RocketMQ (starting the embedded broker when the
// configuration names no cluster) and creates the topics it publishes to and consumes
// from, once, before any client needs them.
func newEndpoint(s *conf.Server, d *conf.Data, tp *telemetry.Provider, logger log.Logger) (*cluster.Endpoint, func(), error) {
	ep, err := openEndpoint(s, d, cluster.WithLogger(logger), cluster.WithTelemetry(tp, tp.Tracer))
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {
		if err := ep.Close(); err != nil {
			log.NewHelper(logger).Errorw("msg", "close RocketMQ endpoint", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), ensureTopicsTimeout)
	defer cancel()
	var topics []string
	for _, sub := range s.GetRocketmq().GetSubscriptions() {
		topics = append(topics, sub.GetTopic())
	}
	err = ep.Producer.EnsureTopics(ctx, d.GetRocketmq().GetTopic())
	if err == nil {
		err = ep.Consumer.EnsureTopics(ctx, topics...)
	}
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("rocketmq: %w", err)
	}
	return ep, cleanup, nil
}

// openEndpoint resolves data.rocketmq (producer) and server.rocketmq (consumer).
func openEndpoint(s *conf.Server, d *conf.Data, opts ...cluster.Option) (*cluster.Endpoint, error) {
	return cluster.Open(context.Background(), d.GetRocketmq().Cluster(), s.GetRocketmq().Cluster(), opts...)
}
