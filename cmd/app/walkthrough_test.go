package main

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

// readmeWalkthrough returns the shell block that follows the walkthrough marker in
// README.md.
func readmeWalkthrough(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "<!-- walkthrough")
	if i < 0 {
		t.Fatal("README.md has no walkthrough marker")
	}
	s = s[i:]
	start := strings.Index(s, "```bash\n")
	end := strings.Index(s[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no bash block after the walkthrough marker")
	}
	return s[start+8 : start+8+end]
}

// TestREADMEWalkthrough starts the binary as make run does (configs/, its own embedded
// broker; ports moved off the defaults), runs README's curl walkthrough verbatim but for
// the address, and stops the app with SIGTERM.
func TestREADMEWalkthrough(t *testing.T) {
	p := start(t, "../..", testEnv(t.TempDir()))
	walkthrough(t, p)
	terminate(t, p)
}

// TestREADMEWalkthroughAliyun is the walkthrough with data.rocketmq.driver aliyun: the
// service publishes and consumes over the Aliyun MQ HTTP API of its embedded broker
// (topics, readiness and consumer lag stay on the name server).
func TestREADMEWalkthroughAliyun(t *testing.T) {
	p := start(t, "../..", append(testEnv(t.TempDir()),
		"APP_DATA_ROCKETMQ_DRIVER=aliyun", "APP_DATA_ROCKETMQ_EMBEDDED_HTTP_ADDR=127.0.0.1:0"))
	walkthrough(t, p)
	terminate(t, p)
}

// TestREADMEWalkthroughV5 is the walkthrough with data.rocketmq.driver v5: the service
// publishes and consumes over the RocketMQ 5 gRPC API of its embedded broker, whose
// start line names that endpoint (topics, readiness and consumer lag stay on the name
// server).
func TestREADMEWalkthroughV5(t *testing.T) {
	p := start(t, "../..", append(testEnv(t.TempDir()),
		"APP_DATA_ROCKETMQ_DRIVER=v5", "APP_DATA_ROCKETMQ_EMBEDDED_GRPC_ADDR=127.0.0.1:0"))
	walkthrough(t, p)
	terminate(t, p)
	if !strings.Contains(p.output(), "grpc=127.0.0.1:") {
		t.Errorf("app output lacks the embedded gRPC endpoint (grpc=127.0.0.1:...):\n%s", p.output())
	}
}

// terminate stops the app p with SIGTERM; it must exit 0.
func terminate(t *testing.T, p *process) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d:\n%s", code, p.output())
	}
}

// walkthrough waits until the app p is ready, runs README's walkthrough against it and
// checks that the order was confirmed and notified; it returns the app's address.
func walkthrough(t *testing.T, p *process) string {
	t.Helper()
	addr := p.httpAddr(t)
	deadline := time.Now().Add(30 * time.Second)
	for code, _ := get(t, "http://"+addr+"/readyz"); code != http.StatusOK; code, _ = get(t, "http://"+addr+"/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 30s:\n%s", p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	script := strings.ReplaceAll(readmeWalkthrough(t), "localhost:8000", addr)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s\napp output:\n%s", err, out, p.output())
	}
	text := string(out)
	for _, want := range []string{`"status":"ok"`, `"rocketmq":"ok"`, "created order ", `"CONFIRMED"`, `"notified":true`, `outcome="success"`} {
		if !strings.Contains(strings.ReplaceAll(text, `": "`, `":"`), want) {
			t.Errorf("walkthrough output lacks %s:\n%s\napp output:\n%s", want, text, p.output())
		}
	}
	return addr
}

func TestDoctor(t *testing.T) {
	t.Run("embedded broker", func(t *testing.T) {
		p := start(t, ".", testEnv(t.TempDir()), "doctor")
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("doctor exit code = %d:\n%s", code, p.output())
		}
		out := p.output()
		for _, want := range []string{"embedded broker", "✓ name server", "✓ broker 127.0.0.1:", "All good"} {
			if !strings.Contains(out, want) {
				t.Errorf("doctor output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("unreachable advertised broker", func(t *testing.T) {
		// The brokerIP1 pitfall: the name server hands out an address nobody listens on.
		b := minirocketmq.RunT(t, minirocketmq.WithAdvertisedAddr("127.0.0.1:1"))
		env := append(testEnv(t.TempDir()), "APP_DATA_ROCKETMQ_NAME_SERVERS="+b.Addr())
		p := start(t, ".", env, "doctor")
		if code := p.wait(t, 60*time.Second); code == 0 {
			t.Fatalf("doctor exit code 0 with an unreachable broker:\n%s", p.output())
		}
		out := p.output()
		for _, want := range []string{"✗ broker 127.0.0.1:1", "brokerIP1", "BROKER_IP1", "problem(s) found"} {
			if !strings.Contains(out, want) {
				t.Errorf("doctor output lacks %q:\n%s", want, out)
			}
		}
	})
}
