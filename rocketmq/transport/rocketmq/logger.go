package rocketmq

import (
	"fmt"

	"github.com/go-kratos/kratos/v2/log"
)

// logKey is the key the Log* functions log their message under.
const logKey = "rocketmq"

// The Log* functions log through Kratos' global logger (log.GetLogger), as the
// reference package does. The Server itself logs through WithLogger's logger.
// LogFatal and LogFatalf log at fatal level and, like the reference, do not exit.

// LogDebug logs args at debug level.
func LogDebug(args ...any) { logAt(log.LevelDebug, fmt.Sprint(args...)) }

// LogInfo logs args at info level.
func LogInfo(args ...any) { logAt(log.LevelInfo, fmt.Sprint(args...)) }

// LogWarn logs args at warn level.
func LogWarn(args ...any) { logAt(log.LevelWarn, fmt.Sprint(args...)) }

// LogError logs args at error level.
func LogError(args ...any) { logAt(log.LevelError, fmt.Sprint(args...)) }

// LogFatal logs args at fatal level without exiting.
func LogFatal(args ...any) { logAt(log.LevelFatal, fmt.Sprint(args...)) }

// LogDebugf logs a formatted message at debug level.
func LogDebugf(format string, args ...any) { logAt(log.LevelDebug, fmt.Sprintf(format, args...)) }

// LogInfof logs a formatted message at info level.
func LogInfof(format string, args ...any) { logAt(log.LevelInfo, fmt.Sprintf(format, args...)) }

// LogWarnf logs a formatted message at warn level.
func LogWarnf(format string, args ...any) { logAt(log.LevelWarn, fmt.Sprintf(format, args...)) }

// LogErrorf logs a formatted message at error level.
func LogErrorf(format string, args ...any) { logAt(log.LevelError, fmt.Sprintf(format, args...)) }

// LogFatalf logs a formatted message at fatal level without exiting.
func LogFatalf(format string, args ...any) { logAt(log.LevelFatal, fmt.Sprintf(format, args...)) }

func logAt(level log.Level, msg string) {
	_ = log.GetLogger().Log(level, logKey, msg)
}
