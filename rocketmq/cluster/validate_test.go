package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/cluster"
)

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    cluster.Settings
		want []string // "field: problem part"
	}{
		{"embedded", cluster.Settings{}, nil},
		{"embedded word", cluster.Settings{NameServers: []string{"embedded"}}, nil},
		{"cluster", cluster.Settings{NameServers: []string{"10.0.0.1:9876", "[::1]:9876"}, Namespace: "prod_1", ClientLogLevel: "Info",
			Credentials: &cluster.Credentials{AccessKey: "a", SecretKey: "s"}, TLS: &cluster.TLS{Enabled: true, InsecureSkipVerify: true}}, nil},
		{"name server domain", cluster.Settings{NameServers: []string{"embedded"}, NameServerDomain: "http://ns.example/list"}, nil},
		{"name server without port", cluster.Settings{NameServers: []string{"10.0.0.1:9876", "localhost"}}, []string{`name_servers[1]: "localhost" is not host:port`}},
		{"domain and name servers", cluster.Settings{NameServers: []string{"10.0.0.1:9876"}, NameServerDomain: "https://ns.example"},
			[]string{"name_server_domain: name_servers and name_server_domain exclude each other"}},
		{"domain not a URL", cluster.Settings{NameServerDomain: "ns.example:8080"}, []string{`name_server_domain: "ns.example:8080" is not an http:// or https:// URL`}},
		{"namespace", cluster.Settings{Namespace: "a/b"}, []string{`namespace: "a/b"`}},
		{"negatives", cluster.Settings{RetryCount: -1, SendTimeout: -time.Second}, []string{"retry_count: must not be negative", "send_timeout: must not be negative"}},
		{"client log level", cluster.Settings{ClientLogLevel: "loud"}, []string{`client_log_level: client log level "loud": want debug, info, warn or error`}},
		{"half credentials", cluster.Settings{Credentials: &cluster.Credentials{AccessKey: "a"}}, []string{"credentials: access_key and secret_key"}},
		{"tls the client cannot honour", cluster.Settings{TLS: &cluster.TLS{Enabled: true, CAFile: "ca.pem", ServerName: "mq", CertFile: "c", KeyFile: "k"}},
			[]string{"tls.insecure_skip_verify: rocketmq-client-go/v2 (the driver) cannot verify the broker's certificate",
				"tls.ca_file: rocketmq-client-go/v2 (the driver) cannot verify", "tls.server_name: ", "tls.cert_file: rocketmq-client-go/v2 (the driver) cannot present a client certificate"}},
		{"tls keys while tls is off", cluster.Settings{TLS: &cluster.TLS{InsecureSkipVerify: true, KeyFile: "k"}},
			[]string{"tls.insecure_skip_verify: has no effect while tls.enabled is false", "tls.key_file: has no effect"}},
		{"half certificate", cluster.Settings{Driver: "aliyun", TLS: &cluster.TLS{Enabled: true, KeyFile: "k"}}, []string{"tls.cert_file: cert_file and key_file go together"}},
		{"aliyun honours every TLS key", cluster.Settings{Driver: "aliyun", Endpoint: "https://h", TLS: &cluster.TLS{Enabled: true, CAFile: "ca.pem",
			ServerName: "mq", CertFile: "c", KeyFile: "k"}}, nil},
		{"v5", cluster.Settings{Driver: cluster.DriverV5, Endpoint: "10.0.0.1:8081;10.0.0.2:8081"}, nil},
		{"v5 embedded", cluster.Settings{Driver: cluster.DriverV5}, nil},
		{"v5 honours every TLS key", cluster.Settings{Driver: cluster.DriverV5, Endpoint: "10.0.0.1:8081", TLS: &cluster.TLS{Enabled: true, CAFile: "ca.pem",
			ServerName: "mq", CertFile: "c", KeyFile: "k"}}, nil},
		{"v5 with message trace", cluster.Settings{Driver: cluster.DriverV5, Trace: &cluster.Trace{MessageTrace: true}}, []string{"trace.message_trace: "}},
		{"v5 endpoint without port", cluster.Settings{Driver: cluster.DriverV5, Endpoint: "10.0.0.1:8081;proxy"}, []string{`endpoint: "proxy" (endpoint 2) is not host:port`}},
		{"aliyun", cluster.Settings{Driver: "aliyun", Endpoint: "https://1.mqrest.cn-hangzhou.aliyuncs.com", Namespace: "MQ_INST_1_a"}, nil},
		{"aliyun embedded", cluster.Settings{Driver: "aliyun"}, nil},
		{"unknown driver", cluster.Settings{Driver: "kafka"}, []string{`driver: unknown driver "kafka"`}},
		{"endpoint without aliyun or v5", cluster.Settings{Endpoint: "http://h"}, []string{"endpoint: is the endpoint of driver"}},
		{"aliyun bad endpoint", cluster.Settings{Driver: "aliyun", Endpoint: "tcp://h:1"}, []string{`endpoint: "tcp://h:1" is not http`}},
		{"aliyun cannot", cluster.Settings{Driver: "aliyun", NameServerDomain: "http://d", InstanceName: "i", Trace: &cluster.Trace{MessageTrace: true}},
			[]string{"name_server_domain: driver", "instance_name: driver", "trace.message_trace: RocketMQ's message trace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertFieldErrors(t, tc.s.Validate(), tc.want)
		})
	}
}

func TestSubscriptionValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    cluster.Subscription
		want []string
	}{
		{"valid", cluster.Subscription{Topic: "orders", Group: "g-1", TagExpression: "A || B", Concurrency: 1000}, nil},
		{"no topic", cluster.Subscription{}, []string{"topic: required"}},
		{"bad names", cluster.Subscription{Topic: "a b", Group: strings.Repeat("g", 128)}, []string{`topic: "a b" is not a valid`, "group: "}},
		{"two filters", cluster.Subscription{Topic: "t", TagExpression: "A", SQLExpression: "a > 1"}, []string{"tag_expression: tag_expression and sql_expression exclude each other"}},
		{"numbers", cluster.Subscription{Topic: "t", MaxReconsumeTimes: -1, Concurrency: 1001}, []string{"max_reconsume_times: must not be negative", "concurrency: 1001 is outside 0..1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertFieldErrors(t, tc.s.Validate(), tc.want)
		})
	}
}

func assertFieldErrors(t *testing.T, got []cluster.FieldError, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("errors = %v, want %d: %q", got, len(want), want)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i].Error(), w) && !strings.Contains(got[i].Error(), w) {
			t.Errorf("error %d = %q, want %q", i, got[i].Error(), w)
		}
	}
}

func TestOpenRefusesSettingsThatCannotWork(t *testing.T) {
	tlsOn := &cluster.TLS{Enabled: true, InsecureSkipVerify: true}
	for _, tc := range []struct {
		name               string
		producer, consumer cluster.Settings
		want               []string
	}{
		{"each side's errors", cluster.Settings{NameServers: []string{"nohost"}}, cluster.Settings{Credentials: &cluster.Credentials{SecretKey: "s"}},
			[]string{`producer name_servers[0]: "nohost"`, "consumer credentials:"}},
		{"tls to the embedded broker", cluster.Settings{TLS: tlsOn}, cluster.Settings{},
			[]string{"producer tls.enabled: the embedded broker serves plain TCP", "consumer tls.enabled: the embedded broker"}},
		{"tls on one side only", cluster.Settings{NameServers: []string{"10.0.0.1:9876"}, TLS: tlsOn}, cluster.Settings{TLS: &cluster.TLS{}},
			[]string{"the producer and the consumer must both use TLS or neither"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cluster.Open(context.Background(), tc.producer, tc.consumer, cluster.WithLogger(quiet))
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Open = %v, want %q", err, w)
				}
			}
		})
	}
}

func TestOpenRefusesV5WithoutProxyOnACluster(t *testing.T) {
	_, err := cluster.Open(context.Background(), cluster.Settings{Driver: cluster.DriverV5, NameServers: []string{"10.0.0.1:9876"}}, cluster.Settings{})
	if err == nil || !strings.Contains(err.Error(), "producer endpoint: driver v5 needs") || !strings.Contains(err.Error(), "consumer endpoint") {
		t.Fatalf("Open = %v, want both sides' endpoint named", err)
	}
}
