package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

// The embedded broker runs in a process of its own, this program started again in
// child mode: the measured process then holds only clients, so its CPU time is the
// clients' alone and the broker's memory and garbage collection do not disturb them,
// as with a broker on another machine. The machine's cores are still shared.

// childEnv switches this program into child mode: it runs a broker on free loopback
// ports with the store the value names (see childOptions), prints "ready <name server
// address> <gRPC address or nothing>" and serves until its stdin is closed.
const childEnv = "RMQBENCH_BROKER"

// childOptions reads a child's store spec: "memory", or "ASYNC_FLUSH:<data dir>" or
// "SYNC_FLUSH:<data dir>"; "+grpc" at the end also serves the RocketMQ 5 gRPC API.
func childOptions(spec string) ([]minirocketmq.Option, error) {
	var opts []minirocketmq.Option
	if s, ok := strings.CutSuffix(spec, "+grpc"); ok {
		spec = s
		opts = append(opts, minirocketmq.WithGRPCAddr("127.0.0.1:0"))
	}
	if spec == "memory" {
		return opts, nil
	}
	flush, dir, ok := strings.Cut(spec, ":")
	if !ok || dir == "" {
		return nil, fmt.Errorf("store %q: want memory or <flush type>:<data dir>", spec)
	}
	t, err := minirocketmq.ParseFlushDiskType(flush)
	if err != nil {
		return nil, err
	}
	return append(opts, minirocketmq.WithDataDir(dir), minirocketmq.WithFlushDiskType(t)), nil
}

func childBroker(spec string) int {
	opts, err := childOptions(spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rmqbench broker:", err)
		return 1
	}
	b, err := minirocketmq.Run(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rmqbench broker:", err)
		return 1
	}
	fmt.Printf("ready %s %s\n", b.Addr(), b.GRPCAddr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := b.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "rmqbench broker:", err)
		return 1
	}
	return 0
}

// child is a broker process started by startChild.
type child struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	addr      string
	grpc      string // the gRPC endpoint ("+grpc" specs)
	started   time.Time
	listening time.Duration // process start → "ready"
}

func startChild(spec string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-test.run=^$") // the flag keeps a test binary from running tests
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, started: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		addrs, ok := strings.CutPrefix(strings.TrimSpace(s), "ready ")
		if !ok {
			_ = c.stop()
			return nil, fmt.Errorf("broker process said %q", s)
		}
		c.addr, c.grpc, _ = strings.Cut(addrs, " ")
		c.listening = time.Since(c.started)
		return c, nil
	case <-time.After(time.Minute):
		_ = c.stop()
		return nil, errors.New("broker process not ready after a minute")
	}
}

// firstSend returns the time from process start until a new producer's first send
// to a new topic was accepted.
func (c *child) firstSend() (time.Duration, error) {
	p, err := newRawProducer(c.addr)
	if err != nil {
		return 0, err
	}
	defer func() { _ = p.Shutdown() }()
	topic := name("start")
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := p.SendSync(context.Background(), primitive.NewMessage(topic, []byte("first")))
		if err == nil {
			return time.Since(c.started), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("first send: %w", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop closes the child's stdin and waits for it to exit (killing it after 30 s).
func (c *child) stop() error {
	_ = c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		return errors.Join(errors.New("broker process did not stop; killed"), <-done)
	}
}

// rss returns the child's resident set (VmRSS) and its peak (VmHWM), in bytes.
func (c *child) rss() (cur, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			cur = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	if cur == 0 {
		return 0, 0, errors.New("no VmRSS in /proc/<pid>/status")
	}
	return cur, peak, nil
}
