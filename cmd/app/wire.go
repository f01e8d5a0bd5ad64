//go:build wireinject

// The build tag makes sure the stub is not built in the final build.

package main

import (
	"github.com/go-kratos/kratos/v2"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/google/wire"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/internal/data"
	"github.com/kratos-rocketmq/layout/internal/server"
	"github.com/kratos-rocketmq/layout/internal/service"
)

// wireApp builds the application from its configuration; the returned cleanup closes what
// the providers opened, in reverse order.
func wireApp(appInfo, *conf.App, *conf.Server, *conf.Data, log.Logger) (*kratos.App, func(), error) {
	panic(wire.Build(newEndpoint, server.ProviderSet, data.ProviderSet, biz.ProviderSet, service.ProviderSet, newApp))
}
