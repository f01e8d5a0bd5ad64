package nacos_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"

	"github.com/kratos-rocketmq/rocketmq/config/nacos"
	"github.com/kratos-rocketmq/rocketmq/config/nacos/nacostest"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw     string
		servers []constant.ServerConfig
		check   func(*nacos.URL) string // "" when fine
	}{
		{
			raw:     "nacos://127.0.0.1:8848?dataId=app.yaml",
			servers: []constant.ServerConfig{{IpAddr: "127.0.0.1", Port: 8848, GrpcPort: 9848}},
			check: func(u *nacos.URL) string {
				if u.DataID != "app.yaml" || u.Group != nacos.DefaultGroup || u.Namespace != "" || u.Timeout != nacos.DefaultTimeout || u.Resync != nacos.DefaultURLResync || u.LogLevel != "warn" {
					return "defaults"
				}
				return ""
			},
		},
		{
			raw: "nacos://nacos:s3cret@a.example,b.example:8850?dataId=order.yml&group=G&namespace=dev&timeout=3s&resync=0&grpcPort=19848&cacheDir=/c&logDir=/l&logLevel=debug",
			servers: []constant.ServerConfig{
				{IpAddr: "a.example", Port: 8848, GrpcPort: 19848},
				{IpAddr: "b.example", Port: 8850, GrpcPort: 19848},
			},
			check: func(u *nacos.URL) string {
				p := u.ClientParam().ClientConfig
				switch {
				case u.Username != "nacos" || u.Password != "s3cret":
					return "credentials"
				case u.Group != "G" || u.Namespace != "dev" || u.Timeout != 3*time.Second || u.Resync != 0:
					return "group, namespace or timeout"
				case p.TimeoutMs != 3000 || p.CacheDir != "/c" || p.LogDir != "/l" || p.LogLevel != "debug" || !p.DisableUseSnapShot:
					return "client config"
				case strings.Contains(u.String(), "s3cret"):
					return "String shows the password: " + u.String()
				}
				return ""
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			u, err := nacos.ParseURL(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(u.Servers) != len(tc.servers) {
				t.Fatalf("servers %+v, want %+v", u.Servers, tc.servers)
			}
			for i := range tc.servers {
				if u.Servers[i] != tc.servers[i] {
					t.Errorf("server %d = %+v, want %+v", i, u.Servers[i], tc.servers[i])
				}
			}
			if what := tc.check(u); what != "" {
				t.Errorf("wrong %s: %+v", what, u)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"http://127.0.0.1:8848?dataId=a.yaml", "scheme"},
		{"nacos://?dataId=a.yaml", "no server"},
		{"nacos://127.0.0.1:8848", "no dataId"},
		{"nacos://127.0.0.1:8848?dataId=a.yaml&timeout=5", "timeout"},
		{"nacos://127.0.0.1:8848?dataId=a.yaml&timeout=-1s", "timeout"},
		{"nacos://127.0.0.1:99999?dataId=a.yaml", "not a port"},
		{"nacos://127.0.0.1:8848?dataId=a.yaml&grpcPort=x", "grpcPort"},
		{"nacos://127.0.0.1:8848?dataId=a.yaml&resync=-1s", "resync"},
		{"nacos://127.0.0.1:8848?dataId=a.yaml&logLevel=loud", "logLevel"},
		{"nacos://user:s3cret@127.0.0.1:8848/%zz?dataId=a.yaml", "xxxxx@127.0.0.1"},
		{"nacos://user:s3cret@127.0.0.1:8848?dataId=a.yaml&timeout=x", "user:xxxxx@"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			_, err := nacos.ParseURL(tc.raw)
			if err == nil {
				t.Fatal("parsed")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error %q: want it to mention %q and hide the password", err, tc.want)
			}
		})
	}
}

// A source built from a URL reads through a real client.
func TestURLSource(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("ns1", "G", "url.yaml", "a: 1\n")
	sc := srv.ServerConfig()
	u, err := nacos.ParseURL("nacos://" + srv.Addr() + "?dataId=url.yaml&group=G&namespace=ns1&grpcPort=" +
		strconv.FormatUint(sc.GrpcPort, 10) + "&cacheDir=" + t.TempDir() + "&logDir=" + sdkLogDir)
	if err != nil {
		t.Fatal(err)
	}
	client, err := u.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseClient)
	kvs, err := nacos.NewConfigSource(client, u.Options()...).Load()
	if err != nil || len(kvs) != 1 || string(kvs[0].Value) != "a: 1\n" {
		t.Fatalf("Load = %v, %v", kvs, err)
	}
}

// SourceOf reads a nacos:// value through Nacos and hands anything else to its fallback.
func TestSourceOf(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("", "G", "of.yaml", "b: 2\n")
	value := "nacos://" + srv.Addr() + "?dataId=of.yaml&group=G&grpcPort=" +
		strconv.FormatUint(srv.ServerConfig().GrpcPort, 10) + "&cacheDir=" + t.TempDir() + "&logDir=" + sdkLogDir
	fallback := func(string) config.Source { t.Error("the fallback was asked for a nacos:// value"); return nil }
	src, cleanup, err := nacos.SourceOf(value, fallback)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	if kvs, err := src.Load(); err != nil || len(kvs) != 1 || string(kvs[0].Value) != "b: 2\n" {
		t.Fatalf("Load = %v, %v", kvs, err)
	}

	var asked string
	if _, _, err := nacos.SourceOf("configs", func(v string) config.Source { asked = v; return nil }); err != nil || asked != "configs" {
		t.Errorf("a path: error %v, fallback asked for %q", err, asked)
	}
	if _, _, err := nacos.SourceOf("nacos://127.0.0.1:8848?group=G", fallback); err == nil || !strings.Contains(err.Error(), "dataId") {
		t.Errorf("a URL without a data ID: %v", err)
	}
}
