package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// parcelWeighed is an event type the data layer has never heard of: nothing in this
// package names it, so the check-back can only answer for it by the generic rule.
type parcelWeighed struct {
	ID     string `json:"id"`
	Parcel string `json:"parcel"`
	Grams  int    `json:"grams"`
}

func (parcelWeighed) EventName() string     { return "ParcelWeighed" }
func (parcelWeighed) EventVersion() int     { return 1 }
func (e parcelWeighed) EventKey() string    { return e.ID }
func (e parcelWeighed) AggregateID() string { return e.Parcel }

// checkMessage is the half message the broker asks about.
func checkMessage(id string, publishedAt time.Time) *broker.Message {
	h := broker.Headers{HeaderEventName: "ParcelWeighed"}
	if id != "" {
		h[HeaderEventID] = id
	}
	if !publishedAt.IsZero() {
		h[HeaderPublishedAt] = strconv.FormatInt(publishedAt.UnixMilli(), 10)
	}
	return &broker.Message{Headers: h}
}

func TestCheckBackRule(t *testing.T) { forEachDatabase(t, testCheckBackRule) }

func testCheckBackRule(t *testing.T, d *Data) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := &eventPublisher{data: d, log: log.NewHelper(log.NewStdLogger(io.Discard)), now: func() time.Time { return now },
		txTimeout: localTxTimeout, checkAfter: localTxTimeout + checkBackGrace}
	recorded := parcelWeighed{ID: "ev-recorded", Parcel: "p-1", Grams: 5}
	if err := p.local(ctx, recorded, now.Add(-time.Hour), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		msg  *broker.Message
		want broker.TransactionState
	}{
		{"recorded, of any age", checkMessage("ev-recorded", now.Add(-time.Hour)), broker.TransactionCommit},
		{"recorded, young", checkMessage("ev-recorded", now), broker.TransactionCommit},
		{"not recorded, younger than a local transaction can take", checkMessage("ev-other", now.Add(-localTxTimeout)), broker.TransactionUnknown},
		{"not recorded, within the grace", checkMessage("ev-other", now.Add(-p.checkAfter+time.Second)), broker.TransactionUnknown},
		{"not recorded, older than a local transaction can take", checkMessage("ev-other", now.Add(-p.checkAfter)), broker.TransactionRollback},
		{"no event id", checkMessage("", now.Add(-time.Hour)), broker.TransactionUnknown},
		{"no published-at", checkMessage("ev-other", time.Time{}), broker.TransactionUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.checkBack(ctx, tc.msg); got != tc.want {
				t.Errorf("checkBack = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLocalTransactionIsAllOrNothing(t *testing.T) {
	forEachDatabase(t, testLocalTransactionIsAllOrNothing)
}

func testLocalTransactionIsAllOrNothing(t *testing.T, d *Data) {
	ctx := context.Background()
	p := &eventPublisher{data: d}
	repo := NewOrderRepo(d)
	order := func(id string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			return repo.Save(ctx, &biz.Order{ID: id, CustomerID: "c", Status: biz.StatusPending, Items: []biz.Item{{SKU: "s", Quantity: 1}}})
		}
	}
	injected := errors.New("injected")
	for _, tc := range []struct {
		name    string
		event   string
		tx      func(ctx context.Context) error
		wantErr error // nil, injected or biz.ErrAlreadyProcessed
	}{
		{"both commit", "ev-1", order("o-1"), nil},
		{"the state change fails: no event row", "ev-2", func(ctx context.Context) error {
			if err := order("o-2")(ctx); err != nil {
				return err
			}
			return injected
		}, injected},
		{"the event was published before: the state change rolls back", "ev-1", order("o-3"), biz.ErrAlreadyProcessed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.local(ctx, parcelWeighed{ID: tc.event, Parcel: "p"}, time.Now(), tc.tx)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("local = %v, want %v", err, tc.wantErr)
			}
		})
	}
	counts := map[string]int{}
	for _, q := range []string{"orders", "published_events"} {
		var n int
		if err := d.db.QueryRow(`SELECT COUNT(*) FROM ` + q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[q] = n
	}
	if counts["orders"] != 1 || counts["published_events"] != 1 {
		t.Errorf("rows = %v, want the one committed order and its event", counts)
	}
}

// logLines records log lines as text.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Log(_ log.Level, kv ...any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprint(kv...))
	return nil
}

