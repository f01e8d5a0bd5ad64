package nacos_test

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/util"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/config/nacos/nacostest"
)

// sdkLogDir is shared by every client of the package: nacos-sdk-go keeps one global
// logger, re-created by each new client and opened lazily, so a per-test directory could
// be written after the test removed it.
var sdkLogDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nacos-sdk-log")
	if err != nil {
		panic(err)
	}
	sdkLogDir = dir
	// nacos-sdk-go caches the host's IP in a package variable on first use, unguarded:
	// clients starting at once in parallel tests race on it. Fill it before any test runs.
	_ = util.LocalIP()
	code := m.Run()
	if code == 0 {
		if err := settledLeaks(10 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// settledLeaks reports the goroutines still running after d, ignoring those
// nacos-sdk-go leaves behind by itself (nacostest.SDKGoroutines). A closed client's
// goroutines may need a moment: one in the middle of a request finishes its retries first.
func settledLeaks(d time.Duration, opts ...goleak.Option) error {
	opts = append(opts, nacostest.SDKGoroutines()...)
	deadline := time.Now().Add(d)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newClient returns a real nacos-sdk-go config client of sc, closed at cleanup.
func newClient(t *testing.T, sc constant.ServerConfig, namespace string) config_client.IConfigClient {
	t.Helper()
	c, err := clients.NewConfigClient(vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			NamespaceId:         namespace,
			TimeoutMs:           3000,
			NotLoadCacheAtStart: true,
			DisableUseSnapShot:  true,
			CacheDir:            t.TempDir(),
			LogDir:              sdkLogDir,
			LogLevel:            "debug",
		},
		ServerConfigs: []constant.ServerConfig{sc},
	})
	if err != nil {
		t.Fatalf("new config client: %v", err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

// closedAddr returns a loopback server config whose ports refuse connections.
func closedAddr(t *testing.T) constant.ServerConfig {
	t.Helper()
	var ports [2]uint64
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = uint64(ln.Addr().(*net.TCPAddr).Port)
		_ = ln.Close()
	}
	return constant.ServerConfig{IpAddr: "127.0.0.1", Port: ports[0], GrpcPort: ports[1]}
}

// listening waits until the client listens to the configuration and its listen loop is
// idle, so that a change published next is pushed to it (see nacostest.WaitClientsIdle).
func listening(t *testing.T, srv *nacostest.Server, namespace, group, dataID string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second) // the client registers within ~5s
	for srv.Listening(namespace, group, dataID) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the client did not listen to %s/%s in time", group, dataID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	nacostest.WaitClientsIdle(t, 10*time.Second)
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, what string, ch <-chan T, d time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
	var zero T
	return zero
}

// logBuffer is a log.Logger keeping its lines for assertions.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) Log(level log.Level, keyvals ...any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level.String()+" "+fmt.Sprint(keyvals...))
	return nil
}

// has reports whether a line contains every one of the parts.
func (l *logBuffer) has(parts ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
