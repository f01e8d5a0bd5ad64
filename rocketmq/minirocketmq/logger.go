package minirocketmq

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// LogLevel is the severity of a log line.
type LogLevel int8

// Log levels, from quiet to verbose.
const (
	LogLevelNone LogLevel = iota
	LogLevelError
	LogLevelWarn
	LogLevelInfo
	LogLevelDebug
)

// String returns the three-letter level shown in log lines.
func (l LogLevel) String() string {
	switch l {
	case LogLevelError:
		return "ERR"
	case LogLevelWarn:
		return "WRN"
	case LogLevelInfo:
		return "INF"
	case LogLevelDebug:
		return "DBG"
	default:
		return "NON"
	}
}

// Logger receives the broker's log lines. The default discards everything;
// BasicLogger writes text lines; an application passes a small adapter to
// its own logger.
type Logger interface {
	Logf(level LogLevel, format string, args ...any)
}

type nopLogger struct{}

func (nopLogger) Logf(LogLevel, string, ...any) {}

// BasicLogger returns a Logger writing "15:04:05.000 [LVL] message" lines to
// dst for every level up to and including level. Writes are serialised.
func BasicLogger(dst io.Writer, level LogLevel) Logger {
	return &basicLogger{dst: dst, level: level}
}

type basicLogger struct {
	mu    sync.Mutex
	dst   io.Writer
	level LogLevel
}

func (l *basicLogger) Logf(level LogLevel, format string, args ...any) {
	if level > l.level || level == LogLevelNone {
		return
	}
	line := fmt.Sprintf("%s [%s] %s\n", time.Now().Format("15:04:05.000"), level, fmt.Sprintf(format, args...))
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.dst, line)
}

// TestLogger adapts a Tester (testing.T) to a Logger at the given level,
// for RunT(t, WithLogger(TestLogger(t, LogLevelDebug))).
func TestLogger(t interface {
	Logf(format string, args ...any)
}, level LogLevel) Logger {
	return testLogger{t: t, level: level}
}

type testLogger struct {
	t interface {
		Logf(format string, args ...any)
	}
	level LogLevel
}

func (l testLogger) Logf(level LogLevel, format string, args ...any) {
	if level > l.level || level == LogLevelNone {
		return
	}
	l.t.Logf("[%s] "+format, append([]any{level}, args...)...)
}