// has reports whether a line contains every part.
func (l *logLines) has(parts ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// txBroker is a broker (ROCKETMQ_NAMESRV, or an embedded one that asks about unresolved
// transactions every 200 ms) with a topic, and a SQLite database.
type txBroker struct {
	ep    *cluster.Endpoint
	topic string
	data  *Data
}

func newTxBroker(t *testing.T) *txBroker {
	t.Helper()
	ns, _ := rmqtest.Start(t, minirocketmq.WithTransactionCheckInterval(200*time.Millisecond),
		minirocketmq.WithTransactionTimeout(200*time.Millisecond))
	ep, err := cluster.Open(context.Background(), cluster.Settings{NameServers: []string{ns}}, cluster.Settings{},
		cluster.WithLogger(log.NewStdLogger(io.Discard)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ep.Close() })
	topic := rmqtest.Name(t, "events")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ep.Producer.EnsureTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	d := openTestData(t, &conf.Data_Database{Driver: "sqlite", Source: filepath.Join(t.TempDir(), "app.db")})
	return &txBroker{ep: ep, topic: topic, data: d}
}

// publisher connects an event publisher of group; its log lines go to logs. disconnect
// closes it (at cleanup otherwise).
func (b *txBroker) publisher(t *testing.T, group string, logs *logLines) (p *eventPublisher, disconnect func()) {
	t.Helper()
	p = &eventPublisher{topic: b.topic, data: b.data, now: time.Now, log: log.NewHelper(logs),
		txTimeout: localTxTimeout, checkAfter: localTxTimeout + checkBackGrace}
	cleanup, err := p.connect(b.ep, group)
	if err != nil {
		t.Fatal(err)
	}
	disconnect = sync.OnceFunc(cleanup)
	t.Cleanup(disconnect)
	return p, disconnect
}

// delivered subscribes to the topic and returns the keys of the messages delivered so far.
func (b *txBroker) delivered(t *testing.T) func() []string {
	t.Helper()
	c, err := rmq.NewBroker(rmq.DriverTypeV2, rmq.WithNameServer(b.ep.Consumer.NameServers()), broker.WithLogger(log.NewStdLogger(io.Discard)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect() })
	var mu sync.Mutex
	var keys []string
	_, err = c.Subscribe(b.topic, func(_ context.Context, evt broker.Event) error {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, evt.Message().Headers[HeaderEventID])
		return nil
	}, nil, broker.WithQueueName(rmqtest.Name(t, "reader")), rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), keys...)
	}
}

func count(keys []string, key string) int {
	n := 0
	for _, k := range keys {
		if k == key {
			n++
		}
	}
	return n
}

// TestUnknownEventSurvivesACrash publishes an event of a type the data layer has never
// heard of; the publishing process "dies" between the half message and its commit (its
// local transaction commits, it never tells the broker, and its producer goes away). A
// fresh publisher of the same producer group answers the broker's check-back from
// published_events, and the event is delivered.
func TestUnknownEventSurvivesACrash(t *testing.T) {
	b := newTxBroker(t)
	got := b.delivered(t)
	group := rmqtest.Name(t, "pg")
	crashed, die := b.publisher(t, group, &logLines{})
	ev := parcelWeighed{ID: rmqtest.Name(t, "ev"), Parcel: "p-7", Grams: 1200}
	repo := NewOrderRepo(b.data)
	err := crashed.send(context.Background(), ev, func(ctx context.Context, at time.Time) broker.TransactionState {
		err := crashed.local(ctx, ev, at, func(ctx context.Context) error {
			return repo.Save(ctx, &biz.Order{ID: "o-p-7", CustomerID: "c", Status: biz.StatusPending, Items: []biz.Item{{SKU: "s", Quantity: 1}}})
		})
		if err != nil {
			t.Errorf("local transaction: %v", err)
		}
		return broker.TransactionUnknown // the process dies before it can say commit
	})
	if err != nil {
		t.Fatal(err)
	}
	die()
	time.Sleep(time.Second) // well past the first check: nobody of the group was there to answer
	if n := count(got(), ev.ID); n != 0 {
		t.Fatalf("delivered %d times before anyone answered the check-back", n)
	}

	logs := &logLines{}
	b.publisher(t, group, logs)
	within := 30 * time.Second
	if rmqtest.External() != "" {
		within = 3 * time.Minute // a real broker checks every 60 s
	}
	poll.Until(t, within, "the event to be delivered after the check-back", func() bool { return count(got(), ev.ID) > 0 })
	if !logs.has("check-back: commit", ev.ID) {
		t.Error("delivered, but the fresh publisher logged no commit for it")
	}
	if o, err := repo.Get(context.Background(), "o-p-7"); err != nil || o == nil {
		t.Errorf("the state change of the local transaction is missing: %v", err)
	}
}

// TestSlowLocalTransactionIsNotRolledBack keeps the local transaction open until the
// broker has asked about its half message at least once: the check-back must answer
// unknown (the transaction may still commit), not rollback, and the event is delivered
// once the transaction commits.
func TestSlowLocalTransactionIsNotRolledBack(t *testing.T) {
	b := newTxBroker(t)
	got := b.delivered(t)
	logs := &logLines{}
	p, _ := b.publisher(t, rmqtest.Name(t, "pg"), logs)
	ev := parcelWeighed{ID: rmqtest.Name(t, "ev"), Parcel: "p-8"}
	asked := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- p.PublishInTx(context.Background(), ev, func(ctx context.Context) error {
			select {
			case <-asked:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	within := 20 * time.Second
	if rmqtest.External() != "" {
		within = 2 * time.Minute
	}
	poll.Until(t, within, "a check-back while the local transaction runs", func() bool {
		return logs.has("check-back: unknown", ev.ID)
	})
	close(asked)
	if err := <-done; err != nil {
		t.Fatalf("PublishInTx: %v", err)
	}
	poll.Until(t, 30*time.Second, "the event to be delivered", func() bool { return count(got(), ev.ID) > 0 })
	if logs.has("check-back: rollback", ev.ID) {
		t.Error("the check-back answered rollback while the transaction ran")
	}
}
