package rocketmq

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// TestV5SignerMatchesTheServer: the driver's signature is the one the server computes
// for the same secret and time.
func TestV5SignerMatchesTheServer(t *testing.T) {
	for _, tc := range []struct{ ak, sk, at string }{
		{"app-client", "app-secret-1", "20260101T120000Z"},
		{"k", "", "20250704T000000Z"},
	} {
		got := v5Signer{accessKey: tc.ak, secretKey: tc.sk}.authorization(tc.at)
		if want := acl.SignGRPC(tc.ak, tc.sk, tc.at); got != want {
			t.Errorf("authorization = %q, the server's = %q", got, want)
		}
	}
	if kv := (v5Signer{}).appendTo(nil, "x"); len(kv) != 0 {
		t.Errorf("no credentials signed %v", kv)
	}
	kv := v5Signer{accessKey: "a", secretKey: "s", securityToken: "tok"}.appendTo(nil, "x")
	if len(kv) != 4 || kv[2] != mdSessionToken || kv[3] != "tok" {
		t.Errorf("security token metadata = %v", kv)
	}
}

// TestV5Credentials: with ACL on, the driver's v5 signature lets the right account in
// and a wrong secret fails Connect with the server's reason.
func TestV5Credentials(t *testing.T) {
	v, err := acl.Parse([]byte(`
accounts:
  - accessKey: app-client
    secretKey: app-secret-1
    defaultTopicPerm: PUB|SUB
    defaultGroupPerm: SUB
`))
	if err != nil {
		t.Fatal(err)
	}
	e := newV5Env(t, minirocketmq.WithACL(v))
	t.Run("wrong secret", func(t *testing.T) {
		b := NewV5(WithNameServer([]string{e.mini.GRPCAddr()}), WithCredentials("app-client", "wrong", ""), broker.WithLogger(testLogger()))
		err := b.Connect()
		if err == nil {
			_ = b.Disconnect()
			t.Fatal("Connect with a wrong secret succeeded")
		}
		if !strings.Contains(err.Error(), "Check signature failed") {
			t.Errorf("Connect = %v, want the server's reason", err)
		}
	})
	t.Run("right secret", func(t *testing.T) {
		e := e.in(t)
		b := e.connect(WithCredentials("app-client", "app-secret-1", ""))
		topic, group := e.topic("NORMAL"), e.group(false, 0)
		rec := collectV5(t, b, topic, group)
		if err := b.Publish(context.Background(), topic, "x"); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, 10*time.Second, "the delivery", func() bool { return rec.len() == 1 })
	})
}

// TestV5TLS: the driver verifies the server's certificate with the caller's tls.Config
// (unlike rocketmq-client-go), and fails against a certificate it does not trust.
func TestV5TLS(t *testing.T) {
	files := rmqtest.WriteTLSFiles(t)
	cfg, err := minirocketmq.LoadTLSConfig(files.ServerCert, files.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	e := newV5Env(t, minirocketmq.WithTLS(cfg))
	pem, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	t.Run("verified", func(t *testing.T) {
		e := e.in(t)
		b := e.connect(broker.WithTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}))
		topic, group := e.topic("NORMAL"), e.group(false, 0)
		rec := collectV5(t, b, topic, group)
		if err := b.Publish(context.Background(), topic, "x"); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, 10*time.Second, "the delivery", func() bool { return rec.len() == 1 })
	})
	for _, tc := range []struct {
		name string
		opts []broker.Option
	}{
		{"untrusted certificate", []broker.Option{broker.WithEnableSecure(true)}},
		{"plain client", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewV5(append([]broker.Option{WithNameServer([]string{e.mini.GRPCAddr()}), broker.WithLogger(testLogger()), WithSendTimeout(time.Second)}, tc.opts...)...)
			if err := b.Connect(); err == nil {
				_ = b.Disconnect()
				t.Fatal("Connect succeeded")
			}
		})
	}
}

// TestV5CrossProtocol: a message of the v2 driver (remoting) reaches a v5 consumer and
// the other way round, with tag, keys and properties.
func TestV5CrossProtocol(t *testing.T) {
	e := newV5Env(t)
	v5 := e.connect()
	v2b := newTestBroker(t, e.mini.Addr())
	for _, tc := range []struct {
		name     string
		pub, sub broker.Broker
	}{
		{"remoting to gRPC", v2b, v5},
		{"gRPC to remoting", v5, v2b},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := e.in(t)
			topic, group := e.topic("NORMAL"), e.group(false, 0)
			rec := collectV5(t, tc.sub, topic, group, WithConsumeFromFirst())
			body := fmt.Sprintf(`{"id":1,"note":%q}`, tc.name)
			if err := tc.pub.Publish(context.Background(), topic, []byte(body), WithTag("tagX"),
				WithKeys([]string{"key1", "key2"}), WithProperties(map[string]string{"color": "blue"})); err != nil {
				t.Fatal(err)
			}
			poll.Until(t, 30*time.Second, "the delivery", func() bool { return rec.len() == 1 })
			ev := rec.all()[0]
			if string(ev.body.([]byte)) != body {
				t.Errorf("body = %q", ev.body)
			}
			for k, v := range map[string]string{HeaderTags: "tagX", HeaderKeys: "key1 key2", "color": "blue", HeaderTopic: topic} {
				if ev.headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, ev.headers[k], v)
				}
			}
			if ev.headers[HeaderMessageID] == "" {
				t.Error("no message id")
			}
		})
	}
}

func TestStatusError(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", statusErr("send message", nil))
	var se *StatusError
	if !errors.As(err, &se) || se.Op != "send message" {
		t.Fatalf("statusErr(nil) = %v", err)
	}
}
