package minirocketmq

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/clock"
)

// Clock is the broker's source of message time: store timestamps, and (for
// the features that build on it) delay levels, retry back-off, transaction
// check intervals and pop consumption's invisible durations. Network timing
// (long-polling holds, idle client expiry) always uses real time, because
// the clients' own timeouts do. It is clock.Clock, shared with the pop
// engine.
type Clock = clock.Clock

// Timer is a pending AfterFunc call (clock.Timer).
type Timer = clock.Timer

// SystemClock returns the Clock backed by package time, the default.
func SystemClock() Clock { return clock.System() }

// ManualClock is a Clock that moves only when told to, for tests of
// time-driven behaviour (miniredis' FastForward): clock.Manual. Timers fire
// from Advance and Set, in due order, on the caller's goroutine.
type ManualClock = clock.Manual

// NewManualClock returns a ManualClock showing start.
func NewManualClock(start time.Time) *ManualClock { return clock.NewManual(start) }
