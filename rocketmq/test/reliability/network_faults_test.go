package reliability

import (
	"runtime"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// proxiedBroker starts an embedded broker whose name server and broker are reached only
// through fault proxies: clients get the name server proxy's address, and routes name
// the broker proxy (WithAdvertisedAddr), so every byte between client and broker passes
// a proxy. (A real cluster advertises its own address, so this test always uses the
// embedded broker.)
func proxiedBroker(t testing.TB, opts ...minirocketmq.Option) (nsProxy, brokerProxy *FaultProxy, b *minirocketmq.Broker) {
	t.Helper()
	nsProxy, brokerProxy = NewFaultProxy(t), NewFaultProxy(t)
	b = minirocketmq.RunT(t, append([]minirocketmq.Option{minirocketmq.WithAdvertisedAddr(brokerProxy.Addr())}, opts...)...)
	nsProxy.Start(b.NameServerAddr())
	brokerProxy.Start(b.BrokerAddr())
	return nsProxy, brokerProxy, b
}

// TestNetworkFaults publishes keyed messages without pause while the connections
// between the clients (a producer, and a Kratos transport server consuming) and the
// broker suffer, in turn: 150 ms delay on every chunk, resets of every connection, a
// partition that holds all traffic for 3 s, and 2 s of refused connections. After the
// network heals every acknowledged send must be consumed (counted by key; duplicates
// allowed, loss not), and the process must be back to the goroutine count it had before
// the faults, give or take the clients' own timers.
func TestNetworkFaults(t *testing.T) {
	nsProxy, brokerProxy, _ := proxiedBroker(t, ShortDelays())
	proxies := []*FaultProxy{nsProxy, brokerProxy}
	ns := nsProxy.Addr()
	fl := StartFlow(t, ns, rmqtest.Name(t, "net"), rmqtest.Name(t, "netc"), 4)
	c, seq, failed, stopLoad := fl.Tally, &fl.Seq, &fl.Failed, fl.Stop

	// Warm up: messages flow, every client connection is open.
	poll.Until(t, 30*time.Second, "the first messages to be consumed", func() bool { return fl.Consumed() >= 20 })
	baseline := runtime.NumGoroutine()

	each := func(f func(*FaultProxy)) {
		for _, px := range proxies {
			f(px)
		}
	}
	phase := func(name string, d time.Duration, begin func(*FaultProxy)) {
		t.Helper()
		before := seq.Load()
		each(begin)
		time.Sleep(d) // the length of the fault
		each((*FaultProxy).Heal)
		t.Logf("%-9s %4s: %d sends attempted during the fault; so far %s", name, d, seq.Load()-before, c.Figures())
	}
	unit := Pick(time.Second, 2*time.Second)
	for cycle := 0; cycle < Pick(1, 5); cycle++ {
		phase("delay", unit, func(px *FaultProxy) { px.SetDelay(150 * time.Millisecond) })
		for i := 0; i < 2; i++ {
			phase("reset", unit/2, (*FaultProxy).ResetAll)
		}
		phase("partition", 2*unit, (*FaultProxy).Hold)
		phase("refuse", unit, (*FaultProxy).Refuse)
		phase("recover", unit, func(*FaultProxy) {})
	}
	stopLoad()
	healed := time.Now()
	// A push consumer whose pull request was on a reset connection pulls again only when
	// that request times out (the client does not fail requests of a closed connection;
	// 30 s), so recovery takes up to that long.
	c.WaitAccounted(t, 2*time.Minute)
	t.Logf("every acknowledged message consumed %s after the last fault", time.Since(healed).Round(100*time.Millisecond))
	acc, resets, open := brokerProxy.Stats()
	nsAcc, nsResets, _ := nsProxy.Stats()
	t.Logf("network faults: %s; %d sends failed (not counted as sent); broker connections accepted %d, reset %d, open %d; name server connections accepted %d, reset %d",
		c.Figures(), failed.Load(), acc, resets, open, nsAcc, nsResets)
	if resets == 0 {
		t.Error("the proxy reset no broker connection: the faults did not happen")
	}

	// No goroutine growth: what the clients started for the broken connections is gone.
	// The allowance covers timers of the client that come and go (route and heartbeat
	// tasks run in fresh goroutines).
	const allowance = 10
	deadline := time.Now().Add(30 * time.Second)
	for n := runtime.NumGoroutine(); n > baseline+allowance; n = runtime.NumGoroutine() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before the faults, %d after them (allowance %d):\n%s",
				baseline, n, allowance, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("goroutines: %d before the faults, %d after", baseline, runtime.NumGoroutine())
}
