package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/internal/data"
	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/config/protoconf"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// The end-to-end tests build the application through the Wire injector (wireApp) from
// configs/, with a temp SQLite file, free ports, test-unique topic and groups, and the
// broker of rmqtest (an embedded broker per test, or the cluster in ROCKETMQ_NAMESRV).
// The application's own start of the embedded broker is covered by the process tests.

// testApp is a running application.
type testApp struct {
	url    string // http://127.0.0.1:port
	dbPath string
	nameSv []string
	topic  string
	group  string               // the order-created handler's consumer group
	broker *minirocketmq.Broker // the embedded broker; nil with ROCKETMQ_NAMESRV
}

// freePort returns a local address nothing listens on, for an app that must be told
// its address before it starts. It picks below Linux's ephemeral range (32768-60999),
// which the kernel hands to the tests' own outgoing connections: a port from ":0" could
// be taken by one of them before the app binds it.
func freePort(t *testing.T) string {
	t.Helper()
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		if l, err := net.Listen("tcp", addr); err == nil {
			_ = l.Close()
			return addr
		}
	}
	t.Fatal("no free port in 20000-31999")
	return ""
}

// appConfig is the configuration of one test app and the broker it uses.
type appConfig struct {
	bc     *conf.Bootstrap
	broker *minirocketmq.Broker // nil with ROCKETMQ_NAMESRV
}

// testBootstrap loads configs/ and points it at temp resources.
func testBootstrap(t *testing.T) appConfig {
	t.Helper()
	bc, cfg, err := conf.Load(log.DefaultLogger, protoconf.NewFileSource("../../configs", ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cfg.Close() })
	bc.Server.Http.Addr = freePort(t)
	bc.Server.Grpc.Addr = "127.0.0.1:0"
	bc.Data.Database.Source = filepath.Join(t.TempDir(), "app.db")
	r := bc.Data.Rocketmq
	// Embedded: check unresolved transactions within a second (real default: 60 s).
	ns, b := rmqtest.Start(t,
		minirocketmq.WithTransactionTimeout(500*time.Millisecond),
		minirocketmq.WithTransactionCheckInterval(500*time.Millisecond))
	r.NameServers = strings.Split(ns, ";")
	// Unique names, so runs against a shared cluster never meet: the handlers' default
	// subscriptions consume the producer's topic in groups <group_prefix>-<handler>.
	r.Producer.Topic = rmqtest.Name(t, "orders")
	r.Producer.Group = rmqtest.Name(t, "pg")
	bc.Server.Rocketmq.GroupPrefix = rmqtest.Name(t, "svc")
	return appConfig{bc: bc, broker: b}
}

// startApp runs the application of bc until the test ends.
func startApp(t *testing.T, cfg appConfig) *testApp {
	t.Helper()
	bc := cfg.bc
	logger := log.With(log.NewStdLogger(io.Discard))
	if testing.Verbose() {
		logger = log.NewStdLogger(os.Stderr)
	}
	app, cleanup, err := wireApp(appInfo{ID: "e2e", Name: "order-service"}, bc.App, bc.Server, bc.Data, logger)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run() }()
	t.Cleanup(func() {
		_ = app.Stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("app.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("app did not stop within 30s")
		}
		cleanup()
	})
	ta := &testApp{url: "http://" + bc.Server.Http.Addr, dbPath: bc.Data.Database.Source,
		topic: bc.Data.Rocketmq.Producer.Topic, nameSv: bc.Data.Rocketmq.NameServers,
		group: bc.Server.Rocketmq.GroupPrefix + "-order-created", broker: cfg.broker}
	poll.Until(t, 30*time.Second, "the app to be ready", func() bool {
		code, _ := httpDo(t, "GET", ta.url+"/readyz", "")
		return code == http.StatusOK
	})
	return ta
}

func httpDo(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type orderJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Notified bool   `json:"notified"`
}

func (a *testApp) createOrder(t *testing.T, customer string) (int, orderJSON) {
	t.Helper()
	code, body := httpDo(t, "POST", a.url+"/v1/orders",
		fmt.Sprintf(`{"customer_id":%q,"items":[{"sku":"book","quantity":2,"unit_price_cents":1250}]}`, customer))
	var o orderJSON
	_ = json.Unmarshal(body, &o)
	return code, o
}

