// Command rmqbench measures this project's RocketMQ stack against the raw
// rocketmq-client-go/v2 client on the same broker, in the same process and the
// same run, prints a table and writes it to bench/results.md.
//
//	make bench                                    # go run ./cmd/rmqbench -short (about 2 min)
//	make bench-full                               # 100,000-message drains, longer windows
//	go run ./cmd/rmqbench -short -run consume -cpuprofile cpu.out
//	ROCKETMQ_NAMESRV=127.0.0.1:9876 go run ./cmd/rmqbench -short -o bench/results-rocketmq-4.9.4.md
//
// The broker is the embedded one (minirocketmq, in this process) unless
// ROCKETMQ_NAMESRV names a cluster. Scenarios, one file each (-run picks some):
//
//	publish  publish.go  raw producer vs broker Publish: SendSync ×1/×4/×16, async, batch of 32
//	consume  consume.go  raw push consumer vs the transport server draining pre-produced messages
//	latency  latency.go  send → handler latency at a fixed offered rate, both paths
//	store    store.go    broker produce+consume by body size and store (memory, ASYNC_FLUSH, SYNC_FLUSH)
//	startup  startup.go  broker process start → first accepted send; RSS after storing messages
//	v5       v5.go       the RocketMQ 5 driver (gRPC) beside the raw v2 client and our v2 stack:
//	                     publish and consume, as ratios v5 ÷ raw v2 and v5 ÷ our v2
//
// How to read it: on a shared machine absolute figures move with everybody
// else's load, so raw and ours always run at the same time, against the same
// broker, with the same bodies, and the figure that counts is the ratio
// ours ÷ raw next to its goal (✓ or ✗). See measure.go for how a window is
// timed. -cpuprofile and -memprofile write profiles of the run; samples carry
// the labels side=raw|ours and scenario=<name> (go tool pprof -tagfocus).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

func main() {
	if spec, ok := os.LookupEnv(childEnv); ok {
		os.Exit(childBroker(spec)) // scenario startup runs the broker in a child process
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rmqbench:", err)
		os.Exit(1)
	}
}

// scenario is one part of the run; it adds its tables to the report.
type scenario struct {
	name string
	run  func(ctx context.Context, e *env) ([]*table, error)
}

var scenarios = []scenario{
	{"publish", runPublish},
	{"consume", runConsume},
	{"latency", runLatency},
	{"store", runStore},
	{"startup", runStartup},
	{"v5", runV5},
}

// run parses args, runs the selected scenarios, prints the report to stdout and
// writes it to the -o file; progress lines go to progress.
func run(ctx context.Context, args []string, stdout, progress io.Writer) error {
	fs := flag.NewFlagSet("rmqbench", flag.ContinueOnError)
	fs.SetOutput(progress)
	short := fs.Bool("short", false, "short mode: smaller counts and windows, about 2 minutes")
	out := fs.String("o", "bench/results.md", "write the report (Markdown) to this file; empty: stdout only")
	only := fs.String("run", "", "comma-separated scenarios to run (publish,consume,latency,store,startup,v5); empty: all")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of the run to this file")
	rate := fs.Int("rate", 0, "offered rate of the latency scenario, msg/s per path (default 1000)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := fullConfig()
	if *short {
		cfg = shortConfig()
	}
	if *rate > 0 {
		cfg.latencyRate = *rate
	}
	sel, err := selectScenarios(*only)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench(ctx, cfg, sel, progress)
	if err != nil {
		return err
	}
	if *memProfile != "" {
		if err := writeHeapProfile(*memProfile); err != nil {
			return err
		}
	}
	fmt.Fprint(stdout, rep.text())
	if *out != "" {
		if err := rep.writeMarkdown(*out); err != nil {
			return err
		}
		fmt.Fprintf(progress, "rmqbench: report written to %s\n", *out)
	}
	return nil
}

func selectScenarios(only string) ([]scenario, error) {
	if strings.TrimSpace(only) == "" {
		return scenarios, nil
	}
	var sel []scenario
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, s := range scenarios {
			if s.name == name {
				sel, found = append(sel, s), true
			}
		}
		if !found {
			return nil, fmt.Errorf("-run: unknown scenario %q (known: publish, consume, latency, store, startup, v5)", name)
		}
	}
	return sel, nil
}

// bench runs sel with cfg and returns the report; it is what the smoke test calls.
func bench(ctx context.Context, cfg config, sel []scenario, progress io.Writer) (*report, error) {
	start := time.Now()
	e, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rep := newReport(cfg, e)
	for i, s := range sel {
		fmt.Fprintf(progress, "rmqbench: [%d/%d] %s ... (%.0fs elapsed)\n", i+1, len(sel), s.name, time.Since(start).Seconds())
		t0 := time.Now()
		var tables []*table
		pprof.Do(ctx, pprof.Labels("scenario", s.name), func(ctx context.Context) {
			tables, err = s.run(ctx, e)
		})
		if err == nil {
			err = e.dropTopics(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.name, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, errors.Join(fmt.Errorf("scenario %s interrupted", s.name), err)
		}
		rep.tables = append(rep.tables, tables...)
		fmt.Fprintf(progress, "rmqbench: [%d/%d] %s done in %.1fs\n", i+1, len(sel), s.name, time.Since(t0).Seconds())
	}
	rep.finish(time.Since(start))
	return rep, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(f)
}
