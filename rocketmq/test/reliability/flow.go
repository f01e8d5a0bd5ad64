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

// Job is the payload of the keyed traffic: Key names the message in a Tally.
type Job struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// Flow is keyed traffic on one topic: publishers sending one message after the other
// each, and a Kratos transport server consuming, all counted in Tally. A send counts as
// sent only once the broker acknowledged it.
type Flow struct {
	Tally  *Tally
	Seq    atomic.Int64 // sends attempted
	Failed atomic.Int64 // sends that returned an error
	stop   func()       // stops the publishers (idempotent)
}

// StartFlow creates topic on ns and starts the consumer (group) and publishers; both
// stop at cleanup.
func StartFlow(t testing.TB, ns, topic, group string, publishers int) *Flow {
	t.Helper()
	EnsureTopics(t, ns, topic)
	f := &Flow{Tally: NewTally()}
	srv := rocketmq.NewServer(rocketmq.DriverTypeV2,
		rocketmq.WithNameServer([]string{ns}),
		rocketmq.WithLogger(Logger()),
		rocketmq.WithEnableKeepAlive(false),
		rocketmq.WithInstanceName(rmqtest.Name(t, "consumer")),
		rocketmq.WithMiddleware(recovery.Recovery()))
	err := rocketmq.RegisterSubscriber(srv, context.Background(), topic, group,
		func(_ context.Context, _ string, _ broker.Headers, j *Job) error {
			f.Tally.AddDelivery()
			f.Tally.AddConfirmed(j.Key)
			return nil
		}, rmq.WithConsumeFromFirst(), rmq.WithRetryDelayLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop the consumer: %v", err)
		}
	})
	p := NewProducer(t, ns, rmq.WithSendTimeout(2*time.Second))
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
				k := fmt.Sprintf("m-%06d", f.Seq.Add(1))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := p.Publish(ctx, topic, &Job{Key: k}, rmq.WithKeys([]string{k}))
				cancel()
				if err != nil {
					f.Failed.Add(1)
					continue
				}
				f.Tally.AddSent(k)
			}
		}()
	}
	f.stop = sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(f.stop)
	return f
}

// Stop stops the publishers (the consumer goes on until cleanup); it may be called again.
func (f *Flow) Stop() { f.stop() }

// Consumed returns how many distinct keys were consumed so far.
func (f *Flow) Consumed() int { return f.Tally.Consumed() }
