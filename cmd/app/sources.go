package main

import (
	"github.com/go-kratos/kratos/v2/config"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/config/nacos"
	"github.com/kratos-rocketmq/rocketmq/config/protoconf"
)

// confSources returns the configuration sources for -conf, in merge order: the
// configuration itself, from a nacos:// URL (see nacos.URL) or a file or directory, then
// the APP_* environment overrides, which stay on top when the first one changes at run
// time. cleanup closes the Nacos client; call it after the config.Config is closed. The
// Nacos source logs through Kratos' global logger, which main routes to the service
// logger.
func confSources(confPath, profile string) (sources []config.Source, cleanup func(), err error) {
	env := conf.NewEnvSource()
	if !nacos.IsURL(confPath) {
		return []config.Source{protoconf.WithOverlay(protoconf.NewFileSource(confPath, profile), env), env}, func() {}, nil
	}
	u, err := nacos.ParseURL(confPath)
	if err != nil {
		return nil, nil, err
	}
	client, err := u.NewClient()
	if err != nil {
		return nil, nil, err
	}
	return []config.Source{protoconf.WithOverlay(nacos.NewConfigSource(client, u.Options()...), env), env}, client.CloseClient, nil
}
