//go:build !race

// The client's consume-timeout cleaner reads a process queue's message tree without its
// lock while the pull loop writes it (consumer/process_queue.go cleanExpiredMsg vs
// putMessage), which the race detector reports as soon as the timeout fires. make test
// runs this file in its -run NoRace pass.

package reliability

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// TestNoRaceHandlerSlowerThanConsumeTimeout: every 4th handler runs three times the
// consume timeout on its first delivery. The client hands such a message back to the
// broker and it comes again while the first run still goes on; both runs finish. Every
// message must be confirmed (some twice: the handlers of the app are idempotent), none
// dead-lettered, none lost.
func TestNoRaceHandlerSlowerThanConsumeTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	n := Pick(40, 200)
	var slowDone atomic.Int32
	c := runFault(t, faultCase{
		name: "slow",
		n:    n,
		handle: func(ctx context.Context, i, attempt int) error {
			if attempt == 1 && i%4 == 0 {
				defer slowDone.Add(1)
				select {
				case <-time.After(3 * timeout):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		},
		dlq:  func(int) bool { return false },
		opts: []broker.SubscribeOption{rmq.WithConsumeTimeout(timeout)},
	})
	// The redelivery may be confirmed before the slow first run ends.
	poll.Until(t, 30*time.Second, "the slow first runs to end", func() bool { return int(slowDone.Load()) == (n+3)/4 })
	t.Logf("slow, after the late runs ended: %s", c.Figures())
	c.mu.Lock()
	redelivered := 0
	for i := 0; i < n; i += 4 {
		if c.confirmed[key(i)] > 1 {
			redelivered++
		}
	}
	c.mu.Unlock()
	// The fault must have happened: a slow message handled once was never timed out.
	if redelivered == 0 {
		t.Errorf("no slow message was redelivered: the consume timeout did not fire (%s)", c.Figures())
	}
}
