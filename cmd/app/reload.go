package main

import (
	"errors"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/log"
)

// watchLogLevel applies changes of app.log.level made in a watched source (a Nacos push,
// an edited file) while the service runs. An invalid level is logged and the current one
// stays. The key has to be set in some source at start for Kratos to watch it.
func watchLogLevel(cfg config.Config, lvl *logLevel, logger log.Logger) {
	h := log.NewHelper(logger)
	const key = "app.log.level"
	err := cfg.Watch(key, func(_ string, v config.Value) {
		var next logLevel
		s, err := v.String()
		if err == nil {
			err = next.Set(s)
		}
		if err != nil {
			h.Errorw("msg", "ignoring a changed configuration value", "key", key, "error", err)
			return
		}
		// Log under the more verbose of the two levels, so the line shows either way.
		if next.Level() < lvl.Level() {
			lvl.v.Store(int32(next.Level()))
			h.Infow("msg", "configuration value changed", "key", key, "value", s)
			return
		}
		h.Infow("msg", "configuration value changed", "key", key, "value", s)
		lvl.v.Store(int32(next.Level()))
	})
	switch {
	case errors.Is(err, config.ErrNotFound):
		h.Debugw("msg", "configuration key not set: changing it takes a restart", "key", key)
	case err != nil:
		h.Warnw("msg", "cannot watch configuration key", "key", key, "error", err)
	}
}
