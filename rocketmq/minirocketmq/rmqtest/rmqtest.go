// Package rmqtest gives tests a RocketMQ name server address: the one in
// ROCKETMQ_NAMESRV when it is set (to run the same suite against a real
// cluster), else an embedded minirocketmq broker started for the test.
//
//	ns := rmqtest.NameServer(t)
//	p, _ := rocketmq.NewProducer(producer.WithNameServer([]string{ns}))
package rmqtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

// EnvNameServer is the environment variable naming an external name
// server ("host:port", or several separated by ';').
const EnvNameServer = "ROCKETMQ_NAMESRV"

// NameServer returns ROCKETMQ_NAMESRV when it is set; otherwise it starts an
// embedded broker with minirocketmq.RunT(t, opts...) (closed in t.Cleanup)
// and returns its name server address. opts apply to the embedded broker
// only.
func NameServer(t testing.TB, opts ...minirocketmq.Option) string {
	t.Helper()
	addr, _ := Start(t, opts...)
	return addr
}

// Start is NameServer that also returns the embedded broker, or nil when
// the address is external; tests that need the broker's test hooks skip
// themselves when it is nil.
func Start(t testing.TB, opts ...minirocketmq.Option) (string, *minirocketmq.Broker) {
	t.Helper()
	if ns := External(); ns != "" {
		return ns, nil
	}
	b := minirocketmq.RunT(t, opts...)
	return b.Addr(), b
}

// External returns ROCKETMQ_NAMESRV, "" when the embedded broker is used.
func External() string { return strings.TrimSpace(os.Getenv(EnvNameServer)) }

// Name returns a topic or group name unique to this test run: prefix, the
// test's name reduced to the characters RocketMQ allows, and a random
// suffix, at most 100 bytes. Use it so runs against a shared real cluster
// never collide.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('_')
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 87 {
		name = name[:87]
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return name + "_" + hex.EncodeToString(rnd[:])
}
