package conf

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/log"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"gopkg.in/yaml.v3"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
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

// TestConfigFileShowsTheDefaults: configs/config.yaml loads to exactly what no
// configuration at all gives, so every value it shows is the default and deleting a
// line changes nothing.
func TestConfigFileShowsTheDefaults(t *testing.T) {
	file, c, err := Load(log.DefaultLogger, protoconf.NewFileSource("../../configs/config.yaml", ""))
	if err != nil {
		t.Fatalf("configs/config.yaml does not load: %v", err)
	}
	defer c.Close()
	empty, err := load(t, "{}\n")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(file, empty) {
		t.Errorf("configs/config.yaml differs from the defaults (internal/conf/defaults.go):\nfile:     %v\ndefaults: %v",
			protojson.Format(file), protojson.Format(empty))
	}
	none, c2, err := Load(log.DefaultLogger)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if !proto.Equal(none, empty) {
		t.Errorf("no configuration source = %v, want the defaults", protojson.Format(none))
	}
}

// TestConfigFileListsEveryKey: every key of the schema appears in configs/config.yaml,
// set or commented out ("# key:"), so the file documents the whole configuration.
func TestConfigFileListsEveryKey(t *testing.T) {
	raw, err := os.ReadFile("../../configs/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	commented := regexp.MustCompile(`(?m)^\s*#\s*-?\s*([a-z_]+):`)
	shown := map[string]bool{}
	for _, m := range commented.FindAllStringSubmatch(string(raw), -1) {
		shown[m[1]] = true
	}
	var walk func(md protoreflect.MessageDescriptor, node map[string]any, path string)
	walk = func(md protoreflect.MessageDescriptor, node map[string]any, path string) {
		for i := 0; i < md.Fields().Len(); i++ {
			fd := md.Fields().Get(i)
			name, key := string(fd.Name()), path+string(fd.Name())
			v, set := node[name]
			if !set && !shown[name] {
				t.Errorf("configs/config.yaml lacks %s", key)
				continue
			}
			if fd.Kind() != protoreflect.MessageKind || fd.IsMap() || fd.Message().FullName() == "google.protobuf.Duration" {
				continue
			}
			sub, _ := v.(map[string]any)
			walk(fd.Message(), sub, key+".")
		}
	}
	walk((&Bootstrap{}).ProtoReflect().Descriptor(), doc, "")
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
		{"negative duration", "data:\n  rocketmq:\n    producer:\n      send_timeout: -2s\n",
			nil, []string{"data.rocketmq.producer.send_timeout", "negative"}},
		{"duration without unit", "app:\n  shutdown_timeout: 10\n",
			nil, []string{"app.shutdown_timeout", "unit"}},
		{"bad duration", "server:\n  http:\n    timeout: soon\n",
			nil, []string{"server.http.timeout", `"soon"`}},
		{"number expected", "data:\n  database:\n    max_open_conns: many\n",
			nil, []string{"data.database.max_open_conns", "number"}},
		{"integer expected", "data:\n  database:\n    max_open_conns: 1.5\n",
			nil, []string{"data.database.max_open_conns", "integer"}},
		{"list expected", "data:\n  rocketmq:\n    name_servers: {a: b}\n",
			nil, []string{"data.rocketmq.name_servers", "list"}},
		{"bad name server", "data:\n  rocketmq:\n    name_servers: [localhost]\n",
			nil, []string{"data.rocketmq.name_servers[0]", "host:port"}},
		{"negative retries", "data:\n  rocketmq:\n    producer:\n      retry_count: -1\n",
			nil, []string{"data.rocketmq.producer.retry_count", "negative"}},
		{"missing handler", "server:\n  rocketmq:\n    subscriptions:\n      - topic: t\n",
			nil, []string{"server.rocketmq.subscriptions[0].handler", "required"}},
		{"bad topic", "server:\n  rocketmq:\n    subscriptions:\n      - topic: a/b\n        handler: h\n",
			nil, []string{"server.rocketmq.subscriptions[0].topic", `"a/b"`}},
		{"bad producer topic", "data:\n  rocketmq:\n    producer:\n      topic: a b\n", nil, []string{"data.rocketmq.producer.topic", `"a b"`}},
		{"tag and sql", "server:\n  rocketmq:\n    subscriptions:\n      - handler: h\n        tag_expression: a\n        sql_expression: b > 1\n",
			nil, []string{"server.rocketmq.subscriptions[0]", "exclude each other"}},
		{"timestamp needed", "server:\n  rocketmq:\n    subscriptions:\n      - handler: h\n        consume_from: TIMESTAMP\n",
			nil, []string{"server.rocketmq.subscriptions[0].consume_timestamp", "RFC 3339"}},
		{"timestamp without TIMESTAMP", "server:\n  rocketmq:\n    subscriptions:\n      - handler: h\n        consume_timestamp: \"2026-01-02T15:04:05Z\"\n",
			nil, []string{"server.rocketmq.subscriptions[0].consume_timestamp", "no effect"}},
		{"unknown codec", "data:\n  rocketmq:\n    codec: toml\n", nil, []string{"data.rocketmq.codec", `"toml"`}},
		{"client log level", "data:\n  rocketmq:\n    client_log_level: loud\n", nil, []string{"data.rocketmq.client_log_level", `"loud"`}},
		{"half credentials", "data:\n  rocketmq:\n    credentials:\n      access_key: ak\n", nil, []string{"data.rocketmq.credentials"}},
		{"tls the client cannot verify", "data:\n  rocketmq:\n    name_servers: [\"10.0.0.1:9876\"]\n    tls:\n      enabled: true\n      ca_file: ca.pem\n",
			nil, []string{"data.rocketmq.tls.insecure_skip_verify: rocketmq-client-go/v2", "data.rocketmq.tls.ca_file: rocketmq-client-go/v2"}},
		{"domain and name servers", "data:\n  rocketmq:\n    name_servers: [\"10.0.0.1:9876\"]\n    name_server_domain: http://ns/list\n",
			nil, []string{"data.rocketmq.name_server_domain", "exclude each other"}},
		{"log level", "app:\n  log:\n    level: loud\n", nil, []string{"app.log.level", `"loud"`}},
		{"driver", "data:\n  database:\n    driver: oracle\n", nil, []string{"data.database.driver", `"oracle"`}},
		{"rocketmq driver", "data:\n  rocketmq:\n    driver: kafka\n", nil, []string{"data.rocketmq.driver", `"kafka"`, "v2, v5, aliyun"}},
		{"endpoint without aliyun", "data:\n  rocketmq:\n    endpoint: http://h\n", nil, []string{"data.rocketmq.endpoint", "driver"}},
		{"aliyun bad endpoint", "", []string{"APP_DATA_ROCKETMQ_DRIVER=aliyun", "APP_DATA_ROCKETMQ_ENDPOINT=h:80"}, []string{"data.rocketmq.endpoint", `"h:80"`}},
		{"v5 bad endpoint", "", []string{"APP_DATA_ROCKETMQ_DRIVER=v5", "APP_DATA_ROCKETMQ_ENDPOINT=http://h"}, []string{"data.rocketmq.endpoint", `"http://h"`}},
		{"env negative duration", "{}\n", []string{"APP_APP_SHUTDOWN_TIMEOUT=-1s"}, []string{"app.shutdown_timeout", "negative"}},
		{"env bad codec", "{}\n", []string{"APP_DATA_ROCKETMQ_CODEC=csv"}, []string{"data.rocketmq.codec"}},
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

// TestLoadValues: keys from the file and the environment, and the defaults of what
// they leave out, reach the Bootstrap and the library's settings.
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
    group_prefix: shop
    subscriptions:
      - handler: order-created
        consume_mode: broadcasting
        orderly: true
        max_reconsume_times: 3
data:
  rocketmq:
    name_servers: ["10.0.0.1:9876"]
    trace: {enabled: false}
    producer:
      retry_count: 0
`
	bc, err := load(t, yaml,
		"APP_SERVER_HTTP_ADDR=127.0.0.1:2",
		"APP_DATA_ROCKETMQ_NAME_SERVERS=10.0.0.2:9876, 10.0.0.3:9876",
		"APP_DATA_ROCKETMQ_TLS_ENABLED=true",
		"APP_DATA_ROCKETMQ_TLS_INSECURE_SKIP_VERIFY=true",
		"APP_DATA_DATABASE_MAX_OPEN_CONNS=7",
		"APP_APP_METADATA_REGION=eu",
		"APP_APP_LOG_LEVEL=debug",
		"APP_NOT_A_KEY=1",
		"OTHER_SERVER_HTTP_ADDR=ignored",
	)
	if err != nil {
		t.Fatal(err)
	}
	sub := bc.GetServer().GetRocketmq().GetSubscriptions()[0]
	producer, consumer := bc.Data.Rocketmq.ProducerSettings(), bc.Data.Rocketmq.Settings()
	subs := bc.Server.Rocketmq.HandlerSubscriptions(bc.Data.Rocketmq.Producer.Topic, []string{"order-confirmed", "order-created"})
	checks := []struct {
		name      string
		got, want any
	}{
		{"shutdown", bc.GetApp().GetShutdownTimeout().AsDuration(), 90 * time.Second},
		{"http timeout", bc.GetServer().GetHttp().GetTimeout().AsDuration(), 500 * time.Millisecond},
		{"env addr wins", bc.GetServer().GetHttp().GetAddr(), "127.0.0.1:2"},
		{"grpc default", bc.GetServer().GetGrpc().GetAddr(), "0.0.0.0:9000"},
		{"mode", sub.GetConsumeMode(), ConsumeMode_BROADCASTING},
		{"orderly", sub.GetOrderly(), true},
		{"max reconsume", sub.GetMaxReconsumeTimes(), int32(3)},
		{"subscription topic default", sub.GetTopic(), "orders"},
		{"subscription group default", sub.GetGroup(), "shop-order-created"},
		{"subscription start default", sub.GetConsumeFrom(), ConsumeFrom_FIRST_OFFSET},
		{"a handler's default subscription", len(subs), 2},
		{"its group", subs[1].GetGroup(), "shop-order-confirmed"},
		{"its concurrency", subs[1].GetConcurrency(), int32(20)},
		{"its mode", subs[1].GetConsumeMode(), ConsumeMode_CLUSTERING},
		{"its redeliveries", subs[1].GetMaxReconsumeTimes(), int32(16)},
		{"its start", subs[1].GetConsumeFrom(), ConsumeFrom_FIRST_OFFSET},
		{"concurrency reaches the library", subs[1].Cluster().Concurrency, 20},
		{"env list", strings.Join(producer.NameServers, ","), "10.0.0.2:9876,10.0.0.3:9876"},
		{"the consumer's name servers", strings.Join(consumer.NameServers, ","), "10.0.0.2:9876,10.0.0.3:9876"},
		{"yaml 0 retries wins over the default 2", producer.RetryCount, 0},
		{"send timeout default", producer.SendTimeout, 3 * time.Second},
		{"yaml false wins over the default true", producer.Trace.Enabled, false},
		{"env bool", consumer.TLS.Enabled, true},
		{"client log level default", consumer.ClientLogLevel, "warn"},
		{"embedded data dir default", consumer.Embedded.DataDir, "data/rocketmq"},
		{"env int", bc.GetData().GetDatabase().GetMaxOpenConns(), int32(7)},
		{"env map merges", bc.GetApp().GetMetadata()["region"] + "/" + bc.GetApp().GetMetadata()["zone"], "eu/a"},
		{"env level", bc.GetApp().GetLog().GetLevel(), "debug"},
		{"db default", bc.GetData().GetDatabase().GetSource(), "data/app.db"},
		{"driver default", consumer.DriverType(), rmq.DriverTypeV2},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestSubscriptionCluster: every key of a subscription reaches the library's.
func TestSubscriptionCluster(t *testing.T) {
	ts := "2026-01-02T15:04:05+05:00"
	got := (&Subscription{Topic: "t", Group: "g", SqlExpression: "a > 1", ConsumeMode: ConsumeMode_BROADCASTING, Orderly: true,
		MaxReconsumeTimes: 3, Concurrency: 5, ConsumeFrom: ConsumeFrom_TIMESTAMP, ConsumeTimestamp: ts}).Cluster()
	want, _ := time.Parse(time.RFC3339, ts)
	if got.Topic != "t" || got.Group != "g" || got.SQLExpression != "a > 1" || !got.Broadcast || !got.Orderly ||
		got.MaxReconsumeTimes != 3 || got.Concurrency != 5 || got.ConsumeFrom != broker.ConsumeFromTimestamp || !got.ConsumeTimestamp.Equal(want) {
		t.Errorf("Cluster() = %+v", got)
	}
}
