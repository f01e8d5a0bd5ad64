package nacostest_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/util"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/config/nacos/nacostest"
)

// sdkLogDir is shared by every client of the package: nacos-sdk-go keeps one global
// logger, re-created by each new client and written lazily, so a per-test directory could
// be written after the test removed it.
var sdkLogDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nacostest-sdk-log")
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
// nacos-sdk-go leaves behind by itself. A closed client's goroutines may need a moment to
// notice: one in the middle of a request finishes its retries first.
func settledLeaks(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := goleak.Find(nacostest.SDKGoroutines()...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type clientOption func(*constant.ClientConfig, *constant.ServerConfig)

func withNamespace(ns string) clientOption {
	return func(c *constant.ClientConfig, _ *constant.ServerConfig) { c.NamespaceId = ns }
}

func withCredentials(user, pass string) clientOption {
	return func(c *constant.ClientConfig, _ *constant.ServerConfig) { c.Username, c.Password = user, pass }
}

func withoutGrpcPort() clientOption {
	return func(_ *constant.ClientConfig, s *constant.ServerConfig) { s.GrpcPort = 0 }
}

// newClient returns a real nacos-sdk-go config client of srv, closed at cleanup.
func newClient(t *testing.T, srv *nacostest.Server, opts ...clientOption) config_client.IConfigClient {
	t.Helper()
	sc := srv.ServerConfig()
	cc := constant.ClientConfig{
		TimeoutMs:           3000,
		NotLoadCacheAtStart: true,
		CacheDir:            t.TempDir(),
		LogDir:              sdkLogDir,
		LogLevel:            "debug",
	}
	for _, o := range opts {
		o(&cc, &sc)
	}
	c, err := clients.NewConfigClient(vo.NacosClientParam{ClientConfig: &cc, ServerConfigs: []constant.ServerConfig{sc}})
	if err != nil {
		t.Fatalf("new config client: %v", err)
	}
	t.Cleanup(c.CloseClient)
	return c
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
