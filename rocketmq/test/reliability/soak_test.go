//go:build soak

// The soak test runs for minutes; make soak builds it (-tags soak). It is not part of
// make test or CI.

package reliability

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/middleware/recovery"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// Soak settings; RELIABILITY_SOAK_DURATION (a Go duration) shortens or lengthens a run.
const (
	soakRate     = 100              // messages per second
	soakInterval = 30 * time.Second // between samples
	// Growth allowed over the run, fitted by least squares after the warm-up sample.
	maxRSSSlope       = 1 << 20 // bytes per minute
	maxGoroutineSlope = 1.0     // goroutines per minute
)

// TestSoak sends keyed messages at a fixed rate for 10 minutes from a producer to a
// Kratos transport server in this process, through a cmd/minirocketmq child process
// with a data directory (so the broker's store is not in the measured process). Every
// 30 s it logs this process's RSS, heap and goroutines; it fails on any lost message,
// or when RSS or goroutines grow faster than the allowed slope.
func TestSoak(t *testing.T) {
	d := 10 * time.Minute
	if v := os.Getenv("RELIABILITY_SOAK_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	bc := NewBrokerChild(t, builds.Binary(t, "../..", "./cmd/minirocketmq"))
	bc.Start(t)
	ns := bc.NameServer()
	topic, group := rmqtest.Name(t, "soak"), rmqtest.Name(t, "soakc")
	EnsureTopics(t, ns, topic)
	// Accounting in arrays allocated up front, so that the test's own bookkeeping does
	// not grow the heap it measures: message i is sent[i] (acknowledged) and
	// consumed[i] (handled, how often).
	total := int(d.Seconds() * soakRate)
	sent, consumed := make([]atomic.Uint32, total), make([]atomic.Uint32, total)
	var failed atomic.Int64
	figures := func() string {
		var ns, nc, lost, dups int
		for i := range sent {
			c := int(consumed[i].Load())
			if sent[i].Load() > 0 {
				ns++
				if c == 0 {
					lost++
				}
			}
			if c > 0 {
				nc++
				dups += c - 1
			}
		}
		return fmt.Sprintf("sent=%d consumed=%d dlq=0 lost=%d (duplicates %d, failed sends %d)", ns, nc, lost, dups, failed.Load())
	}
	lostCount := func() int {
		n := 0
		for i := range sent {
			if sent[i].Load() > 0 && consumed[i].Load() == 0 {
				n++
			}
		}
		return n
	}
	srv := rocketmq.NewServer(rocketmq.DriverTypeV2, rocketmq.WithNameServer([]string{ns}),
		rocketmq.WithLogger(Logger()), rocketmq.WithEnableKeepAlive(false), rocketmq.WithMiddleware(recovery.Recovery()))
	err := rocketmq.RegisterSubscriber(srv, context.Background(), topic, group,
		func(_ context.Context, _ string, _ broker.Headers, j *Job) error {
			if j.N < 0 || j.N >= total {
				return fmt.Errorf("message number %d out of range", j.N)
			}
			consumed[j.N].Add(1)
			return nil
		}, rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	p := NewProducer(t, ns, rmq.WithSendTimeout(3*time.Second))

	type sample struct {
		at         time.Duration
		rss, heap  uint64
		goroutines int
	}
	var samples []sample
	take := func(at time.Duration) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := sample{at: at, rss: rss(t, os.Getpid()), heap: ms.HeapInuse, goroutines: runtime.NumGoroutine()}
		samples = append(samples, s)
		t.Logf("%6s  rss %7.1f MiB  heap %6.1f MiB  goroutines %4d  broker rss %6.1f MiB  %s",
			at.Round(time.Second), mib(s.rss), mib(s.heap), s.goroutines, mib(rss(t, bc.Proc().Pid())), figures())
	}

	start := time.Now()
	tick := time.NewTicker(time.Second / soakRate)
	defer tick.Stop()
	next := soakInterval
	take(0)
	for i := 0; i < total; i++ { // bounded: rate × duration sends
		<-tick.C
		k := "s-" + strconv.Itoa(i)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := p.Publish(ctx, topic, &Job{Key: k, N: i}, rmq.WithKeys([]string{k}))
		cancel()
		if err != nil {
			failed.Add(1)
		} else {
			sent[i].Store(1)
		}
		if el := time.Since(start); el >= next {
			take(el)
			next += soakInterval
		}
	}
	poll.Until(t, 2*time.Minute, "every acknowledged message to be consumed", func() bool { return lostCount() == 0 })
	take(time.Since(start))
	if n := failed.Load(); n > 0 {
		t.Errorf("%d sends failed on an undisturbed loopback", n)
	}
	if len(samples) < 4 {
		t.Logf("too few samples (%d) for a slope; run longer", len(samples))
		return
	}
	// Fit after the warm-up sample (connections, caches and pools fill in the first 30 s).
	fit := samples[1:]
	xs := make([]float64, len(fit))
	rs, gs := make([]float64, len(fit)), make([]float64, len(fit))
	for i, s := range fit {
		xs[i], rs[i], gs[i] = s.at.Minutes(), float64(s.rss), float64(s.goroutines)
	}
	rssSlope, gSlope := slope(xs, rs), slope(xs, gs)
	t.Logf("soak %s at %d msg/s: %s; RSS slope %+.1f KiB/min (limit %d), goroutine slope %+.2f/min (limit %.1f)",
		d, soakRate, figures(), rssSlope/1024, maxRSSSlope/1024, gSlope, maxGoroutineSlope)
	if rssSlope > maxRSSSlope {
		t.Errorf("RSS grows %.1f KiB/min, more than %d KiB/min", rssSlope/1024, maxRSSSlope/1024)
	}
	if gSlope > maxGoroutineSlope {
		t.Errorf("goroutines grow %.2f/min, more than %.1f/min", gSlope, maxGoroutineSlope)
	}
}

// rss reads VmRSS of a process in bytes.
func rss(t testing.TB, pid int) uint64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read RSS: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("parse VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}
