package rocketmq

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/rocketmq-client-go/v2/rlog"
	"github.com/go-kratos/kratos/v2/log"
)

// The client logs through rlog, which keeps its logger in one package variable that
// every client goroutine reads without synchronisation: calling rlog.SetLogger while any
// client runs is a data race, and the logger learns nothing about which client logged.
// So the driver installs one router, exactly once per process and before it creates its
// first client, and each connected Broker pushes its logger on Connect and removes it on
// Disconnect. Client lines go to the most recently connected Broker's logger at that
// Broker's level, and are dropped while no Broker is connected. This is the one piece of
// process-wide state in the driver; tests that connect several brokers at once see the
// client's lines in the newest broker's logger.
var (
	clientLogs       = &logRouter{}
	installClientLog sync.Once
)

func routeClientLogs() {
	installClientLog.Do(func() { rlog.SetLogger(clientLogs) })
}

type logSink struct {
	logger log.Logger
	level  log.Level
}

type logRouter struct {
	mu    sync.Mutex
	sinks []*logSink
	top   atomic.Pointer[logSink]
}

func (r *logRouter) push(s *logSink) {
	r.mu.Lock()
	r.sinks = append(r.sinks, s)
	r.top.Store(s)
	r.mu.Unlock()
}

func (r *logRouter) remove(s *logSink) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.sinks {
		if x == s {
			r.sinks = append(r.sinks[:i], r.sinks[i+1:]...)
			break
		}
	}
	if n := len(r.sinks); n > 0 {
		r.top.Store(r.sinks[n-1])
	} else {
		r.top.Store(nil)
	}
}

func (r *logRouter) log(level log.Level, msg string, fields map[string]any) {
	s := r.top.Load()
	if s == nil || level < s.level {
		return
	}
	kv := make([]any, 0, 4+2*len(fields))
	kv = append(kv, "module", "rocketmq-client", log.DefaultMessageKey, msg)
	for k, v := range fields {
		kv = append(kv, k, fmt.Sprint(v))
	}
	_ = s.logger.Log(level, kv...)
}

func (r *logRouter) Debug(msg string, fields map[string]any)   { r.log(log.LevelDebug, msg, fields) }
func (r *logRouter) Info(msg string, fields map[string]any)    { r.log(log.LevelInfo, msg, fields) }
func (r *logRouter) Warning(msg string, fields map[string]any) { r.log(log.LevelWarn, msg, fields) }
func (r *logRouter) Error(msg string, fields map[string]any)   { r.log(log.LevelError, msg, fields) }

// Fatal logs at fatal level; unlike rlog's default it does not exit the process.
func (r *logRouter) Fatal(msg string, fields map[string]any) { r.log(log.LevelFatal, msg, fields) }

// Level is ignored: levels are per Broker (broker.WithClientLogLevel).
func (r *logRouter) Level(string) {}

// OutputPath is ignored: output goes to the Kratos logger.
func (r *logRouter) OutputPath(string) error { return nil }
