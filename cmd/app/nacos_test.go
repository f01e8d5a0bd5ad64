package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/config/nacos/nacostest"
)

// nacosURL is the -conf value for dataID in group G on srv. resync=300ms makes a change
// arrive even when nacos-sdk-go loses its notification (it can while registering its
// listener, see the library's config/nacos package doc), so the tests need not wait for
// the client to be idle.
func nacosURL(t *testing.T, srv *nacostest.Server, dataID string) string {
	t.Helper()
	return "nacos://" + srv.Addr() + "?dataId=" + dataID + "&group=G&resync=300ms" +
		"&grpcPort=" + strconv.FormatUint(srv.ServerConfig().GrpcPort, 10) +
		"&cacheDir=" + t.TempDir() + "&logDir=" + t.TempDir()
}

// waitLine waits for an output line containing every part.
func (p *process) waitLine(t *testing.T, within time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("app exited before logging %q:\n%s", parts, p.output())
			}
			all := true
			for _, part := range parts {
				all = all && strings.Contains(line, part)
			}
			if all {
				return line
			}
		case <-deadline:
			t.Fatalf("app did not log %q within %s:\n%s", parts, within, p.output())
		}
	}
}

// The app boots with its configuration from Nacos, environment overrides applied, and
// follows changes published while it runs.
func TestBootFromNacos(t *testing.T) {
	srv := nacostest.RunT(t)
	doc := func(level string) string {
		return "app:\n  name: from-nacos\n  log:\n    level: " + level + "\n" +
			"server:\n  http:\n    addr: 0.0.0.0:8000\n" // APP_SERVER_HTTP_ADDR overrides it
	}
	srv.Publish("", "G", "app.yaml", doc("info"))
	p := start(t, ".", testEnv(t.TempDir()), "-conf", nacosURL(t, srv, "app.yaml"))
	addr := p.httpAddr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("listening on %s: the environment's server.http.addr was not applied", addr)
	}
	if out := p.output(); !strings.Contains(out, "service.name=from-nacos") {
		t.Fatalf("app.name from Nacos not applied:\n%s", out)
	}
	if code, body := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("GET /healthz = %d %s", code, body)
	}

	srv.Publish("", "G", "app.yaml", doc("debug"))
	p.waitLine(t, 20*time.Second, "configuration value changed", "app.log.level", "value=debug")
	srv.Publish("", "G", "app.yaml", "app: [\n")
	p.waitLine(t, 20*time.Second, "does not decode", "dataId=app.yaml")
	srv.Publish("", "G", "app.yaml", doc("warn"))
	p.waitLine(t, 20*time.Second, "configuration value changed", "app.log.level", "value=warn")

	_ = p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code = %d:\n%s", code, p.output())
	}
}

func TestNacosStartupErrors(t *testing.T) {
	srv := nacostest.RunT(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	_ = ln.Close()
	tests := []struct {
		name   string
		conf   string
		within time.Duration
		want   []string
	}{
		{"unreachable", "nacos://" + down + "?dataId=app.yaml&timeout=3s&cacheDir=" + t.TempDir() + "&logDir=" + t.TempDir(),
			30 * time.Second, []string{down, `data ID "app.yaml"`}},
		{"missing config", nacosURL(t, srv, "none.yaml"), 30 * time.Second, []string{srv.Addr(), `data ID "none.yaml"`, "not found"}},
		{"bad URL", "nacos://127.0.0.1:8848?group=G", 30 * time.Second, []string{"no dataId"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			p := start(t, ".", testEnv(t.TempDir()), "-conf", tc.conf)
			if code := p.wait(t, tc.within); code == 0 {
				t.Fatalf("exit code 0, want non-zero:\n%s", p.output())
			}
			t.Logf("exited after %s: %s", time.Since(began).Round(time.Millisecond), strings.TrimSpace(p.output()))
			for _, w := range tc.want {
				if !strings.Contains(p.output(), w) {
					t.Errorf("output does not mention %q:\n%s", w, p.output())
				}
			}
		})
	}
}

// Environment overrides win over the configuration also after it changed at run time, for
// both kinds of -conf.
func TestChangesKeepEnvOverrides(t *testing.T) {
	t.Setenv("APP_SERVER_HTTP_TIMEOUT", "7s")
	doc := func(level, timeout string) string {
		return "app:\n  log:\n    level: " + level + "\nserver:\n  http:\n    timeout: " + timeout + "\n"
	}
	srv := nacostest.RunT(t)
	file := filepath.Join(t.TempDir(), "config.yaml")
	tests := []struct {
		name    string
		conf    string
		publish func(string)
	}{
		{"file", file, func(d string) {
			if err := os.WriteFile(file, []byte(d), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"nacos", nacosURL(t, srv, "env.yaml"), func(d string) { srv.Publish("", "G", "env.yaml", d) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.publish(doc("info", "3s"))
			_, cfg, closeConfig, err := loadConfig(tc.conf, "", log.DefaultLogger)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(closeConfig)
			levels := make(chan string, 10)
			if err := cfg.Watch("app.log.level", func(_ string, v config.Value) {
				s, _ := v.String()
				levels <- s
			}); err != nil {
				t.Fatal(err)
			}
			tc.publish(doc("debug", "4s"))
			select {
			case got := <-levels:
				if got != "debug" {
					t.Fatalf("app.log.level changed to %q, want debug", got)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the change did not arrive")
			}
			bc, err := conf.Decode(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := bc.Server.Http.Timeout.AsDuration(); got != 7*time.Second {
				t.Fatalf("server.http.timeout = %s after the change, want the environment's 7s", got)
			}
		})
	}
}
