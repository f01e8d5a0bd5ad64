package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run the real binary: built once, started per test with its own ports and
// database file, stopped with SIGTERM.

var (
	buildOnce   sync.Once
	appBinary   string
	buildErr    error
	appBuildDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if appBuildDir != "" {
		_ = os.RemoveAll(appBuildDir)
	}
	os.Exit(code)
}

// binary builds the app once per test run (with -race when the tests have it). The
// process tests are skipped with -short: the renamed-copy tests start the binary of each
// copy themselves.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("process test: skipped with -short")
	}
	buildOnce.Do(func() {
		appBuildDir, buildErr = os.MkdirTemp("", "app-test")
		if buildErr != nil {
			return
		}
		appBinary = filepath.Join(appBuildDir, "app")
		args := []string{"build", "-o", appBinary}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build app: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return appBinary
}

// process is a running app.
type process struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	out     bytes.Buffer // stdout and stderr
	lines   chan string
	exited  chan error
	scanned chan struct{} // closed once all output is in out
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// testEnv isolates a run: loopback ports chosen by the kernel, a database in dir.
func testEnv(dir string) []string {
	return []string{
		"APP_SERVER_HTTP_ADDR=127.0.0.1:0",
		"APP_SERVER_GRPC_ADDR=127.0.0.1:0",
		"APP_DATA_DATABASE_SOURCE=" + filepath.Join(dir, "app.db"),
		"APP_APP_SHUTDOWN_TIMEOUT=5s",
		// The embedded broker on free ports (the defaults are RocketMQ's 9876/10911).
		"APP_DATA_ROCKETMQ_EMBEDDED_NAME_SERVER_ADDR=127.0.0.1:0",
		"APP_DATA_ROCKETMQ_EMBEDDED_BROKER_ADDR=127.0.0.1:0",
		"APP_DATA_ROCKETMQ_EMBEDDED_DATA_DIR=" + filepath.Join(dir, "rocketmq"),
	}
}

func start(t *testing.T, workdir string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = workdir
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &process{cmd: cmd, lines: make(chan string, 1024), exited: make(chan error, 1), scanned: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
		close(p.scanned)
	}()
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		p.exited <- err
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

var listenRE = regexp.MustCompile(`\[HTTP\] server listening on: (\S+)`)

// httpAddr waits for the app to log its HTTP address.
func (p *process) httpAddr(t *testing.T) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("app exited before listening:\n%s", p.output())
			}
			if m := listenRE.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		case <-deadline:
			t.Fatalf("app did not listen within 30s:\n%s", p.output())
		}
	}
}

// wait returns the exit code once the process ends (bounded) and its output is read.
func (p *process) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-p.exited:
		<-p.scanned
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("app still running after %s:\n%s", within, p.output())
		return -1
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestBootServeAndSIGTERM(t *testing.T) {
	dir := t.TempDir()
	// Started from cmd/app without -conf: kratos-layout's default ../../configs.
	p := start(t, ".", testEnv(dir))
	addr := p.httpAddr(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, "http://"+addr+path); code != http.StatusOK {
			t.Errorf("GET %s = %d %s", path, code, body)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The shutdown timeout is 5s in testEnv; a clean stop takes far less.
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0:\n%s", code, p.output())
	}
	if _, err := os.Stat(filepath.Join(dir, "app.db")); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

func TestBootFromRepositoryRoot(t *testing.T) {
	p := start(t, "../..", testEnv(t.TempDir()))
	addr := p.httpAddr(t)
	if code, body := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz = %d %s", code, body)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code = %d:\n%s", code, p.output())
	}
}

func TestConfigErrorsExitNonZero(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "missing.yaml")
	badYAML := write("bad.yaml", "server:\n  http:\n    addr: 127.0.0.1:0\n  grpc: [\n")
	badEnum := write("enum.yaml", "server:\n  rocketmq:\n    subscriptions:\n      - topic: orders\n        consume_mode: FANOUT\n")
	negDur := write("dur.yaml", "data:\n  rocketmq:\n    send_timeout: -1s\n")
	tests := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"missing file", []string{"-conf", missing}, nil, []string{missing}},
		{"invalid yaml", []string{"-conf", badYAML}, nil, []string{badYAML, "line 4"}},
		{"unknown enum", []string{"-conf", badEnum}, nil, []string{"server.rocketmq.subscriptions[0].consume_mode", "FANOUT"}},
		{"negative duration", []string{"-conf", negDur}, nil, []string{"data.rocketmq.send_timeout", "negative"}},
		{"negative duration from env", nil, []string{"APP_SERVER_HTTP_TIMEOUT=-5s"}, []string{"server.http.timeout", "negative"}},
		{"unknown flag", []string{"-nope"}, nil, []string{"flag provided but not defined"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, ".", append(testEnv(t.TempDir()), tc.env...), tc.args...)
			code := p.wait(t, 30*time.Second)
			if code == 0 {
				t.Fatalf("exit code 0, want non-zero:\n%s", p.output())
			}
			out := p.output()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not mention %q:\n%s", w, out)
				}
			}
		})
	}
}
