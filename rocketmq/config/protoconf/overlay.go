package protoconf

import "github.com/go-kratos/kratos/v2/config"

// WithOverlay makes every version src reports at run time carry overlay's values after
// it. Kratos merges a changed version over everything loaded before, so without this a
// change in a watched file or in Nacos would override the environment from then on:
//
//	env := protoconf.NewEnvSource("APP_", schema)
//	sources := []config.Source{protoconf.WithOverlay(file, env), env}
func WithOverlay(src, overlay config.Source) config.Source { return overlaid{src, overlay} }

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
