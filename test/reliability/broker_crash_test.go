package reliability

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rel "github.com/kratos-rocketmq/rocketmq/test/reliability"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// TestBrokerCrash runs cmd/minirocketmq as a child process with a data directory and
// SYNC_FLUSH, and the app (cmd/app, a child process too) on it while orders are posted;
// next to the app, the test's own publishers send keyed messages that a Kratos
// transport server consumes. The broker is SIGKILLed at seeded random points and
// started again on the same directory after a random pause, while the app and the
// test's clients keep running: they must reconnect by themselves. At the end every
// acknowledged send of the test's publishers is consumed, every order with a row is
// CONFIRMED once, and the app never restarted.
func TestBrokerCrash(t *testing.T) {
	kills := rel.Pick(2, 8)
	bc := rel.NewBrokerChild(t, builds.Binary(t, "../../rocketmq", "./cmd/minirocketmq"))
	bc.Start(t)
	s := newAppSetup(t, bc.NameServer())
	s.write(t)
	app := startApp(t, s)
	fl := rel.StartFlow(t, bc.NameServer(), rmqtest.Name(t, "crash"), rmqtest.Name(t, "crashc"), 2)
	rng := rand.New(rand.NewPCG(rel.Seed(t), 0))

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

	poll.Until(t, 60*time.Second, "orders and messages to flow", func() bool { return ackedNow() >= 5 && fl.Consumed() >= 20 })
	for k := 1; k <= kills; k++ {
		up := time.Duration(500+rng.IntN(1500)) * time.Millisecond
		time.Sleep(up) // the kill point: how long the broker serves
		bc.Kill(t)
		down := time.Duration(200+rng.IntN(800)) * time.Millisecond
		time.Sleep(down) // the outage
		bc.Start(t)
		t.Logf("kill %d after %s up, %s down; orders acknowledged %d; %s", k, up, down, ackedNow(), fl.Tally.Figures())
		// Both sides must be back before the next kill: a send and an order succeed.
		orders, sent := ackedNow(), fl.Tally.Sent()
		poll.Until(t, 90*time.Second, "the app and the test's producer to send again after the restart", func() bool {
			return ackedNow() > orders && fl.Tally.Sent() > sent
		})
	}
	time.Sleep(time.Second)
	stopOrders()
	fl.Stop()

	// The consumers' pulls on the killed broker end only at their 30 s timeout.
	fl.Tally.WaitAccounted(t, 3*time.Minute)
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
	case <-app.Exited():
		t.Fatalf("the app exited during the broker crashes: %v", app.Err())
	default:
	}
	t.Logf("broker crash: %d kills; test publishers: %s, %d sends failed (not counted); app: %d POSTs, %d acknowledged, %d orders stored, all confirmed, lost=%d",
		kills, fl.Tally.Figures(), fl.Failed.Load(), attempts.Load(), len(ackedIDs), len(statuses), len(lost))
	if code := app.Stop(t, 20*time.Second); code != 0 {
		t.Errorf("app exit code after SIGTERM = %d", code)
	}
}
