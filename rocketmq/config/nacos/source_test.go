package nacos_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/config/nacos"
	"github.com/kratos-rocketmq/rocketmq/config/nacos/nacostest"
)

// nacos-sdk-go rate-limits reads per data ID, group and namespace across all clients of the
// process (5/s), so every test uses configurations of its own.

func TestLoad(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	tests := []struct {
		name      string
		namespace string
		group     string // "" uses the default
		dataID    string
		opts      []nacos.Option
		content   string
		want      string // format
	}{
		{name: "yaml", dataID: "app.yaml", content: "a: 1\n", want: "yaml"},
		{name: "yml is yaml", dataID: "app.yml", content: "a: 1\n", want: "yaml"},
		{name: "json in a group", group: "order", dataID: "app.json", content: `{"a":1}`, want: "json"},
		{name: "namespace", namespace: "dev", dataID: "ns.yaml", content: "a: dev\n", want: "yaml"},
		{name: "format option", dataID: "app-config", opts: []nacos.Option{nacos.WithFormat("json")}, content: `{"a":2}`, want: "json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.Publish(tc.namespace, tc.group, tc.dataID, tc.content)
			opts := append([]nacos.Option{nacos.WithDataID(tc.dataID)}, tc.opts...)
			if tc.group != "" {
				opts = append(opts, nacos.WithGroup(tc.group))
			}
			src := nacos.NewConfigSource(newClient(t, srv.ServerConfig(), tc.namespace), opts...)
			kvs, err := src.Load()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(kvs) != 1 {
				t.Fatalf("Load returned %d key values, want 1", len(kvs))
			}
			if kv := kvs[0]; kv.Key != tc.dataID || string(kv.Value) != tc.content || kv.Format != tc.want {
				t.Fatalf("Load = {%q %q %q}, want {%q %q %q}", kv.Key, kv.Value, kv.Format, tc.dataID, tc.content, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("", "", "broken.yaml", "a: [1\n")
	srv.Publish("", "", "app.toml", "a = 1\n")
	down := closedAddr(t)
	tests := []struct {
		name   string
		down   bool
		opts   []nacos.Option
		want   []string // in the error text
		wantIs error
	}{
		{name: "missing", opts: []nacos.Option{nacos.WithDataID("missing.yaml")}, wantIs: nacos.ErrNotFound,
			want: []string{`data ID "missing.yaml"`, `group "DEFAULT_GROUP"`, srv.Addr(), "not found"}},
		{name: "does not decode", opts: []nacos.Option{nacos.WithDataID("broken.yaml")},
			want: []string{`data ID "broken.yaml"`, "decode as yaml"}},
		{name: "no codec for the extension", opts: []nacos.Option{nacos.WithDataID("app.toml")},
			want: []string{`data ID "app.toml"`, `no Kratos codec for format "toml"`}},
		{name: "no extension", opts: []nacos.Option{nacos.WithDataID("app")}, want: []string{"WithFormat"}},
		{name: "no data ID", want: []string{"no data ID"}},
		{name: "server down", down: true, opts: []nacos.Option{nacos.WithDataID("down.yaml")},
			want: []string{`data ID "down.yaml"`, "127.0.0.1:" + strconv.FormatUint(down.Port, 10)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := srv.ServerConfig()
			if tc.down {
				sc = down
			}
			_, err := nacos.NewConfigSource(newClient(t, sc, ""), tc.opts...).Load()
			if err == nil {
				t.Fatal("Load succeeded")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q is not %v", err, tc.wantIs)
			}
		})
	}
}

// A server that accepts connections but never becomes ready keeps the client retrying
// well past its own request timeout; Load gives up after WithTimeout.
func TestLoadTimeout(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("", "", "timeout.yaml", "a: 1\n")
	srv.SetStarting(true)
	client := newClient(t, srv.ServerConfig(), "")
	src := nacos.NewConfigSource(client, nacos.WithDataID("timeout.yaml"), nacos.WithTimeout(500*time.Millisecond))

	_, err := src.Load()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `data ID "timeout.yaml"`) {
		t.Fatalf("Load = %v, want a deadline error naming the data ID", err)
	}
	// Once the server is ready the client connects (the abandoned read finishes then, so
	// no goroutine outlives the test) and Load succeeds.
	srv.SetStarting(false)
	deadline := time.Now().Add(15 * time.Second)
	for _, err := src.Load(); err != nil; _, err = src.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("Load once the server is ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWatch(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("", "G", "watch.yaml", "v: 1\n")
	client := newClient(t, srv.ServerConfig(), "")
	logs := &logBuffer{}
	src := nacos.NewConfigSource(client, nacos.WithDataID("watch.yaml"), nacos.WithGroup("G"), nacos.WithLogger(logs))
	if _, err := src.Load(); err != nil {
		t.Fatal(err)
	}
	w, err := src.Watch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Stop() })
	next := make(chan string)
	go func() {
		defer close(next)
		for {
			kvs, err := w.Next()
			if err != nil {
				return
			}
			next <- string(kvs[0].Value)
		}
	}()
	listening(t, srv, "", "G", "watch.yaml")

	// Published by another client, over the gRPC API.
	publisher := newClient(t, srv.ServerConfig(), "")
	if ok, err := publisher.PublishConfig(vo.ConfigParam{DataId: "watch.yaml", Group: "G", Content: "v: 2\n"}); err != nil || !ok {
		t.Fatalf("PublishConfig = %v, %v", ok, err)
	}
	if got := recv(t, "version 2", next, 10*time.Second); got != "v: 2\n" {
		t.Fatalf("Next = %q, want version 2", got)
	}

	// Versions Kratos could not decode, and a deletion, are skipped: the next version
	// Next returns is the good one published after them.
	nacostest.WaitClientsIdle(t, 10*time.Second)
	srv.Publish("", "G", "watch.yaml", "v: [3\n")
	waitLogged(t, logs, "does not decode")
	nacostest.WaitClientsIdle(t, 10*time.Second)
	srv.Delete("", "G", "watch.yaml")
	waitLogged(t, logs, "deleted")
	nacostest.WaitClientsIdle(t, 10*time.Second)
	srv.Publish("", "G", "watch.yaml", "v: 4\n")
	if got := recv(t, "version 4", next, 10*time.Second); got != "v: 4\n" {
		t.Fatalf("Next = %q, want version 4", got)
	}
}

func waitLogged(t *testing.T, logs *logBuffer, part string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !logs.has(part) {
		if time.Now().After(deadline) {
			t.Fatalf("nothing logged about %q", part)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Through Kratos' config: a watched key follows the pushed versions, and one that does not
// decode leaves the previous value in force.
func TestKratosConfig(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("", "", "kratos.yaml", "log:\n  level: info\n")
	logs := &logBuffer{}
	c := config.New(config.WithSource(nacos.NewConfigSource(newClient(t, srv.ServerConfig(), ""),
		nacos.WithDataID("kratos.yaml"), nacos.WithLogger(logs))))
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	levels := make(chan string, 10)
	if err := c.Watch("log.level", func(_ string, v config.Value) {
		s, _ := v.String()
		levels <- s
	}); err != nil {
		t.Fatal(err)
	}
	listening(t, srv, "", "", "kratos.yaml")

	srv.Publish("", "", "kratos.yaml", "log:\n  level: debug\n")
	if got := recv(t, "the new level", levels, 10*time.Second); got != "debug" {
		t.Fatalf("observer got %q, want debug", got)
	}
	nacostest.WaitClientsIdle(t, 10*time.Second)
	srv.Publish("", "", "kratos.yaml", "log: [\n")
	waitLogged(t, logs, "does not decode")
	if got, _ := c.Value("log.level").String(); got != "debug" {
		t.Fatalf("after a broken version log.level = %q, want debug still", got)
	}
	nacostest.WaitClientsIdle(t, 10*time.Second)
	srv.Publish("", "", "kratos.yaml", "log:\n  level: warn\n")
	if got := recv(t, "the next level", levels, 10*time.Second); got != "warn" {
		t.Fatalf("observer got %q, want warn", got)
	}
}

// Stop unblocks a waiting Next with context.Canceled, and once the client and the server
// are closed nothing of theirs keeps running. Not parallel: it checks every goroutine.
func TestStopUnblocksNext(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	srv, err := nacostest.Run()
	if err != nil {
		t.Fatal(err)
	}
	srv.Publish("", "", "stop.yaml", "a: 1\n")
	client := newClient(t, srv.ServerConfig(), "")
	src := nacos.NewConfigSource(client, nacos.WithDataID("stop.yaml"))
	if _, err := src.Load(); err != nil {
		t.Fatal(err)
	}
	w, err := src.Watch()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := w.Next()
		done <- err
	}()
	listening(t, srv, "", "", "stop.yaml")
	if err := w.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := recv(t, "Next to return", done, 5*time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after Stop = %v, want context.Canceled", err)
	}
	if err := w.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := w.Next(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after Stop = %v, want context.Canceled", err)
	}
	// A change after Stop reaches the client, which no longer calls the watcher.
	srv.Publish("", "", "stop.yaml", "a: 2\n")

	client.CloseClient()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := settledLeaks(10*time.Second, ignore); err != nil {
		t.Fatal(err)
	}
}

// With WithResync a change whose notification never arrives still reaches Next.
func TestResync(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("", "", "resync.yaml", "v: 1\n")
	src := nacos.NewConfigSource(newClient(t, srv.ServerConfig(), ""), nacos.WithDataID("resync.yaml"),
		nacos.WithResync(200*time.Millisecond))
	if _, err := src.Load(); err != nil {
		t.Fatal(err)
	}
	w, err := src.Watch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Stop() })
	srv.DropPushes(true)
	srv.Publish("", "", "resync.yaml", "v: 2\n")
	next := make(chan string, 1)
	go func() {
		kvs, err := w.Next()
		if err == nil {
			next <- string(kvs[0].Value)
		}
	}()
	if got := recv(t, "the re-read version", next, 10*time.Second); got != "v: 2\n" {
		t.Fatalf("Next = %q, want version 2", got)
	}
}
