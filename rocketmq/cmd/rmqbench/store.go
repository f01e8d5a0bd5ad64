package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/admin"
)

// Scenario 4: what the broker sustains, by body size and store: messages sent with
// SendSync from 16 goroutines, then drained by one push consumer, raw client on both
// ends. Bodies are random bytes (incompressible) and the client's compression of
// bodies ≥ 4 KiB is off, so MB/s is body bytes through the broker. On the embedded
// broker each store gets a fresh broker process (data directories in a temp dir);
// against ROCKETMQ_NAMESRV the cluster's own store is measured.

const storeSenders = 16

var storeBodySizes = []int{128, 1024, 16 << 10}

// storeKinds are the embedded broker's stores: the child spec of each (see
// childOptions; %s is a data directory).
var storeKinds = []struct{ name, spec string }{
	{"memory", "memory"},
	{"disk ASYNC_FLUSH", "ASYNC_FLUSH:%s"},
	{"disk SYNC_FLUSH", "SYNC_FLUSH:%s"},
}

func runStore(ctx context.Context, e *env) ([]*table, error) {
	t := &table{
		title:  "4. Broker: produce (SendSync ×16) then consume (one push consumer), by body size and store",
		header: []string{"body", "store", "messages", "produce msg/s", "produce MB/s", "consume msg/s", "consume MB/s"},
		notes: []string{"Raw client on both ends; random (incompressible) bodies, client compression off. " +
			"Consume is timed from the first delivery to the last. Compare rows of one run only."},
	}
	if e.embedded == nil {
		for _, size := range storeBodySizes {
			if err := storeRow(ctx, t, e.ns, "the cluster's own", size, e.cfg.storeMessages[size]); err != nil {
				return nil, err
			}
		}
		return []*table{t}, nil
	}
	for _, k := range storeKinds {
		dir, err := os.MkdirTemp("", "rmqbench-store-")
		if err != nil {
			return nil, err
		}
		spec := k.spec
		if strings.Contains(spec, "%s") {
			spec = fmt.Sprintf(spec, dir)
		}
		c, err := startChild(spec)
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("start broker with %s: %w", k.name, err)
		}
		for _, size := range storeBodySizes {
			if err = storeRow(ctx, t, c.addr, k.name, size, e.cfg.storeMessages[size]); err != nil {
				break
			}
		}
		_ = c.stop()
		_ = os.RemoveAll(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.name, err)
		}
	}
	return []*table{t}, nil
}

// storeRow produces and consumes n messages of size bytes on ns and adds the row.
func storeRow(ctx context.Context, t *table, ns, store string, size, n int) error {
	topic := name("store")
	if err := ensureTopics(ctx, ns, topic); err != nil {
		return err
	}
	body := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{byte(size)})
	_, _ = rng.Read(body)
	p, err := newRawProducer(ns, producer.WithCompressMsgBodyOverHowmuch(1<<30))
	if err != nil {
		return err
	}
	produced, err := produce(p, topic, n, body)
	_ = p.Shutdown()
	if err != nil {
		return fmt.Errorf("produce %d B: %w", size, err)
	}
	consumed, err := drain(ctx, ns, topic, n)
	if err != nil {
		return fmt.Errorf("consume %d B: %w", size, err)
	}
	mb := float64(size) / (1 << 20)
	t.row(sizeName(size), store, groupDigits(int64(n)),
		rate(produced), mbps(produced*mb), rate(consumed), mbps(consumed*mb))
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return admin.DeleteTopics(dctx, []string{ns}, []string{topic})
}

// produce sends n messages with SendSync from storeSenders goroutines; it returns msg/s.
func produce(p rocketmq.Producer, topic string, n int, body []byte) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, storeSenders)
	start := time.Now()
	for range storeSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if _, err := p.SendSync(context.Background(), primitive.NewMessage(topic, body)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}

// drain consumes topic from its first message with a new group until n messages
// arrived; it returns msg/s from the first delivery to the last.
func drain(ctx context.Context, ns, topic string, n int) (float64, error) {
	c, err := newRawConsumer(ns, consumer.ConsumeFromFirstOffset)
	if err != nil {
		return 0, err
	}
	var got atomic.Int64
	var first, last atomic.Int64 // unix ns
	done := make(chan struct{})
	err = c.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"},
		func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			now := time.Now().UnixNano()
			first.CompareAndSwap(0, now)
			if k := got.Add(int64(len(msgs))); k >= int64(n) && k-int64(len(msgs)) < int64(n) {
				last.Store(now)
				close(done)
			}
			return consumer.ConsumeSuccess, nil
		})
	if err != nil {
		return 0, err
	}
	if err := c.Start(); err != nil {
		return 0, err
	}
	started := time.Now()
	defer shutdownConsumer(c, started)
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(time.Minute + time.Duration(n)*time.Millisecond):
		return 0, fmt.Errorf("%d of %d messages consumed", got.Load(), n)
	}
	secs := time.Duration(last.Load() - first.Load()).Seconds()
	if secs <= 0 {
		return 0, fmt.Errorf("%d messages arrived in one delivery: nothing to time", n)
	}
	return float64(n-1) / secs, nil
}

func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}