func (a *testApp) status(t *testing.T, id string) string {
	t.Helper()
	return a.order(t, id).Status
}

func (a *testApp) order(t *testing.T, id string) orderJSON {
	t.Helper()
	_, body := httpDo(t, "GET", a.url+"/v1/orders/"+id, "")
	var o orderJSON
	_ = json.Unmarshal(body, &o)
	return o
}

func (a *testApp) db(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// groupLabel selects the metrics of the OrderCreated subscription's group.
func (a *testApp) groupLabel() string { return `group="` + a.group + `"` }

// metric returns the sum of the Prometheus samples of name whose labels contain every
// label=value of want.
func (a *testApp) metric(t *testing.T, name string, want ...string) float64 {
	t.Helper()
	_, body := httpDo(t, "GET", a.url+"/metrics", "")
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// eventWatcher counts the domain events on the app's topic by tag, from its own group.
type eventWatcher struct {
	mu     sync.Mutex
	events map[string][]watched // tag → events
}

type watched struct {
	headers broker.Headers
	body    []byte
}

func watchEvents(t *testing.T, a *testApp) *eventWatcher {
	t.Helper()
	b, err := rmq.NewBroker(rmq.DriverTypeV2, rmq.WithNameServer(a.nameSv), broker.WithLogger(log.NewStdLogger(io.Discard)))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Disconnect() })
	w := &eventWatcher{events: map[string][]watched{}}
	_, err = b.Subscribe(a.topic, func(ctx context.Context, evt broker.Event) error {
		m := evt.Message()
		body, _ := m.Body.([]byte)
		w.mu.Lock()
		defer w.mu.Unlock()
		tag := m.Headers[rmq.HeaderTags]
		w.events[tag] = append(w.events[tag], watched{headers: m.Headers, body: append([]byte(nil), body...)})
		return nil
	}, nil, broker.WithQueueName(rmqtest.Name(t, "watch")), rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *eventWatcher) count(tag string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events[tag])
}

