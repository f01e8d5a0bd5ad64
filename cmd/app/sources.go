package main

import (
	"github.com/go-kratos/kratos/v2/config"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/config/nacos"
)

// confSources returns the configuration sources for -conf, in merge order: the
// configuration itself, from a nacos:// URL (see nacos.URL) or a file or directory, then
// the APP_* environment overrides. cleanup closes the Nacos client; call it after the
// config.Config is closed. The Nacos source logs through Kratos' global logger, which
// main routes to the service logger.
func confSources(confPath, profile string) (sources []config.Source, cleanup func(), err error) {
	env := conf.NewEnvSource(conf.DefaultEnvPrefix)
	if !nacos.IsURL(confPath) {
		return []config.Source{withOverlay(conf.NewFileSource(confPath, profile), env), env}, func() {}, nil
	}
	u, err := nacos.ParseURL(confPath)
	if err != nil {
		return nil, nil, err
	}
	client, err := u.NewClient()
	if err != nil {
		return nil, nil, err
	}
	return []config.Source{withOverlay(nacos.NewConfigSource(client, u.Options()...), env), env}, client.CloseClient, nil
}

// withOverlay makes every version src reports at run time carry overlay's values after
// it. Kratos merges a changed version over everything loaded before, so without this a
// change in the file or in Nacos would override the environment from then on.
func withOverlay(src, overlay config.Source) config.Source { return overlaid{src, overlay} }

type overlaid struct {
	config.Source
	overlay config.Source
}

func (o overlaid) Watch() (config.Watcher, error) {
	w, err := o.Source.Watch()
	if err != nil {
		return nil, err
	}
	return overlaidWatcher{w, o.overlay}, nil
}

type overlaidWatcher struct {
	config.Watcher
	overlay config.Source
}

func (w overlaidWatcher) Next() ([]*config.KeyValue, error) {
	kvs, err := w.Watcher.Next()
	if err != nil {
		return nil, err
	}
	extra, err := w.overlay.Load()
	if err != nil {
		return nil, err
	}
	return append(kvs, extra...), nil
}
