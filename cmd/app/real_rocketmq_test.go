package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// The README's "Real RocketMQ" section and secured clusters, run as a user would: the
// real binary, started by the command a make target resolves to or with APP_*
// variables, against an embedded broker standing in for the cluster (Docker's, or a
// secured one) on free ports.

// readmeBlock returns the shell block that follows the marker in README.md.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("README.md has no %q marker", marker)
	}
	s = s[i:]
	start := strings.Index(s, "```bash\n")
	end := strings.Index(s[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatalf("no bash block after %q", marker)
	}
	return s[start+8 : start+8+end]
}

// makeCommand returns what `make args...` runs last, as make -n prints it from the
// repository root: its leading VAR=value assignments and the command's fields.
func makeCommand(t *testing.T, args ...string) (env, command []string) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-n", "--no-print-directory"}, args...)...)
	cmd.Dir = "../.."
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "ROCKETMQ") })
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make -n %v: %v", args, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	for len(fields) > 0 && strings.Contains(fields[0], "=") {
		env, fields = append(env, fields[0]), fields[1:]
	}
	return env, fields
}

// startResolved starts the app the way the resolved make command does (its binary
// replaced by the test's build), with the test's ports and database.
func startResolved(t *testing.T, env, command []string) *process {
	t.Helper()
	if len(command) == 0 || command[0] != "./bin/app" {
		t.Fatalf("the make target runs %v, not ./bin/app", command)
	}
	return start(t, "../..", append(testEnv(t.TempDir()), env...), command[1:]...)
}

// storedMessages counts the messages the broker holds in topic.
func storedMessages(t *testing.T, b *minirocketmq.Broker, topic string) int {
	t.Helper()
	tc, ok := b.Topic(topic)
	if !ok {
		return 0
	}
	n := 0
	for q := 0; q < tc.WriteQueueNums; q++ {
		msgs, err := b.Messages(topic, q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(msgs)
	}
	return n
}

// TestRealRocketMQSection runs the README's "Real RocketMQ" commands: make rocketmq-up
// resolves to docker compose (deploy/compose_test.go checks what it starts), and make
// run and make doctor, with ROCKETMQ pointing at a stand-in for Docker's RocketMQ, serve
// the walkthrough on that cluster and check it, without starting an embedded broker.
func TestRealRocketMQSection(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	block := readmeBlock(t, "<!-- real-rocketmq")
	var targets []string
	for _, line := range strings.Split(block, "\n") {
		if line = strings.TrimSpace(strings.SplitN(line, "#", 2)[0]); line == "" {
			continue
		}
		args := strings.Fields(line)
		if args[0] != "make" {
			t.Fatalf("README block line %q is not a make command", line)
		}
		targets = append(targets, args[1])
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			t.Parallel()
			switch args[1] {
			case "rocketmq-up":
				if _, cmd := makeCommand(t, args[1:]...); strings.Join(cmd[:2], " ") != "docker compose" {
					t.Errorf("make rocketmq-up runs %v", cmd)
				}
			case "run", "doctor":
				standIn := minirocketmq.RunT(t)
				for i, a := range args {
					if strings.HasPrefix(a, "ROCKETMQ=") {
						args[i] = "ROCKETMQ=" + standIn.Addr()
					}
				}
				env, cmd := makeCommand(t, args[1:]...)
				if !slices.Contains(env, "APP_DATA_ROCKETMQ_NAME_SERVERS="+standIn.Addr()) {
					t.Fatalf("make %v sets %v, not the name servers", args[1:], env)
				}
				p := startResolved(t, env, cmd)
				if args[1] == "run" {
					walkthrough(t, p)
					if n := storedMessages(t, standIn, "orders"); n < 2 {
						t.Errorf("the stand-in cluster holds %d messages on orders, want the order's two events", n)
					}
				} else if code := p.wait(t, 60*time.Second); code != 0 {
					t.Fatalf("doctor exit code %d:\n%s", code, p.output())
				}
				out := p.output()
				for _, bad := range []string{"embedded RocketMQ broker started", "embedded broker"} {
					if strings.Contains(out, bad) {
						t.Errorf("output mentions %q: the embedded broker was started", bad)
					}
				}
				if args[1] == "doctor" && (!strings.Contains(out, "name servers: "+standIn.Addr()) || !strings.Contains(out, "All good")) {
					t.Errorf("doctor did not check the stand-in cluster:\n%s", out)
				}
			default:
				t.Errorf("no check for make %s", args[1])
			}
		})
	}
	if strings.Join(targets, " ") != "rocketmq-up run doctor" {
		t.Errorf("README block runs make %v, want rocketmq-up, run, doctor", targets)
	}
}

