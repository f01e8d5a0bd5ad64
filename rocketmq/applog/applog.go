// Package applog is the logger of a Kratos service process: key=value lines with a
// timestamp, the caller, the service's fields and the trace and span ids of the request
// or message being handled, filtered by a level that can change while the process runs
// (a watched configuration key), and Kratos' global logger routed to it once.
//
//	var lvl applog.Level
//	_ = lvl.Set("info")
//	global := applog.InstallGlobal(os.Stdout, &lvl, "service.name", "orders") // Kratos' own lines
//	logger := applog.New(os.Stdout, &lvl, "service.name", "orders")
//	applog.WatchLevel(cfg, "app.log.level", &lvl, logger)
package applog

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware/tracing"
)

// Level is the lowest level a logger of New lets through; it may change at any time. The
// zero value is info.
type Level struct{ v atomic.Int32 }

// Set parses debug, info, warn or error (any case).
func (l *Level) Set(s string) error {
	lv := log.ParseLevel(strings.ToUpper(strings.TrimSpace(s)))
	if !strings.EqualFold(lv.String(), strings.TrimSpace(s)) {
		return fmt.Errorf("unknown log level %q (valid: debug, info, warn, error)", s)
	}
	l.v.Store(int32(lv))
	return nil
}

// Get returns the current level.
func (l *Level) Get() log.Level { return log.Level(l.v.Load()) }

// New returns a logger writing key=value lines to w: ts, caller, kv (the service's
// fields), trace.id and span.id, for entries at lvl or above.
func New(w io.Writer, lvl *Level, kv ...any) log.Logger { return newAt(w, lvl, log.DefaultCaller, kv) }

// globalCaller finds the caller of a line that went through Kratos' global logger and a
// Global: one frame deeper than log.DefaultCaller.
var globalCaller = log.Caller(5)

func newAt(w io.Writer, lvl *Level, caller log.Valuer, kv []any) log.Logger {
	fields := append([]any{"ts", log.DefaultTimestamp, "caller", caller}, kv...)
	fields = append(fields, "trace.id", tracing.TraceID(), "span.id", tracing.SpanID())
	return log.With(&filter{next: log.NewStdLogger(w), min: lvl}, fields...)
}

// filter drops entries below a level read on every call.
type filter struct {
	next log.Logger
	min  *Level
}

func (f *filter) Log(level log.Level, kv ...any) error {
	if level < f.min.Get() {
		return nil
	}
	return f.next.Log(level, kv...)
}

// Global is Kratos' global logger (its servers and config package log through it),
// forwarding to a logger that can be replaced while others log through it: log.SetLogger
// is not safe once goroutines log through the global, so it is called once, by
// InstallGlobal, and Reset replaces what is behind it.
type Global struct{ p atomic.Pointer[log.Logger] }

// InstallGlobal makes a Global writing like New(w, lvl, kv...) Kratos' global logger.
func InstallGlobal(w io.Writer, lvl *Level, kv ...any) *Global {
	g := &Global{}
	g.Reset(w, lvl, kv...)
	log.SetLogger(g)
	return g
}

// Reset makes the global logger write like New(w, lvl, kv...) from now on (for example
// once the configuration has named the service).
func (g *Global) Reset(w io.Writer, lvl *Level, kv ...any) {
	l := newAt(w, lvl, globalCaller, kv)
	g.p.Store(&l)
}

// Log implements log.Logger.
func (g *Global) Log(level log.Level, kv ...any) error { return (*g.p.Load()).Log(level, kv...) }

// WatchLevel applies the changes of key (a log level) in a watched source of cfg (a
// Nacos push, an edited file) to lvl while the process runs; an invalid level is logged
// and the current one stays. Kratos watches only keys that are set in some source at
// start; for another key it logs at debug level that a change takes a restart.
func WatchLevel(cfg config.Config, key string, lvl *Level, logger log.Logger) {
	h := log.NewHelper(logger)
	err := cfg.Watch(key, func(_ string, v config.Value) {
		var next Level
		s, err := v.String()
		if err == nil {
			err = next.Set(s)
		}
		if err != nil {
			h.Errorw("msg", "ignoring a changed configuration value", "key", key, "error", err)
			return
		}
		// Log under the more verbose of the two levels, so the line shows either way.
		if next.Get() < lvl.Get() {
			lvl.v.Store(int32(next.Get()))
			h.Infow("msg", "configuration value changed", "key", key, "value", s)
			return
		}
		h.Infow("msg", "configuration value changed", "key", key, "value", s)
		lvl.v.Store(int32(next.Get()))
	})
	switch {
	case errors.Is(err, config.ErrNotFound):
		h.Debugw("msg", "configuration key not set: changing it takes a restart", "key", key)
	case err != nil:
		h.Warnw("msg", "cannot watch configuration key", "key", key, "error", err)
	}
}
