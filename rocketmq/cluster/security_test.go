package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// securedBroker starts an embedded broker that serves TLS only and checks ACL
// signatures (admin-key is an admin account), and returns its name server.
func securedBroker(t *testing.T) string {
	t.Helper()
	files := rmqtest.WriteTLSFiles(t)
	srv, err := minirocketmq.LoadTLSConfig(files.ServerCert, files.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := acl.Parse([]byte("accounts:\n  - accessKey: admin-key\n    secretKey: admin-secret\n    admin: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	return minirocketmq.RunT(t, minirocketmq.WithTLS(srv), minirocketmq.WithACL(v)).Addr()
}

// TestAdminCallsUseTLSAndCredentials: topic creation, readiness, consumer lag and the
// doctor reach a cluster that requires TLS and checks signatures with the settings'
// TLS and credentials, and fail without them. (The drivers' TLS is process-wide, so
// this test connects none: broker/rocketmq/tlstest does.)
func TestAdminCallsUseTLSAndCredentials(t *testing.T) {
	ns := securedBroker(t)
	tlsOn := &cluster.TLS{Enabled: true, InsecureSkipVerify: true}
	admin := &cluster.Credentials{AccessKey: "admin-key", SecretKey: "admin-secret"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic, group := rmqtest.Name(t, "topic"), rmqtest.Name(t, "group")

	ep := open(t, cluster.Settings{NameServers: []string{ns}, TLS: tlsOn, Credentials: admin, Namespace: "sec"}, cluster.Settings{})
	if err := ep.Producer.EnsureTopics(ctx, topic); err != nil {
		t.Fatalf("EnsureTopics over TLS as admin: %v", err)
	}
	if err := ep.Consumer.HealthCheck().Check(ctx); err != nil {
		t.Errorf("readiness over TLS: %v", err)
	}
	lags, err := ep.Consumer.ConsumerLag(ctx, cluster.Subscription{Topic: topic, Group: group})
	if err != nil || len(lags) == 0 || lags[0].Topic != "sec%"+topic {
		t.Errorf("ConsumerLag over TLS, signed = %v, %v; want the queues of sec%%%s", lags, err, topic)
	}
	var out strings.Builder
	if n := ep.Producer.Doctor(ctx, &out, topic); n != 0 || !strings.Contains(out.String(),
		"connection: TLS (broker certificate not verified), ACL access key admin-key, namespace sec") {
		t.Errorf("doctor found %d problems:\n%s", n, out.String())
	}

	unsigned := open(t, cluster.Settings{NameServers: []string{ns}, TLS: tlsOn, Namespace: "sec"}, cluster.Settings{})
	if err := unsigned.Producer.EnsureTopics(ctx, rmqtest.Name(t, "other")); err == nil || !strings.Contains(err.Error(), "No accessKey") {
		t.Errorf("EnsureTopics without credentials = %v, want the broker's refusal", err)
	}
	if _, err := unsigned.Consumer.ConsumerLag(ctx, cluster.Subscription{Topic: topic, Group: group}); err == nil {
		t.Error("ConsumerLag without credentials passed on an ACL cluster")
	}
	plain := open(t, cluster.Settings{NameServers: []string{ns}, Credentials: admin}, cluster.Settings{})
	if err := plain.Consumer.HealthCheck().Check(ctx); err == nil {
		t.Error("a plain-TCP readiness check of a TLS-only cluster passed")
	}
}
