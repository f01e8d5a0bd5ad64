package main

import (
	"github.com/go-kratos/kratos/v2"
	"github.com/go-kratos/kratos/v2/transport/grpc"
	"github.com/go-kratos/kratos/v2/transport/http"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// appInfo identifies the running instance.
type appInfo struct {
	ID      string // host name
	Name    string
	Version string
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
