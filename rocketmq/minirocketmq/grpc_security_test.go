package minirocketmq_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestGRPCACL: with WithACL every RPC needs the v5 signature of a known
// account, and the permissions of plain_acl.yml apply to its topics and
// groups; refusals are UNAUTHORIZED with the AclException's message.
func TestGRPCACL(t *testing.T) {
	readOnly := rmqtest.Name(t, "ReadOnly")
	v, err := acl.Parse([]byte(fmt.Sprintf(`
accounts:
  - accessKey: app-client
    secretKey: app-secret-1
    defaultTopicPerm: PUB|SUB
    defaultGroupPerm: SUB
    topicPerms:
      - %s=SUB
`, readOnly)))
	if err != nil {
		t.Fatal(err)
	}
	b := startV5(t, minirocketmq.WithACL(v), minirocketmq.WithGRPCLongPolling(100*time.Millisecond, time.Second))
	topic := rmqtest.Name(t, "T")
	for _, tp := range []string{topic, readOnly} {
		if err := b.CreateTopic(tp, 1); err != nil {
			t.Fatal(err)
		}
	}
	send := func(c *v5client, topic string) *v2.Status {
		t.Helper()
		return c.send(c.newMsg(topic, "x")).GetStatus()
	}
	cases := []struct {
		name   string
		client *v5client
		topic  string
		want   v2.Code
		text   string
	}{
		{"no credentials", dialV5(t, b), topic, v2.Code_UNAUTHORIZED, "No accessKey is configured"},
		{"unknown account", dialV5(t, b, withCredentials("somebody", "whatever1")), topic, v2.Code_UNAUTHORIZED, "No acl config for somebody"},
		{"wrong secret", dialV5(t, b, withCredentials("app-client", "wrong-secret")), topic, v2.Code_UNAUTHORIZED, "Check signature failed for accessKey=app-client"},
		{"no permission", dialV5(t, b, withCredentials("app-client", "app-secret-1")), readOnly, v2.Code_UNAUTHORIZED, "No default permission for topic:" + readOnly},
		{"allowed", dialV5(t, b, withCredentials("app-client", "app-secret-1")), topic, v2.Code_OK, "OK"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := send(tc.client, tc.topic)
			if st.GetCode() != tc.want || st.GetMessage() != tc.text {
				t.Fatalf("send: %v %q, want %v %q", st.GetCode(), st.GetMessage(), tc.want, tc.text)
			}
		})
	}
	ok := dialV5(t, b, withCredentials("app-client", "app-secret-1"))
	group := rmqtest.Name(t, "G")
	ok.consumer(group, readOnly)
	if msgs := ok.receive(group, readOnly); len(msgs) != 0 {
		t.Fatalf("received %v from an empty topic", bodiesOf(msgs))
	}
}

// TestGRPCTLS: without WithTLS the endpoint serves plain and TLS clients
// (the official SDKs dial TLS by default); with WithTLS in enforcing mode
// only TLS, with the configured certificate.
func TestGRPCTLS(t *testing.T) {
	clientTLS := credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}) // what the SDKs do by default
	probe := func(t *testing.T, b *minirocketmq.Broker, creds credentials.TransportCredentials) error {
		c := dialV5Creds(t, b.GRPCAddr(), creds)
		_, err := c.api.QueryRoute(c.ctx(3*time.Second), &v2.QueryRouteRequest{Topic: c.res("SomeTopic")})
		return err
	}
	t.Run("default serves both", func(t *testing.T) {
		b := startV5(t)
		if err := probe(t, b, insecure.NewCredentials()); err != nil {
			t.Fatalf("plain: %v", err)
		}
		if err := probe(t, b, clientTLS); err != nil {
			t.Fatalf("TLS: %v", err)
		}
	})
	t.Run("enforcing", func(t *testing.T) {
		files := rmqtest.WriteTLSFiles(t)
		cfg, err := minirocketmq.LoadTLSConfig(files.ServerCert, files.ServerKey, "")
		if err != nil {
			t.Fatal(err)
		}
		b := startV5(t, minirocketmq.WithTLS(cfg))
		pem, err := os.ReadFile(files.CA)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		verifying := credentials.NewTLS(&tls.Config{RootCAs: roots}) // proves the configured certificate is served
		if err := probe(t, b, verifying); err != nil {
			t.Fatalf("TLS: %v", err)
		}
		if err := probe(t, b, insecure.NewCredentials()); err == nil {
			t.Fatal("a plain client got an answer from an enforcing TLS endpoint")
		}
	})
}

// TestGRPCCloseEndsCalls: Close ends waiting receives, pulls and Telemetry
// streams at once (the package's TestMain then checks that no goroutine of
// the broker is left).
func TestGRPCCloseEndsCalls(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	b := startV5(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	c := dialV5(t, b)
	tm := c.consumer(group, topic)
	req := c.receiveReq(group, topic)
	req.LongPollingTimeout = nil // wait as long as the deadline allows
	got := make(chan receiveResult, 1)
	go func() { got <- c.receiveWith(req, time.Minute) }()
	waitFor(t, 5*time.Second, "the receive to wait", func() bool { return b.PopWaiting(topic) })
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting receive outlived Close by 5 s")
	}
	if err := tm.end(t); err == nil {
		t.Fatal("the telemetry stream ended without an error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	_ = c.cc.Close()
	goleak.VerifyNone(t, ignore)
}
