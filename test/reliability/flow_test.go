package reliability

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/middleware/recovery"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// flow is keyed traffic on one topic: publishers sending one message after the other
// each, and a Kratos transport server consuming, all counted in tally. A send counts as
// sent only once the broker acknowledged it.
type flow struct {
	tally  *tally
	seq    atomic.Int64 // sends attempted
	failed atomic.Int64 // sends that returned an error
	stop   func()       // stops the publishers (idempotent)
	srv    *rocketmq.Server
}

// startFlow creates topic on ns and starts the consumer (group) and publishers.
func startFlow(t testing.TB, ns, topic, group string, publishers int) *flow {
	t.Helper()
	ensureTopics(t, ns, topic)
	f := &flow{tally: newTally()}
	srv := rocketmq.NewServer(rocketmq.DriverTypeV2,
		rocketmq.WithNameServer([]string{ns}),
		rocketmq.WithLogger(testLogger()),
		rocketmq.WithEnableKeepAlive(false),
		rocketmq.WithInstanceName(rmqtest.Name(t, "consumer")),
		rocketmq.WithMiddleware(recovery.Recovery()))
	err := rocketmq.RegisterSubscriber(srv, context.Background(), topic, group,
		func(_ context.Context, _ string, _ broker.Headers, j *job) error {
			f.tally.addDelivery()
			f.tally.addConfirmed(j.Key)
			return nil
		}, rmq.WithConsumeFromFirst(), rmq.WithRetryDelayLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop the consumer: %v", err)
		}
	})
	p := newProducer(t, ns, rmq.WithSendTimeout(2*time.Second))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < publishers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				k := fmt.Sprintf("m-%06d", f.seq.Add(1))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := p.Publish(ctx, topic, &job{Key: k}, rmq.WithKeys([]string{k}))
				cancel()
				if err != nil {
					f.failed.Add(1)
					continue
				}
				f.tally.addSent(k)
			}
		}()
	}
	f.stop = sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(f.stop)
	return f
}

// consumed returns how many distinct keys were consumed so far.
func (f *flow) consumed() int {
	f.tally.mu.Lock()
	defer f.tally.mu.Unlock()
	return len(f.tally.confirmed)
}