// withKey returns the events of tag whose keys contain key.
func (w *eventWatcher) withKey(tag, key string) []watched {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []watched
	for _, e := range w.events[tag] {
		for _, k := range strings.Fields(e.headers[rmq.HeaderKeys]) {
			if k == key {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// publisher returns a producer on the app's cluster for injecting messages.
func (a *testApp) publisher(t *testing.T, opts ...broker.Option) broker.Broker {
	t.Helper()
	opts = append([]broker.Option{rmq.WithNameServer(a.nameSv), broker.WithLogger(log.NewStdLogger(io.Discard))}, opts...)
	b, err := rmq.NewBroker(rmq.DriverTypeV2, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Disconnect() })
	return b
}

// settle is how long a test waits before it asserts that something did not happen.
func settle() time.Duration {
	if rmqtest.External() != "" {
		return 5 * time.Second
	}
	return 2 * time.Second
}

func TestOrderConfirmedEndToEnd(t *testing.T) {
	a := startApp(t, testBootstrap(t))
	code, o := a.createOrder(t, "c-1")
	if code != http.StatusOK || o.ID == "" || o.Status != "PENDING" {
		t.Fatalf("POST /v1/orders = %d %+v", code, o)
	}
	poll.Until(t, 30*time.Second, "the order to be CONFIRMED", func() bool { return a.status(t, o.ID) == "CONFIRMED" })
	db := a.db(t)
	if n := count(t, db, `SELECT COUNT(*) FROM orders WHERE id = ? AND status = 'CONFIRMED'`, o.ID); n != 1 {
		t.Errorf("confirmed rows = %d, want 1", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM processed_messages WHERE dedup_key LIKE 'OrderCreated:%'`); n != 1 {
		t.Errorf("processed OrderCreated events = %d, want exactly 1", n)
	}
	if v := a.metric(t, "rocketmq_consumer_messages_total", `outcome="success"`, a.groupLabel()); v != 1 {
		t.Errorf("consumed (success) by the confirming group = %v, want 1", v)
	}
	// The second handler: OrderConfirmed tells the customer, visible on the order.
	poll.Until(t, 30*time.Second, "the customer to be notified", func() bool { return a.order(t, o.ID).Notified })
	if n := count(t, db, `SELECT COUNT(*) FROM processed_messages WHERE dedup_key LIKE 'OrderConfirmed:%'`); n != 1 {
		t.Errorf("processed OrderConfirmed events = %d, want exactly 1", n)
	}
}

// TestRedeliveredOrderCreatedConfirmsOnce delivers the same OrderCreated event twice more
// after it was processed: the order stays confirmed once, no second OrderConfirmed is
// published, and the dedup table keeps one row.
func TestRedeliveredOrderCreatedConfirmsOnce(t *testing.T) {
	a := startApp(t, testBootstrap(t))
	w := watchEvents(t, a)
	_, o := a.createOrder(t, "c-2")
	poll.Until(t, 30*time.Second, "the order to be CONFIRMED", func() bool { return a.status(t, o.ID) == "CONFIRMED" })
	poll.Until(t, 30*time.Second, "the watcher to see OrderCreated and OrderConfirmed", func() bool {
		return len(w.withKey(biz.EventOrderCreated, o.ID)) == 1 && len(w.withKey(biz.EventOrderConfirmed, o.ID)) == 1
	})
	created := w.withKey(biz.EventOrderCreated, o.ID)[0]
	p := a.publisher(t)
	for i := 0; i < 2; i++ {
		err := p.Publish(context.Background(), a.topic, created.body,
			rmq.WithTag(biz.EventOrderCreated), rmq.WithKeys([]string{created.headers[data.HeaderEventID], o.ID}))
		if err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 30*time.Second, "the watcher to see both redeliveries", func() bool {
		return len(w.withKey(biz.EventOrderCreated, o.ID)) == 3
	})
	poll.Until(t, 30*time.Second, "the app to consume both redeliveries", func() bool {
		return a.metric(t, "rocketmq_consumer_messages_total", `outcome="success"`, a.groupLabel()) == 3
	})
	time.Sleep(settle())
	db := a.db(t)
	if n := count(t, db, `SELECT COUNT(*) FROM processed_messages WHERE dedup_key LIKE 'OrderCreated:%'`); n != 1 {
		t.Errorf("processed OrderCreated rows = %d, want 1", n)
	}
	if n := len(w.withKey(biz.EventOrderConfirmed, o.ID)); n != 1 {
		t.Errorf("OrderConfirmed published %d times, want 1", n)
	}
	if st := a.status(t, o.ID); st != "CONFIRMED" {
		t.Errorf("status = %s", st)
	}
}

// TestFailedLocalTransactionPublishesNothing makes the order insert fail inside the
// transactional publish: the API answers 503, no row exists, and no OrderCreated is ever
// delivered (the half message is rolled back).
func TestFailedLocalTransactionPublishesNothing(t *testing.T) {
	a := startApp(t, testBootstrap(t))
	w := watchEvents(t, a)
	db := a.db(t)
	if _, err := db.Exec(`CREATE TRIGGER fail_insert BEFORE INSERT ON orders WHEN NEW.customer_id = 'fail-me'
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}
	code, _ := a.createOrder(t, "fail-me")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("POST with a failing insert = %d, want 503", code)
	}
	// A good order afterwards: once its event arrived, the failed one would have too.
	_, good := a.createOrder(t, "c-3")
	poll.Until(t, 30*time.Second, "the good order's event", func() bool { return len(w.withKey(biz.EventOrderCreated, good.ID)) == 1 })
	time.Sleep(settle())
	if n := w.count(biz.EventOrderCreated); n != 1 {
		t.Errorf("OrderCreated delivered %d times, want 1 (only the good order)", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM orders WHERE customer_id = 'fail-me'`); n != 0 {
		t.Errorf("%d rows for the failed order", n)
	}
}

// TestCheckBackDecidesFromTheDatabase sends two half messages as a producer of the app's
// group that then dies without committing or rolling back (a process killed between the
// half message and the commit). The broker asks the app, which answers from its
// database: the order whose local transaction committed (its row and its event's row in
// published_events) is committed (and then confirmed by the consumer), the other is
// never delivered.
func TestCheckBackDecidesFromTheDatabase(t *testing.T) {
	cfg := testBootstrap(t)
	a := startApp(t, cfg)
	w := watchEvents(t, a)
	db := a.db(t)
	now := time.Now().UTC().UnixMilli()
	if _, err := db.Exec(`INSERT INTO orders (id, customer_id, items, total_cents, status, created_at, updated_at)
		VALUES ('crash-commit', 'c', '[{"sku":"s","quantity":1,"unit_price_cents":1}]', 1, 'PENDING', ?, ?)`, now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO published_events (event_id, event_name, aggregate_id, published_at)
		VALUES ('ev-crash-commit', 'OrderCreated', 'crash-commit', ?)`, now); err != nil {
		t.Fatal(err)
	}
	crashed := a.publisher(t, rmq.WithGroupName(cfg.bc.Data.Rocketmq.Producer.Group), rmq.WithInstanceName(rmqtest.Name(t, "crashed")))
	// crash-rollback was published long ago, so its first check-back is answered rollback and
	// the broker asks no more: a check-back still arriving while the test stops the app would
	// race inside the client (its check goroutine reads what Shutdown writes).
	publishedAt := map[string]int64{"crash-commit": now, "crash-rollback": now - 10*time.Minute.Milliseconds()}
	for _, id := range []string{"crash-commit", "crash-rollback"} {
		ev := biz.OrderCreated{EventID: "ev-" + id, OrderID: id, CustomerID: "c", TotalCents: 1, Items: 1,
			OccurredAt: time.Now().UTC(), Version: biz.OrderCreatedVersion}
		err := crashed.Publish(context.Background(), a.topic, ev,
			rmq.WithTag(biz.EventOrderCreated), rmq.WithKeys([]string{ev.EventID, id}),
			broker.WithHeaders(broker.Headers{data.HeaderEventName: biz.EventOrderCreated, data.HeaderEventID: ev.EventID,
				data.HeaderAggregateID: id, data.HeaderPublishedAt: strconv.FormatInt(publishedAt[id], 10)}),
			rmq.WithTransaction(func(context.Context, *broker.Message) broker.TransactionState { return broker.TransactionUnknown }))
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := crashed.Disconnect(); err != nil { // the process is gone
		t.Fatal(err)
	}
	within := 30 * time.Second
	if rmqtest.External() != "" {
		within = 3 * time.Minute // the real broker checks every 60 s, after 6 s
	}
	poll.Until(t, within, "the check-back to commit crash-commit and the consumer to confirm it", func() bool {
		return a.status(t, "crash-commit") == "CONFIRMED"
	})
	time.Sleep(settle())
	if n := len(w.withKey(biz.EventOrderCreated, "crash-rollback")); n != 0 {
		t.Errorf("the event of the order without a row was delivered %d times", n)
	}
}

// TestPoisonMessagesGoToDLQ publishes an OrderCreated the service cannot decode and one of
// a schema version it does not know: both go to the dead-letter queue at once (no
// redelivery), the DLQ counter of /metrics moves, and the good orders keep flowing.
func TestPoisonMessagesGoToDLQ(t *testing.T) {
	a := startApp(t, testBootstrap(t))
	p := a.publisher(t)
	bodies := map[string][]byte{
		"undecodable": []byte("not json"),
		"version-99":  []byte(`{"event_id":"ev-99","order_id":"o-99","version":99}`),
	}
	for key, body := range bodies {
		if err := p.Publish(context.Background(), a.topic, body, rmq.WithTag(biz.EventOrderCreated), rmq.WithKeys([]string{key})); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 60*time.Second, "both poison messages in the DLQ (metrics)", func() bool {
		return a.metric(t, "rocketmq_consumer_messages_total", `outcome="dlq"`, a.groupLabel()) == 2
	})
	if v := a.metric(t, "rocketmq_consumer_messages_total", `outcome="retry"`); v != 0 {
		t.Errorf("retried %v times: poison messages must not be redelivered", v)
	}
	if a.broker != nil { // the broker holds both, with their keys, in %DLQ%<group>
		poll.Until(t, 30*time.Second, "both messages stored in the DLQ topic", func() bool {
			msgs, err := a.broker.Messages("%DLQ%"+a.group, 0)
			if err != nil || len(msgs) != 2 {
				return false
			}
			for _, m := range msgs {
				if k := strings.Join(message.Keys(m.Properties), ","); bodies[k] == nil {
					t.Errorf("DLQ message with keys %q", k)
				}
			}
			return true
		})
	}
	_, o := a.createOrder(t, "after-poison")
	poll.Until(t, 30*time.Second, "a good order to be CONFIRMED after the poison", func() bool { return a.status(t, o.ID) == "CONFIRMED" })
}