// TestWalkthroughOnSecuredClusters runs the README walkthrough to CONFIRMED with the app
// configured for a cluster that requires TLS, one that checks ACL signatures (an admin
// account: the app creates its topics), and one it finds through a name server domain.
// Every connection must honour the setting: the clients, topic creation, the readiness
// probe, and the lag gauge on /metrics.
func TestWalkthroughOnSecuredClusters(t *testing.T) {
	files := rmqtest.WriteTLSFiles(t)
	serverTLS, err := minirocketmq.LoadTLSConfig(files.ServerCert, files.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := acl.Parse([]byte("accounts:\n  - accessKey: order-service\n    secretKey: order-secret\n    admin: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts []minirocketmq.Option
		env  func(addr string) []string
	}{
		{"tls required", []minirocketmq.Option{minirocketmq.WithTLS(serverTLS)}, func(addr string) []string {
			return []string{"APP_DATA_ROCKETMQ_NAME_SERVERS=" + addr, "APP_DATA_ROCKETMQ_TLS_ENABLED=true",
				"APP_DATA_ROCKETMQ_TLS_INSECURE_SKIP_VERIFY=true"}
		}},
		{"acl on", []minirocketmq.Option{minirocketmq.WithACL(v)}, func(addr string) []string {
			return []string{"APP_DATA_ROCKETMQ_NAME_SERVERS=" + addr, "APP_DATA_ROCKETMQ_CREDENTIALS_ACCESS_KEY=order-service",
				"APP_DATA_ROCKETMQ_CREDENTIALS_SECRET_KEY=order-secret"}
		}},
		{"name server domain", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := minirocketmq.RunT(t, tc.opts...)
			var env []string
			var asked atomic.Int32
			if tc.env != nil {
				env = tc.env(b.Addr())
			} else {
				domain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					asked.Add(1)
					fmt.Fprint(w, b.Addr())
				}))
				t.Cleanup(domain.Close)
				env = []string{"APP_DATA_ROCKETMQ_NAME_SERVER_DOMAIN=" + domain.URL + "/rocketmq/nsaddr"}
			}
			p := start(t, "../..", append(testEnv(t.TempDir()), env...))
			addr := walkthrough(t, p)
			if n := storedMessages(t, b, "orders"); n < 2 {
				t.Errorf("the cluster holds %d messages on orders, want the order's two events", n)
			}
			if tc.env == nil && asked.Load() == 0 {
				t.Error("the name server domain was never asked")
			}
			if strings.Contains(p.output(), "embedded RocketMQ broker started") {
				t.Error("the app started its embedded broker")
			}
			lag := regexp.MustCompile(`(?m)^rocketmq_consumer_lag\{[^}]*group="order-service-order-created"[^}]*\} 0$`)
			if _, metrics := get(t, "http://"+addr+"/metrics"); !lag.MatchString(metrics) {
				t.Errorf("/metrics has no lag of 0 for group order-service-order-created:\n%s", grepLines(metrics, "rocketmq_consumer_lag"))
			}
		})
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestEmbeddedAddressTaken: when the embedded name server's address is taken, the app
// exits saying whether a RocketMQ name server answers there (use it with make run
// ROCKETMQ=) or something else does (move the embedded one).
func TestEmbeddedAddressTaken(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	running := minirocketmq.RunT(t)
	for _, tc := range []struct {
		name, addr string
		want       []string
	}{
		{"by a RocketMQ name server", running.Addr(), []string{"a RocketMQ name server answers there",
			"use it with `make run ROCKETMQ=" + running.Addr() + "` (or APP_DATA_ROCKETMQ_NAME_SERVERS=" + running.Addr() + ")"}},
		{"by something else", other.Addr().String(), []string{"something else listens on " + other.Addr().String(),
			"APP_DATA_ROCKETMQ_EMBEDDED_NAME_SERVER_ADDR=127.0.0.1:0 (key data.rocketmq.embedded.name_server_addr)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, "../..", append(testEnv(t.TempDir()), "APP_DATA_ROCKETMQ_EMBEDDED_NAME_SERVER_ADDR="+tc.addr))
			if code := p.wait(t, 60*time.Second); code != 1 {
				t.Fatalf("exit code %d, want 1:\n%s", code, p.output())
			}
			for _, w := range tc.want {
				if !strings.Contains(p.output(), w) {
					t.Errorf("output lacks %q:\n%s", w, p.output())
				}
			}
		})
	}
}
