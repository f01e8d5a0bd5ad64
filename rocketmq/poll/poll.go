// Package poll waits in tests for something that happens in the background: a message
// consumed, a row written, a server ready. It polls a condition every 20 ms until it
// holds or a deadline passes, and then fails the test naming what it waited for:
//
//	poll.Until(t, 30*time.Second, "the order to be CONFIRMED", func() bool {
//		return status(t, id) == "CONFIRMED"
//	})
//
// Wait on a signal (a channel, a condition) this way rather than sleeping a fixed time:
// the test is as fast as the machine allows and as patient as its deadline says.
package poll

import (
	"testing"
	"time"
)

// Interval is how often Until evaluates its condition.
const Interval = 20 * time.Millisecond

// Until calls cond every Interval until it returns true; when within has passed first, it
// fails t with t.Fatalf("timed out after <within> waiting for <what>"). cond runs on the
// calling goroutine, so it may call t.Fatal itself.
func Until(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(Interval)
	}
}
