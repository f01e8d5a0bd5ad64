package main

import (
	"context"
	"fmt"

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

// newEndpoint connects the service to RocketMQ (starting the embedded broker when the
// configuration names no cluster) and creates the topics it publishes to and consumes
// from, once, before any client needs them.
func newEndpoint(s *conf.Server, d *conf.Data, tp *telemetry.Provider, logger log.Logger) (*cluster.Endpoint, func(), error) {
	ep, err := openEndpoint(d, cluster.WithLogger(logger), cluster.WithTelemetry(tp, tp.Tracer), cluster.WithTopics(topics(s, d)...))
	if err != nil {
		return nil, nil, fmt.Errorf("rocketmq: %w", err)
	}
	return ep, func() {
		if err := ep.Close(); err != nil {
			log.NewHelper(logger).Errorw("msg", "close RocketMQ endpoint", "err", err)
		}
	}, nil
}

// topics are the service's: its event topic (which the handlers' default subscriptions
// consume) and those its listed subscriptions name.
func topics(s *conf.Server, d *conf.Data) []string {
	t := []string{d.GetRocketmq().GetProducer().GetTopic()}
	for _, sub := range s.GetRocketmq().GetSubscriptions() {
		t = append(t, sub.GetTopic())
	}
	return t
}

// openEndpoint resolves data.rocketmq for the publisher and the subscriber. Its errors
// say how to change a setting with this service's keys and Makefile.
func openEndpoint(d *conf.Data, opts ...cluster.Option) (*cluster.Endpoint, error) {
	r := d.GetRocketmq()
	return cluster.Open(context.Background(), r.ProducerSettings(), r.Settings(), append(opts, cluster.WithHints(cluster.Hints{
		NameServers:            "`make run ROCKETMQ=%[1]s` (or APP_DATA_ROCKETMQ_NAME_SERVERS=%[1]s)",
		EmbeddedNameServerAddr: "APP_DATA_ROCKETMQ_EMBEDDED_NAME_SERVER_ADDR=%s (key data.rocketmq.embedded.name_server_addr)",
		EmbeddedBrokerAddr:     "APP_DATA_ROCKETMQ_EMBEDDED_BROKER_ADDR=%s (key data.rocketmq.embedded.broker_addr)",
		BrokerAddress:          "With deploy/docker-compose.yaml: BROKER_IP1=<an IP the clients reach> make rocketmq-up (default 127.0.0.1: clients on the Docker host).",
	}))...)
}
