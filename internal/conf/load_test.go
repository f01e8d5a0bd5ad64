package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/log"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/config/protoconf"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envFrom(vars ...string) config.Source {
	return protoconf.NewEnvSource(EnvPrefix, (&Bootstrap{}).ProtoReflect().Descriptor(), protoconf.Environ(vars...))
}

func load(t *testing.T, yaml string, env ...string) (*Bootstrap, error) {
	t.Helper()
	p := writeFile(t, t.TempDir(), "config.yaml", yaml)
	bc, c, err := Load(log.DefaultLogger, protoconf.NewFileSource(p, ""), envFrom(env...))
	if c != nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return bc, err
}

func TestLoadRepositoryConfig(t *testing.T) {
	bc, c, err := Load(log.DefaultLogger, protoconf.NewFileSource("../../configs", ""), envFrom())
	if err != nil {
		t.Fatalf("configs/ does not load: %v", err)
	}
	defer c.Close()
	if bc.GetServer().GetHttp().GetAddr() != "0.0.0.0:8000" {
		t.Errorf("http addr = %q, want 0.0.0.0:8000", bc.GetServer().GetHttp().GetAddr())
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string // substrings of the error
	}{
		{"unknown enum", "server:\n  rocketmq:\n    subscriptions:\n      - topic: orders\n        handler: h\n        consume_mode: FANOUT\n",
			nil, []string{"server.rocketmq.subscriptions[0].consume_mode", `"FANOUT"`, "CLUSTERING, BROADCASTING"}},
		{"negative duration", "data:\n  rocketmq:\n    send_timeout: -2s\n",
			nil, []string{"data.rocketmq.send_timeout", "negative"}},
		{"duration without unit", "app:\n  shutdown_timeout: 10\n",
			nil, []string{"app.shutdown_timeout", "unit"}},
		{"bad duration", "server:\n  http:\n    timeout: soon\n",
			nil, []string{"server.http.timeout", `"soon"`}},
		{"number expected", "data:\n  database:\n    max_open_conns: many\n",
			nil, []string{"data.database.max_open_conns", "number"}},
		{"integer expected", "data:\n  database:\n    max_open_conns: 1.5\n",
			nil, []string{"data.database.max_open_conns", "integer"}},
		{"list expected", "server:\n  rocketmq:\n    name_servers: {a: b}\n",
			nil, []string{"server.rocketmq.name_servers", "list"}},
		{"bad name server", "server:\n  rocketmq:\n    name_servers: [localhost]\n",
			nil, []string{"server.rocketmq.name_servers[0]", "host:port"}},
		{"missing topic", "server:\n  rocketmq:\n    subscriptions:\n      - group: g\n        handler: h\n",
			nil, []string{"server.rocketmq.subscriptions[0].topic", "required"}},
		{"missing handler", "server:\n  rocketmq:\n    subscriptions:\n      - topic: t\n",
			nil, []string{"server.rocketmq.subscriptions[0].handler", "required"}},
		{"bad topic", "server:\n  rocketmq:\n    subscriptions:\n      - topic: a/b\n",
			nil, []string{"server.rocketmq.subscriptions[0].topic", `"a/b"`}},
		{"tag and sql", "server:\n  rocketmq:\n    subscriptions:\n      - topic: t\n        tag_expression: a\n        sql_expression: b > 1\n",
			nil, []string{"server.rocketmq.subscriptions[0]", "exclude each other"}},
		{"timestamp needed", "server:\n  rocketmq:\n    subscriptions:\n      - topic: t\n        consume_from: TIMESTAMP\n",
			nil, []string{"server.rocketmq.subscriptions[0].consume_timestamp", "RFC 3339"}},
		{"unknown codec", "data:\n  rocketmq:\n    codec: xml\n", nil, []string{"data.rocketmq.codec", `"xml"`}},
		{"half credentials", "data:\n  rocketmq:\n    credentials:\n      access_key: ak\n", nil, []string{"data.rocketmq.credentials"}},
		{"log level", "app:\n  log:\n    level: loud\n", nil, []string{"app.log.level", `"loud"`}},
		{"driver", "data:\n  database:\n    driver: oracle\n", nil, []string{"data.database.driver", `"oracle"`}},
		{"rocketmq driver", "data:\n  rocketmq:\n    driver: kafka\n", nil, []string{"data.rocketmq.driver", `"kafka"`, "v2, v5, aliyun"}},
		{"endpoint without aliyun", "data:\n  rocketmq:\n    endpoint: http://h\n", nil, []string{"data.rocketmq.endpoint", "driver"}},
		{"aliyun bad endpoint", "", []string{"APP_DATA_ROCKETMQ_DRIVER=aliyun", "APP_DATA_ROCKETMQ_ENDPOINT=h:80"}, []string{"data.rocketmq.endpoint", `"h:80"`}},
		{"v5 bad endpoint", "", []string{"APP_DATA_ROCKETMQ_DRIVER=v5", "APP_DATA_ROCKETMQ_ENDPOINT=http://h"}, []string{"data.rocketmq.endpoint", `"http://h"`}},
		{"env negative duration", "{}\n", []string{"APP_APP_SHUTDOWN_TIMEOUT=-1s"}, []string{"app.shutdown_timeout", "negative"}},
		{"env bad enum", "server:\n  rocketmq:\n    subscriptions: []\n", []string{"APP_SERVER_ROCKETMQ_CODEC=yaml"}, []string{"server.rocketmq.codec"}},
		{"two errors", "app:\n  shutdown_timeout: -1s\nserver:\n  http:\n    timeout: soon\n", nil, []string{"app.shutdown_timeout", "server.http.timeout"}},
		{"two rule errors", "app:\n  log:\n    level: loud\ndata:\n  database:\n    driver: oracle\n", nil, []string{"app.log.level", "data.database.driver"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml, tc.env...)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadValues(t *testing.T) {
	yaml := `
app:
  shutdown_timeout: 1m30s
  metadata: {zone: a}
server:
  http:
    addr: 127.0.0.1:1
    timeout: 500ms
  rocketmq:
    name_servers: [embedded]
    subscriptions:
      - topic: orders
        handler: order-created
        consume_mode: broadcasting
        orderly: true
        max_reconsume_times: 3
data:
  rocketmq:
    name_servers: ["10.0.0.1:9876"]
    retry_count: 5
`
	bc, err := load(t, yaml,
		"APP_SERVER_HTTP_ADDR=127.0.0.1:2",
		"APP_DATA_ROCKETMQ_NAME_SERVERS=10.0.0.2:9876, 10.0.0.3:9876",
		"APP_DATA_ROCKETMQ_TLS_ENABLED=true",
		"APP_DATA_DATABASE_MAX_OPEN_CONNS=7",
		"APP_APP_METADATA_REGION=eu",
		"APP_APP_LOG_LEVEL=debug",
		"APP_NOT_A_KEY=1",
		"OTHER_SERVER_HTTP_ADDR=ignored",
	)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"shutdown", bc.GetApp().GetShutdownTimeout().AsDuration(), 90 * time.Second},
		{"http timeout", bc.GetServer().GetHttp().GetTimeout().AsDuration(), 500 * time.Millisecond},
		{"env addr wins", bc.GetServer().GetHttp().GetAddr(), "127.0.0.1:2"},
		{"grpc default", bc.GetServer().GetGrpc().GetAddr(), DefaultGRPCAddr},
		{"embedded", cluster.IsEmbedded(bc.GetServer().GetRocketmq().GetNameServers()), true},
		{"mode", bc.GetServer().GetRocketmq().GetSubscriptions()[0].GetConsumeMode(), ConsumeMode_BROADCASTING},
		{"orderly", bc.GetServer().GetRocketmq().GetSubscriptions()[0].GetOrderly(), true},
		{"max reconsume", bc.GetServer().GetRocketmq().GetSubscriptions()[0].GetMaxReconsumeTimes(), int32(3)},
		{"env list", strings.Join(bc.GetData().GetRocketmq().GetNameServers(), ","), "10.0.0.2:9876,10.0.0.3:9876"},
		{"yaml int", bc.GetData().GetRocketmq().GetRetryCount(), int32(5)},
		{"env bool", bc.GetData().GetRocketmq().GetTls().GetEnabled(), true},
		{"env int", bc.GetData().GetDatabase().GetMaxOpenConns(), int32(7)},
		{"env map merges", bc.GetApp().GetMetadata()["region"] + "/" + bc.GetApp().GetMetadata()["zone"], "eu/a"},
		{"env level", bc.GetApp().GetLog().GetLevel(), "debug"},
		{"db default", bc.GetData().GetDatabase().GetSource(), DefaultDatabaseSource},
		{"driver default", bc.GetData().GetRocketmq().Cluster().DriverType(), rmq.DriverTypeV2},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}
