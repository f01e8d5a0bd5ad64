package reliability

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rel "github.com/kratos-rocketmq/rocketmq/test/reliability"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// TestAppCrash runs the app as a child process while orders are posted to it from four
// goroutines and SIGKILLs it at a random point (seeded), several times; each time it is
// started again on the same database and broker. The broker (embedded in the test
// process, or ROCKETMQ_NAMESRV) outlives the app, and checks unresolved transactions
// back within a second. At the end every order that has a row (acknowledged or not:
// a kill can land after the insert and before the answer) must be CONFIRMED, each with
// exactly one processed OrderCreated, and on the embedded broker each order has exactly
// one OrderCreated and one OrderConfirmed message: nothing lost, nothing doubled.
func TestAppCrash(t *testing.T) {
	kills := rel.Pick(3, 12)
	ns, emb := rmqtest.Start(t,
		minirocketmq.WithTransactionTimeout(500*time.Millisecond),
		minirocketmq.WithTransactionCheckInterval(500*time.Millisecond),
		rel.ShortDelays())
	s := newAppSetup(t, ns)
	s.write(t)
	rng := rand.New(rand.NewPCG(rel.Seed(t), 0))

	var (
		url      atomic.Pointer[string]
		mu       sync.Mutex
		acked    []string // order ids answered 200
		attempts atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := url.Load()
				if u == nil {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				attempts.Add(1)
				if id, ok := createOrder(*u, fmt.Sprintf("c-%d-%d", w, i)); ok {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				} else {
					time.Sleep(20 * time.Millisecond) // the app is down
				}
			}
		}()
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)

	for run := 1; run <= kills; run++ {
		a := startApp(t, s)
		url.Store(&a.url)
		after := time.Duration(100+rng.IntN(1400)) * time.Millisecond
		time.Sleep(after) // the kill point: how long the app serves before SIGKILL
		a.Kill(t)
		url.Store(nil)
		mu.Lock()
		t.Logf("run %d: killed after %s; %d orders acknowledged so far", run, after, len(acked))
		mu.Unlock()
	}
	// The last run is not killed: it finishes what the others left.
	a := startApp(t, s)
	url.Store(&a.url)
	time.Sleep(500 * time.Millisecond)
	stopLoad()

	db := openDB(t, s.db)
	within := 60 * time.Second
	if emb == nil {
		within = 4 * time.Minute // a real broker checks transactions back every 60 s
	}
	var statuses map[string]string
	poll.Until(t, within, "every stored order to be CONFIRMED", func() bool {
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
	if len(ackedIDs) == 0 {
		t.Fatal("no order was acknowledged: the load never reached the app")
	}
	processed := queryInt(t, db, `SELECT COUNT(*) FROM processed_messages WHERE dedup_key LIKE 'OrderCreated:%'`)
	if processed != len(statuses) {
		t.Errorf("processed OrderCreated events = %d, want one per order (%d)", processed, len(statuses))
	}
	if emb != nil {
		// An order's OrderConfirmed reaches the topic after its row says CONFIRMED: at
		// the end of the local transaction, or, when a kill came in between, at the
		// broker's check-back. Wait for every event, then count them.
		// Past the deadline the count below names what is missing.
		created, confirmed := eventsByOrder(t, emb, s.topic)
		for deadline := time.Now().Add(within); time.Now().Before(deadline); created, confirmed = eventsByOrder(t, emb, s.topic) {
			missing := false
			for id := range statuses {
				missing = missing || created[id] == 0 || confirmed[id] == 0
			}
			if !missing {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		var wrong []string
		for id := range statuses {
			if created[id] != 1 || confirmed[id] != 1 {
				wrong = append(wrong, fmt.Sprintf("%s: %d OrderCreated, %d OrderConfirmed", id, created[id], confirmed[id]))
			}
		}
		if len(wrong) > 0 {
			t.Errorf("orders whose events are not exactly once on the topic: %s", strings.Join(wrong, "; "))
		}
	}
	t.Logf("app crash: %d kills; %d POSTs, %d acknowledged, %d orders stored (%d unacknowledged), %d confirmed, lost=%d",
		kills, attempts.Load(), len(ackedIDs), len(statuses), len(statuses)-len(ackedIDs)+len(lost), len(statuses), len(lost))
	if code := a.Stop(t, 20*time.Second); code != 0 {
		t.Errorf("app exit code after SIGTERM = %d", code)
	}
}

// eventsByOrder counts the committed messages on topic per order id (the second key),
// by tag.
func eventsByOrder(t testing.TB, b *minirocketmq.Broker, topic string) (created, confirmed map[string]int) {
	t.Helper()
	created, confirmed = map[string]int{}, map[string]int{}
	tc, ok := b.Topic(topic)
	if !ok {
		t.Fatalf("topic %s unknown to the broker", topic)
	}
	for q := 0; q < tc.WriteQueueNums; q++ {
		msgs, err := b.Messages(topic, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			p := message.ParseProperties(m.Properties)
			keys := strings.Fields(p["KEYS"])
			if len(keys) < 2 {
				continue
			}
			switch p["TAGS"] {
			case biz.EventOrderCreated:
				created[keys[1]]++
			case biz.EventOrderConfirmed:
				confirmed[keys[1]]++
			}
		}
	}
	return created, confirmed
}
