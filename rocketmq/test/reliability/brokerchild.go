package reliability

import (
	"regexp"
	"testing"
	"time"
)

var brokerListenRE = regexp.MustCompile(`minirocketmq: name server (\S+), broker (\S+) \(advertised`)

// BrokerChild is cmd/minirocketmq run as a child process on a data directory, reached
// through two fault proxies whose addresses stay the same across restarts (the broker
// gets new ports each time; routes name the broker proxy), so a test can SIGKILL it and
// start it again under its clients.
type BrokerChild struct {
	bin                  string
	dir                  string
	nsProxy, brokerProxy *FaultProxy
	p                    *Proc
	starts               int
}

// NewBrokerChild prepares a broker of the minirocketmq binary bin (see Builder) on a
// fresh data directory; Start runs it.
func NewBrokerChild(t testing.TB, bin string) *BrokerChild {
	t.Helper()
	return &BrokerChild{bin: bin, dir: t.TempDir(), nsProxy: NewFaultProxy(t), brokerProxy: NewFaultProxy(t)}
}

// NameServer is the name server address clients are given (the proxy's).
func (b *BrokerChild) NameServer() string { return b.nsProxy.Addr() }

// Proc is the running process (of the last Start).
func (b *BrokerChild) Proc() *Proc { return b.p }

// Start runs the broker (SYNC_FLUSH: a send is acknowledged once it is on disk; short
// transaction checks and delay levels) and points the proxies at it.
func (b *BrokerChild) Start(t testing.TB) {
	t.Helper()
	b.p = StartProc(t, "minirocketmq", b.bin, nil,
		"-namesrv", "127.0.0.1:0", "-broker", "127.0.0.1:0", "-advertise", b.brokerProxy.Addr(),
		"-data", b.dir, "-flush", "SYNC_FLUSH",
		"-tx-check-interval", "500ms", "-tx-timeout", "500ms",
		"-delay-levels", "100ms 200ms 300ms 400ms 500ms 600ms 700ms 800ms 900ms 1s 1s 1s 1s 1s 1s 1s 1s 1s")
	m := b.p.WaitLine(t, brokerListenRE, 60*time.Second)
	if b.starts == 0 {
		b.nsProxy.Start(m[1])
		b.brokerProxy.Start(m[2])
	} else {
		b.nsProxy.SetTarget(m[1])
		b.brokerProxy.SetTarget(m[2])
	}
	b.starts++
}

// Kill SIGKILLs the broker; the proxies reset the connections the clients had to it.
func (b *BrokerChild) Kill(t testing.TB) {
	t.Helper()
	b.p.Kill(t)
	b.nsProxy.ResetAll()
	b.brokerProxy.ResetAll()
}
