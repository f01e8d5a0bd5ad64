//go:build !race

// The client's Shutdown closes each process queue's message channel while a pull
// goroutine may still send to it (consumer/consumer.go shutdown vs process_queue.go
// putMessage, the send is outside the queue's lock): the race detector reports it
// whenever a consumer is stopped with fetched messages not yet handed to a handler,
// which is what a forced stop is. make test runs this file in its -run NoRace pass.

package reliability

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

// TestNoRaceStopForcedLeaksNothing: Stop's deadline passes while a handler is blocked;
// the server cancels the handler's context, shuts down and leaves nothing running.
func TestNoRaceStopForcedLeaksNothing(t *testing.T) {
	checkStopPath(t, func(t *testing.T, b *minirocketmq.Broker) {
		running := make(chan struct{}, 5)
		srv := newLeakServer(t, b.Addr(), func(ctx context.Context, _ string, _ broker.Headers, _ *Job) error {
			running <- struct{}{}
			<-ctx.Done() // until the forced stop cancels it
			return ctx.Err()
		})
		<-running
		if err := srv.Stop(stopCtx(t, 200*time.Millisecond)); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
	})
}
