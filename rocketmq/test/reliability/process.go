package reliability

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a running child process whose output (stdout and stderr) is kept, so a test
// can wait for a line, kill it, and show what it printed when the test fails.
type Proc struct {
	name   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	watch  []*lineWatch
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

type lineWatch struct {
	re *regexp.Regexp
	ch chan []string
}

// StartProc runs bin with args and env added to the test's environment; the process is
// killed at cleanup if it still runs.
func StartProc(t testing.TB, name, bin string, env []string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &Proc{name: name, cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.out.WriteString(line + "\n")
			for _, w := range p.watch {
				if m := w.re.FindStringSubmatch(line); m != nil {
					select {
					case w.ch <- m:
					default:
					}
				}
			}
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		_ = pw.Close()
		<-scanned // Exited promises the whole output
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("output of %s (last 4 KiB):\n%s", name, tail(p.Output(), 4096))
		}
	})
	return p
}

// Exited is closed when the process has ended and all it printed is in Output; Err then
// says how it ended.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Err is what waiting for the process returned (nil: exit status 0); read it after
// Exited is closed.
func (p *Proc) Err() error { return p.err }

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Output returns everything the process printed so far.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// WaitLine waits for an output line matching re (also one printed already) and returns
// its submatches; it fails t when the process exits first or d passes.
func (p *Proc) WaitLine(t testing.TB, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	w := &lineWatch{re: re, ch: make(chan []string, 1)}
	p.mu.Lock()
	sc := bufio.NewScanner(bytes.NewReader(p.out.Bytes()))
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			p.mu.Unlock()
			return m
		}
	}
	p.watch = append(p.watch, w)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		for i, x := range p.watch {
			if x == w {
				p.watch = append(p.watch[:i], p.watch[i+1:]...)
				break
			}
		}
		p.mu.Unlock()
	}()
	select {
	case m := <-w.ch:
		return m
	case <-p.exited:
		t.Fatalf("%s exited (%v) before printing a line matching %s:\n%s", p.name, p.err, re, tail(p.Output(), 4096))
	case <-time.After(d):
		t.Fatalf("%s printed no line matching %s within %s:\n%s", p.name, re, d, tail(p.Output(), 4096))
	}
	return nil
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still running 30s after SIGKILL", p.name)
	}
}

// Stop sends SIGTERM and returns the exit code, failing t after d. A -race build that
// exits RaceExitCode having reported only races inside rocketmq-client-go (ClientRaces)
// counts as 0, with the reports logged; a race with an access in any other code keeps
// RaceExitCode.
func (p *Proc) Stop(t testing.TB, d time.Duration) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	code := p.Wait(t, d)
	if code == RaceExitCode {
		if reports, ok := ClientRaces(p.Output()); ok {
			t.Logf("%s: %d data race(s) inside rocketmq-client-go, not ours (exit code %d taken as 0):\n%s",
				p.name, len(reports), code, strings.Join(reports, "\n"))
			return 0
		}
	}
	return code
}

// Wait returns the exit code once the process ends, failing t after d.
func (p *Proc) Wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("%s still running after %s:\n%s", p.name, d, tail(p.Output(), 4096))
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}
