package admin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// testACL has an admin account and one that may only publish and subscribe.
const testACL = `
accounts:
  - accessKey: admin-key
    secretKey: admin-secret
    admin: true
  - accessKey: app-key
    secretKey: app-secret
    defaultTopicPerm: PUB|SUB
    defaultGroupPerm: PUB|SUB
`

var localhost = netip.MustParseAddr("127.0.0.1")

// securedBroker starts an embedded broker that serves TLS only and checks ACL
// signatures, and returns its name server and a client TLS configuration that
// verifies its certificate.
func securedBroker(t *testing.T, opts ...minirocketmq.Option) (string, *tls.Config) {
	t.Helper()
	files := rmqtest.WriteTLSFiles(t)
	srv, err := minirocketmq.LoadTLSConfig(files.ServerCert, files.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := acl.Parse([]byte(testACL))
	if err != nil {
		t.Fatal(err)
	}
	b := minirocketmq.RunT(t, append([]minirocketmq.Option{minirocketmq.WithTLS(srv), minirocketmq.WithACL(v)}, opts...)...)
	pem, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	return b.Addr(), &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

// TestProbeCompletesTheBrokersTLSHandshake: with WithTLS, a broker address that accepts
// TCP connections but does not speak TLS is reported unreachable (a TCP connect alone
// would pass it).
func TestProbeCompletesTheBrokersTLSHandshake(t *testing.T) {
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })
	go func() {
		for {
			c, err := plain.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("not a TLS server\n"))
			_ = c.Close()
		}
	}()
	ns, cfg := securedBroker(t, minirocketmq.WithAdvertisedAddr(plain.Addr().String()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep := Probe(ctx, []string{ns}, nil, WithTLS(cfg))
	err, listed := rep.Brokers[plain.Addr().String()]
	if !listed {
		t.Fatalf("the probe did not check the advertised broker %s: %+v", plain.Addr(), rep)
	}
	if err == nil || rep.OK() {
		t.Fatalf("broker %s that does not speak TLS: probe error %v, OK %v; want a handshake error", plain.Addr(), err, rep.OK())
	}
}

// TestSecuredCluster: against a broker that requires TLS and checks ACL, every admin
// call works with WithTLS and the credentials of an admin account, and fails (with
// the reason) without them.
func TestSecuredCluster(t *testing.T) {
	ns, cfg := securedBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	secure, admin := WithTLS(cfg), WithCredentials("admin-key", "admin-secret", "")
	topics := []string{rmqtest.Name(t, "secured")}

	if rep := Probe(ctx, []string{ns}, nil); rep.OK() {
		t.Error("a plain-TCP probe of a TLS-only cluster passed")
	}
	if rep := Probe(ctx, []string{ns}, nil, secure); !rep.OK() {
		t.Fatalf("probe over TLS: %v", rep.Err())
	}
	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{"unsigned", []Option{secure}, "No accessKey"},
		{"wrong secret", []Option{secure, WithCredentials("admin-key", "not-the-secret", "")}, "Check signature failed"},
		{"not an admin", []Option{secure, WithCredentials("app-key", "app-secret", "")}, "Need admin permission"},
	} {
		err := EnsureTopics(ctx, []string{ns}, topics, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mqadmin updateTopic") {
			t.Errorf("EnsureTopics %s = %v, want %q and how to create the topic by hand", tc.name, err, tc.want)
		}
	}
	if err := EnsureTopics(ctx, []string{ns}, topics, secure, admin); err != nil {
		t.Fatalf("EnsureTopics as admin over TLS: %v", err)
	}
	if rep := Probe(ctx, []string{ns}, topics, secure); len(rep.NameServers[0].Routes[topics[0]]) == 0 {
		t.Fatalf("no route for %s after EnsureTopics: %+v", topics[0], rep)
	}

	subs := []Subscription{{Topic: topics[0], Group: rmqtest.Name(t, "group")}}
	if _, err := ConsumerLag(ctx, []string{ns}, subs, secure); err == nil || !strings.Contains(err.Error(), "No accessKey") {
		t.Errorf("unsigned ConsumerLag = %v, want the broker's refusal", err)
	}
	lags, err := ConsumerLag(ctx, []string{ns}, subs, secure, WithCredentials("app-key", "app-secret", "token"))
	if err != nil || len(lags) != DefaultTopicQueues {
		t.Errorf("ConsumerLag with an application account = %d queues, %v; want %d", len(lags), err, DefaultTopicQueues)
	}
	if err := DeleteTopics(ctx, []string{ns}, topics, secure, admin); err != nil {
		t.Errorf("DeleteTopics as admin over TLS: %v", err)
	}
}

// TestSignMatchesTheBrokersCheck: the signature covers every header field and the
// body, with and without a security token, as the broker's validator recomputes it.
func TestSignMatchesTheBrokersCheck(t *testing.T) {
	v, err := acl.Parse([]byte(testACL))
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"", "sts-token"} {
		req := newTopicRequest("T", 4, "")
		req.Body = []byte("body")
		sign(req, &credentials{"admin-key", "admin-secret", token})
		if err := v.Check(req, localhost); err != nil {
			t.Errorf("token %q: the broker refuses the signature: %v", token, err)
		}
		req.Body = []byte("changed")
		if err := v.Check(req, localhost); err == nil {
			t.Errorf("token %q: a request changed after signing passed", token)
		}
	}
}
