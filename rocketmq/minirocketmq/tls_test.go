package minirocketmq_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// The official client's TLS switch is process-wide, so its end-to-end TLS
// test lives in its own package (tlstest). These tests speak TLS with our
// own remoting client.

func tlsClientConfig(t *testing.T, f rmqtest.TLSFiles, withCert bool) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if withCert {
		cert, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// invokeVia sends one request over a connection that dial opened and
// returns the answer or the error.
func invokeVia(t *testing.T, dial func(ctx context.Context) (net.Conn, error), req *remoting.Command) (*remoting.Command, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	c := remoting.NewConn(nc, remoting.Config{})
	served := make(chan struct{})
	go func() { defer close(served); _ = c.Serve() }()
	defer func() { _ = c.Close(); <-served }()
	return c.Invoke(ctx, req)
}

func dialTLS(addr string, cfg *tls.Config) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		d := tls.Dialer{Config: cfg}
		return d.DialContext(ctx, "tcp", addr)
	}
}

func dialPlain(addr string) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

func routeRequest() *remoting.Command {
	return remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", "TBW102")
}

func maxOffsetRequest() *remoting.Command {
	return remoting.NewRequest(remoting.GetMaxOffset, "topic", "TBW102", "queueId", "0")
}

// TestTLSListeners: with WithTLS both listeners speak TLS (the certificate
// verifies against its CA), and a plain client is refused.
func TestTLSListeners(t *testing.T) {
	skipExternal(t)
	f := rmqtest.WriteTLSFiles(t)
	cfg, err := minirocketmq.LoadTLSConfig(f.ServerCert, f.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	b := minirocketmq.RunT(t, minirocketmq.WithTLS(cfg))
	client := tlsClientConfig(t, f, false)
	if resp, err := invokeVia(t, dialTLS(b.NameServerAddr(), client), routeRequest()); err != nil || resp.Code != remoting.Success {
		t.Fatalf("route over TLS: %v %+v", err, resp)
	}
	if resp, err := invokeVia(t, dialTLS(b.BrokerAddr(), client), maxOffsetRequest()); err != nil || resp.Code != remoting.Success {
		t.Fatalf("broker request over TLS: %v %+v", err, resp)
	}
	for _, addr := range []string{b.NameServerAddr(), b.BrokerAddr()} {
		if resp, err := invokeVia(t, dialPlain(addr), routeRequest()); err == nil {
			t.Fatalf("plain request to %s answered: %+v", addr, resp)
		}
	}
}

// TestTLSClientCertificates: with a client CA, a client without a
// certificate signed by it is refused.
func TestTLSClientCertificates(t *testing.T) {
	skipExternal(t)
	f := rmqtest.WriteTLSFiles(t)
	cfg, err := minirocketmq.LoadTLSConfig(f.ServerCert, f.ServerKey, f.CA)
	if err != nil {
		t.Fatal(err)
	}
	b := minirocketmq.RunT(t, minirocketmq.WithTLS(cfg))
	if resp, err := invokeVia(t, dialTLS(b.BrokerAddr(), tlsClientConfig(t, f, true)), maxOffsetRequest()); err != nil || resp.Code != remoting.Success {
		t.Fatalf("with a client certificate: %v %+v", err, resp)
	}
	if resp, err := invokeVia(t, dialTLS(b.BrokerAddr(), tlsClientConfig(t, f, false)), maxOffsetRequest()); err == nil {
		t.Fatalf("without a client certificate: answered %+v", resp)
	}
}

// TestTLSPermissive: in permissive mode TLS and plain clients share the
// ports.
func TestTLSPermissive(t *testing.T) {
	skipExternal(t)
	f := rmqtest.WriteTLSFiles(t)
	cfg, err := minirocketmq.LoadTLSConfig(f.ServerCert, f.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	b := minirocketmq.RunT(t, minirocketmq.WithTLS(cfg), minirocketmq.WithTLSMode(minirocketmq.TLSPermissive))
	for name, dial := range map[string]func(context.Context) (net.Conn, error){
		"tls":   dialTLS(b.BrokerAddr(), tlsClientConfig(t, f, false)),
		"plain": dialPlain(b.BrokerAddr()),
	} {
		if resp, err := invokeVia(t, dial, maxOffsetRequest()); err != nil || resp.Code != remoting.Success {
			t.Fatalf("%s client in permissive mode: %v %+v", name, err, resp)
		}
	}
}

func TestTLSOptions(t *testing.T) {
	if _, err := minirocketmq.LoadTLSConfig("", "key.pem", ""); err == nil {
		t.Fatal("a TLS config without a certificate was built")
	}
	f := rmqtest.WriteTLSFiles(t)
	if _, err := minirocketmq.LoadTLSConfig(f.ServerCert, f.ServerKey, f.ServerKey); err == nil {
		t.Fatal("a key file was accepted as client CA file")
	}
	for in, want := range map[string]minirocketmq.TLSMode{"enforcing": minirocketmq.TLSEnforcing, "Permissive": minirocketmq.TLSPermissive} {
		if got, err := minirocketmq.ParseTLSMode(in); err != nil || got != want {
			t.Fatalf("ParseTLSMode(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := minirocketmq.ParseTLSMode("disabled"); err == nil {
		t.Fatal("ParseTLSMode accepted disabled")
	}
}
