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
		{"cluster", cluster.Settings{NameServers: []string{"10.0.0.1:9876", "[::1]:9876"}, Namespace: "prod_1",
			Credentials: &cluster.Credentials{AccessKey: "a", SecretKey: "s"}, TLS: &cluster.TLS{CertFile: "c", KeyFile: "k"}}, nil},
		{"name server without port", cluster.Settings{NameServers: []string{"10.0.0.1:9876", "localhost"}}, []string{`name_servers[1]: "localhost" is not host:port`}},
		{"namespace", cluster.Settings{Namespace: "a/b"}, []string{`namespace: "a/b"`}},
		{"negatives", cluster.Settings{RetryCount: -1, SendTimeout: -time.Second}, []string{"retry_count: must not be negative", "send_timeout: must not be negative"}},
		{"half credentials", cluster.Settings{Credentials: &cluster.Credentials{AccessKey: "a"}}, []string{"credentials: access_key and secret_key"}},
		{"half certificate", cluster.Settings{TLS: &cluster.TLS{KeyFile: "k"}}, []string{"tls: cert_file and key_file"}},
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
	_, err := cluster.Open(context.Background(), cluster.Settings{NameServers: []string{"nohost"}},
		cluster.Settings{Credentials: &cluster.Credentials{SecretKey: "s"}})
	if err == nil || !strings.Contains(err.Error(), `producer name_servers[0]: "nohost"`) || !strings.Contains(err.Error(), "consumer credentials:") {
		t.Fatalf("Open = %v, want both sides' errors named", err)
	}
}
