package main

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware/tracing"
)

// logLevel is the minimum level of the service's logger; it can change at run time (a
// watched configuration source updates it).
type logLevel struct{ v atomic.Int32 }

// Set parses debug, info, warn or error.
func (l *logLevel) Set(s string) error {
	lv := log.ParseLevel(strings.ToUpper(strings.TrimSpace(s)))
	if !strings.EqualFold(lv.String(), strings.TrimSpace(s)) {
		return fmt.Errorf("config key app.log.level: unknown level %q (valid: debug, info, warn, error)", s)
	}
	l.v.Store(int32(lv))
	return nil
}

// Level returns the current minimum level.
func (l *logLevel) Level() log.Level { return log.Level(l.v.Load()) }

// levelFilter drops entries below a level read on every call.
type levelFilter struct {
	next log.Logger
	min  *logLevel
}

func (f *levelFilter) Log(level log.Level, keyvals ...any) error {
	if level < f.min.Level() {
		return nil
	}
	return f.next.Log(level, keyvals...)
}

// swapLogger forwards to a logger that can be replaced while others log through it. It is
// installed once as Kratos' global logger: log.SetLogger is not safe once goroutines
// (config watchers, servers) log through the global, so main swaps the inner logger
// instead of calling it again.
type swapLogger struct{ p atomic.Pointer[log.Logger] }

func newSwapLogger(l log.Logger) *swapLogger {
	s := &swapLogger{}
	s.Set(l)
	return s
}

// Set replaces the logger entries go to.
func (s *swapLogger) Set(l log.Logger) { s.p.Store(&l) }

func (s *swapLogger) Log(level log.Level, keyvals ...any) error {
	return (*s.p.Load()).Log(level, keyvals...)
}

// newLogger returns the service logger: key=value lines on w with the service's fields and
// the trace of the current request, filtered by lvl.
func newLogger(w io.Writer, info appInfo, env string, lvl *logLevel) log.Logger {
	return newLoggerAt(w, info, env, lvl, log.DefaultCaller)
}

// globalCaller finds the caller of a log line that went through Kratos' global logger and
// the swapLogger behind it: one frame deeper than log.DefaultCaller.
var globalCaller = log.Caller(5)

func newLoggerAt(w io.Writer, info appInfo, env string, lvl *logLevel, caller log.Valuer) log.Logger {
	kv := []any{
		"ts", log.DefaultTimestamp,
		"caller", caller,
		"service.id", info.ID,
		"service.name", info.Name,
		"service.version", info.Version,
		"trace.id", tracing.TraceID(),
		"span.id", tracing.SpanID(),
	}
	if env != "" {
		kv = append(kv, "env", env)
	}
	return log.With(&levelFilter{next: log.NewStdLogger(w), min: lvl}, kv...)
}
