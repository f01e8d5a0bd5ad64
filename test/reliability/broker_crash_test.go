package reliability

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

var brokerListenRE = regexp.MustCompile(`minirocketmq: name server (\S+), broker (\S+) \(advertised`)

// brokerChild is cmd/minirocketmq run as a child process on a data directory, reached
// through two proxies whose addresses stay the same across restarts (the broker gets
// new ports each time; routes name the broker proxy).
type brokerChild struct {
	dir                  string
	nsProxy, brokerProxy *faultProxy
	p                    *proc
	starts               int
}

func newBrokerChild(t testing.TB) *brokerChild {
	t.Helper()
	return &brokerChild{dir: t.TempDir(), nsProxy: newFaultProxy(t), brokerProxy: newFaultProxy(t)}
}

// ns is the name server address clients are given.
func (b *brokerChild) ns() string { return b.nsProxy.Addr() }

// start runs the broker (SYNC_FLUSH: a send is acknowledged once it is on disk) and
// points the proxies at it.
func (b *brokerChild) start(t testing.TB) {
	t.Helper()
	b.p = startProc(t, "minirocketmq", binary(t, "minirocketmq"), nil,
		"-namesrv", "127.0.0.1:0", "-broker", "127.0.0.1:0", "-advertise", b.brokerProxy.Addr(),
		"-data", b.dir, "-flush", "SYNC_FLUSH",
		"-tx-check-interval", "500ms", "-tx-timeout", "500ms",
		"-delay-levels", "100ms 200ms 300ms 400ms 500ms 600ms 700ms 800ms 900ms 1s 1s 1s 1s 1s 1s 1s 1s 1s")
	m := b.p.waitLine(t, brokerListenRE, 60*time.Second)
	if b.starts == 0 {
		b.nsProxy.Start(m[1])
		b.brokerProxy.Start(m[2])
	} else {
		b.nsProxy.SetTarget(m[1])
		b.brokerProxy.SetTarget(m[2])
	}
	b.starts++
}

// kill SIGKILLs the broker; the proxies reset the connections the clients had to it.
func (b *brokerChild) kill(t testing.TB) {
	t.Helper()
	b.p.kill(t)
	b.nsProxy.ResetAll()
	b.brokerProxy.ResetAll()
}

// TestBrokerCrash runs cmd/minirocketmq as a child process with a data directory and
// SYNC_FLUSH, and the app (cmd/app, a child process too) on it while orders are posted;
// next to the app, the test's own publishers send keyed messages that a Kratos
// transport server consumes. The broker is SIGKILLed at seeded random points and
// started again on the same directory after a random pause, while the app and the
// test's clients keep running: they must reconnect by themselves. At the end every
// acknowledged send of the test's publishers is consumed, every order with a row is
// CONFIRMED once, and the app never restarted.
func TestBrokerCrash(t *testing.T) {
	kills := pick(2, 8)
	bc := newBrokerChild(t)
	bc.start(t)
	s := newAppSetup(t, bc.ns())
	s.write(t)
	app := startApp(t, s)
	fl := startFlow(t, bc.ns(), rmqtest.Name(t, "crash"), rmqtest.Name(t, "crashc"), 2)
	rng := rand.New(rand.NewPCG(seed(t), 0))

	var (
		mu       sync.Mutex
		acked    []string
		attempts atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				attempts.Add(1)
				if id, ok := createOrder(app.url, fmt.Sprintf("b-%d-%d", w, i)); ok {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		}()
	}
	stopOrders := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopOrders)
	ackedNow := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}

	poll.Until(t, 60*time.Second, "orders and messages to flow", func() bool { return ackedNow() >= 5 && fl.consumed() >= 20 })
	for k := 1; k <= kills; k++ {
		up := time.Duration(500+rng.IntN(1500)) * time.Millisecond
		time.Sleep(up) // the kill point: how long the broker serves
		bc.kill(t)
		down := time.Duration(200+rng.IntN(800)) * time.Millisecond
		time.Sleep(down) // the outage
		bc.start(t)
		t.Logf("kill %d after %s up, %s down; orders acknowledged %d; %s", k, up, down, ackedNow(), fl.tally.figures())
		// Both sides must be back before the next kill: a send and an order succeed.
		orders, sent := ackedNow(), len(fl.tally.missing())+fl.consumed()
		poll.Until(t, 90*time.Second, "the app and the test's producer to send again after the restart", func() bool {
			fl.tally.mu.Lock()
			n := len(fl.tally.sent)
			fl.tally.mu.Unlock()
			return ackedNow() > orders && n > sent
		})
	}
	time.Sleep(time.Second)
	stopOrders()
	fl.stop()

	// The consumers' pulls on the killed broker end only at their 30 s timeout.
	fl.tally.waitAccounted(t, 3*time.Minute)
	db := openDB(t, s.db)
	var statuses map[string]string
	poll.Until(t, 3*time.Minute, "every stored order to be CONFIRMED", func() bool {
		statuses = orderStatuses(t, db)
		for _, st := range statuses {
			if st != biz.StatusConfirmed.String() {
				return false
			}
		}
		return true
	})
	mu.Lock()
	ackedIDs := append([]string(nil), acked...)
	mu.Unlock()
	var lost []string
	for _, id := range ackedIDs {
		if _, ok := statuses[id]; !ok {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d acknowledged orders have no row: %v", len(lost), lost)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM processed_messages WHERE dedup_key LIKE 'OrderCreated:%'`); n != len(statuses) {
		t.Errorf("processed OrderCreated events = %d, want one per order (%d)", n, len(statuses))
	}
	select {
	case <-app.exited:
		t.Fatalf("the app exited during the broker crashes: %v", app.err)
	default:
	}
	t.Logf("broker crash: %d kills; test publishers: %s, %d sends failed (not counted); app: %d POSTs, %d acknowledged, %d orders stored, all confirmed, lost=%d",
		kills, fl.tally.figures(), fl.failed.Load(), attempts.Load(), len(ackedIDs), len(statuses), len(lost))
	if code := app.stop(t, 20*time.Second); code != 0 {
		t.Errorf("app exit code after SIGTERM = %d", code)
	}
}
