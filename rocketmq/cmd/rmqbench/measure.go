package main

import (
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"sync/atomic"
	"time"
)

// How raw and ours are compared. Both run in this process against the same broker
// with the same bodies, one at a time, in alternating turns: raw then ours in one
// round, ours then raw in the next, and so on. A turn is short (a fraction of a second
// to a few seconds), so load from the rest of a shared machine, which changes over
// seconds, falls on both sides alike. Each round gives one ratio ours ÷ raw of the two
// turns' rates; the ratio reported is the median over the rounds, with their range
// next to it, and the absolute rates are all messages over all time of each side.
// (Running both sides at the same time was tried first: the Go scheduler then keeps
// whichever side's request/response chain is hot on the CPU, and an A/A comparison
// of the raw client with itself came out anywhere between 0.8 and 1.25.)
//
// Each turn also records the process's CPU time (getrusage): the process holds only
// the clients (the embedded broker runs in a child process, child.go), so this is the
// clients' CPU per message. A busy machine disturbs it much less than wall time: in
// A/A runs (the raw client against itself, the "control" row of table 1) the
// rounds' wall-clock ratios ranged over 0.4-2.5 and their medians over 0.84-1.29, the
// CPU ratios over 0.94-1.06. So the throughput goals are checked on messages per CPU
// second (ours ÷ raw = raw's CPU per message ÷ ours'), which is the throughput ratio of
// a service whose CPU is the limit; the wall-clock ratio is printed next to it. The
// latency goal is checked on wall-clock percentiles.

// side is one side's work for a turn: it runs until ctx is done, calls done(n)
// whenever n more messages completed, and returns once nothing it started is in flight.
type side func(ctx context.Context, done func(n int)) error

var sideNames = [2]string{"raw", "ours"}

// rounds collects the turns of both sides (index 0 raw, 1 ours).
type rounds struct {
	msgs   [2]int64
	wall   [2]time.Duration
	cpu    [2]time.Duration
	ratios []float64
	rates  [2][]float64 // every turn's rate
	last   [2]float64   // rates of the current round's turns; 0 until taken
}

// add records one turn of side i: msgs messages in wall time using cpu.
func (r *rounds) add(i int, msgs int64, wall, cpu time.Duration) {
	r.msgs[i] += msgs
	r.wall[i] += wall
	r.cpu[i] += cpu
	r.last[i] = float64(msgs) / wall.Seconds()
	r.rates[i] = append(r.rates[i], r.last[i])
	if r.last[0] > 0 && r.last[1] > 0 {
		r.ratios = append(r.ratios, r.last[1]/r.last[0])
		r.last = [2]float64{}
	}
}

// rate is side i's messages per second over all its turns.
func (r *rounds) rate(i int) float64 { return float64(r.msgs[i]) / r.wall[i].Seconds() }

// wallRatio is the median of the rounds' ratios ours ÷ raw of messages per second.
func (r *rounds) wallRatio() float64 {
	s := slices.Sorted(slices.Values(r.ratios))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is the range of the rounds' wall-clock ratios, e.g. "0.91–1.04".
func (r *rounds) spread() string {
	if len(r.ratios) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f–%.2f", slices.Min(r.ratios), slices.Max(r.ratios))
}

// cpuPerMsg is side i's process CPU time per message in µs; 0 where CPU time cannot
// be read.
func (r *rounds) cpuPerMsg(i int) float64 {
	if r.cpu[i] <= 0 || r.msgs[i] == 0 {
		return 0
	}
	return float64(r.cpu[i]) / float64(time.Microsecond) / float64(r.msgs[i])
}

// cpuRatio is ours ÷ raw of messages per CPU second (raw's CPU per message over
// ours'); 0 where CPU time cannot be read.
func (r *rounds) cpuRatio() float64 {
	if r.cpuPerMsg(0) == 0 || r.cpuPerMsg(1) == 0 {
		return 0
	}
	return r.cpuPerMsg(0) / r.cpuPerMsg(1)
}

// alternate runs a warm-up turn of each side, then n rounds of one turn each,
// alternating which side goes first.
func alternate(ctx context.Context, n int, warmup, turn time.Duration, raw, ours side) (*rounds, error) {
	sides := [2]side{raw, ours}
	for i := range 2 {
		if _, _, _, err := runTurn(ctx, i, warmup, sides[i]); err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", sideNames[i], err)
		}
	}
	r := &rounds{}
	for k := range n {
		for _, i := range turnOrder(k) {
			msgs, wall, cpu, err := runTurn(ctx, i, turn, sides[i])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sideNames[i], err)
			}
			r.add(i, msgs, wall, cpu)
		}
	}
	return r, nil
}

// turnOrder is the order of the sides in round k: raw first in even rounds.
func turnOrder(k int) [2]int {
	if k%2 == 1 {
		return [2]int{1, 0}
	}
	return [2]int{0, 1}
}

// runTurn runs s for d (labelled side=raw|ours for profiles) and returns what it
// completed, the wall time until it returned and the process CPU time meanwhile.
func runTurn(ctx context.Context, i int, d time.Duration, s side) (msgs int64, wall, cpu time.Duration, err error) {
	var count atomic.Int64
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	c0, t0 := cpuTime(), time.Now()
	pprof.Do(tctx, pprof.Labels("side", sideNames[i]), func(tctx context.Context) {
		err = s(tctx, func(n int) { count.Add(int64(n)) })
	})
	wall, cpu = time.Since(t0), cpuTime()-c0
	if err == nil {
		err = ctx.Err()
	}
	if err == nil && count.Load() == 0 {
		err = fmt.Errorf("no message completed in %v", d)
	}
	return count.Load(), wall, cpu, err
}

// percentiles returns the p-quantiles of ds (sorted in place), nearest rank.
func percentiles(ds []time.Duration, ps ...float64) []time.Duration {
	slices.Sort(ds)
	out := make([]time.Duration, len(ps))
	if len(ds) == 0 {
		return out
	}
	for i, p := range ps {
		k := int(p*float64(len(ds))+0.5) - 1
		out[i] = ds[min(max(k, 0), len(ds)-1)]
	}
	return out
}
