package rocketmq

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/broker/rocketmq/internal/mqhttp"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// TestAliyunPublishSubscribe: what the driver publishes (tag, keys, properties,
// sharding key) reaches a typed subscriber with the v2 driver's header keys.
func TestAliyunPublishSubscribe(t *testing.T) {
	mb := startAliyun(t)
	topic, group := aliyunTopic(t, mb, 4), rmqtest.Name(t, "GID")
	b := newAliyunTestBroker(t, mb)
	got := make(chan recorded, 4)
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, tp string, h broker.Headers, o *order) error {
		got <- recorded{topic: tp, headers: h, body: *o}
		return nil
	}, broker.WithQueueName(group))
	if err != nil {
		t.Fatal(err)
	}
	res := aliyunPublish(t, b, topic, &order{ID: 7, Note: `<&"'|:>`}, WithTag("created"), WithKeys([]string{"order-7", "tenant-acme"}),
		WithProperties(map[string]string{"tenant": "acme"}), WithShardingKey("order-7"))
	if res.ID == "" || res.Topic != topic {
		t.Fatalf("publish result %+v", res)
	}
	select {
	case r := <-got:
		h := r.headers
		switch {
		case r.body != (order{ID: 7, Note: `<&"'|:>`}) || r.topic != topic:
			t.Errorf("delivery %+v", r)
		case h[HeaderTags] != "created" || h[HeaderKeys] != "order-7 tenant-acme" || h["tenant"] != "acme" || h[mqhttp.PropShardingKey] != "order-7":
			t.Errorf("headers %v", h)
		case h[HeaderMessageID] != res.ID || h[HeaderTopic] != topic || h[HeaderReconsumeTimes] != "0":
			t.Errorf("driver headers %v (published %s)", h, res.ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
}

// TestAliyunSignature: the driver's signature is the one the endpoint checks against
// the ACL accounts; a wrong secret fails Publish and Subscribe with the API's code.
func TestAliyunSignature(t *testing.T) {
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
	mb := startAliyun(t, minirocketmq.WithACL(v))
	topic, group := aliyunTopic(t, mb, 2), rmqtest.Name(t, "GID")
	good := newAliyunTestBroker(t, mb, WithCredentials("app-client", "app-secret-1", "sts-token"))
	rec := aliyunCollect(t, good, topic, group)
	aliyunPublish(t, good, topic, []byte("signed"))
	poll.Until(t, 30*time.Second, "the signed message", func() bool { return rec.len() == 1 })

	bad := newAliyunTestBroker(t, mb, WithCredentials("app-client", "not-the-secret", ""))
	err = bad.Publish(context.Background(), topic, []byte("x"))
	if !mqhttp.IsCode(err, "SignatureDoesNotMatch") {
		t.Fatalf("publish with a wrong secret: %v", err)
	}
	_, err = bad.Subscribe(topic, func(context.Context, broker.Event) error { return nil }, nil, broker.WithQueueName(group))
	if !mqhttp.IsCode(err, "SignatureDoesNotMatch") {
		t.Fatalf("subscribe with a wrong secret: %v", err)
	}
	anon := newAliyunTestBroker(t, mb)
	if err := anon.Publish(context.Background(), topic, []byte("x")); !mqhttp.IsCode(err, "MissingAuthorizationHeader") {
		t.Fatalf("publish without credentials: %v", err)
	}
}

// TestAliyunBinaryBodyAndCrossProtocol: a body XML cannot carry (a proto payload)
// goes base64 and arrives as sent, to the Aliyun driver and to the v2 driver; a v2
// publish reaches the Aliyun driver with its tag and keys.
func TestAliyunBinaryBodyAndCrossProtocol(t *testing.T) {
	mb := startAliyun(t)
	topic := aliyunTopic(t, mb, 2)
	a := newAliyunTestBroker(t, mb)
	v2 := newTestBroker(t, mb.Addr())
	fromHTTP := aliyunCollect(t, a, topic, rmqtest.Name(t, "GID"))
	fromV2 := aliyunCollect(t, v2, topic, rmqtest.Name(t, "G"), WithConsumeFromFirst())
	binary := []byte{0, 1, 2, 0xff, 0xfe, '<'}
	aliyunPublish(t, a, topic, binary, WithTag("bin"))
	aliyunPublish(t, v2, topic, []byte("from v2"), WithTag("v2"), WithKeys([]string{"k2"}))
	poll.Until(t, 30*time.Second, "both messages on both sides", func() bool { return fromHTTP.len() >= 2 && fromV2.len() >= 2 })
	for side, rec := range map[string]*recorder{"aliyun": fromHTTP, "v2": fromV2} {
		bodies := map[string][]byte{}
		for _, r := range rec.all() {
			bodies[r.headers[HeaderTags]] = r.body.([]byte)
			if r.headers[mqhttp.PropBodyEncoding] != "" {
				t.Errorf("%s: the encoding marker reached the handler: %v", side, r.headers)
			}
			if r.headers[HeaderTags] == "v2" && r.headers[HeaderKeys] != "k2" {
				t.Errorf("%s: keys of the v2 message: %v", side, r.headers)
			}
		}
		if !bytes.Equal(bodies["bin"], binary) || string(bodies["v2"]) != "from v2" {
			t.Errorf("%s got %q", side, bodies)
		}
	}
}

// TestAliyunRetryThenServiceDLQ: a failing handler's message comes again (the service
// redelivers it after its invisible time, ConsumedTimes counting up), and after the
// group's retry limit the service moves it to %DLQ%<group>.
func TestAliyunRetryThenServiceDLQ(t *testing.T) {
	mb := startAliyun(t)
	topic, group := aliyunTopic(t, mb, 1), rmqtest.Name(t, "GID")
	if err := mb.UpdateSubscriptionGroup(minirocketmq.SubscriptionGroupConfig{GroupName: group, ConsumeEnable: true, RetryMaxTimes: 1, RetryQueueNums: 1}); err != nil {
		t.Fatal(err)
	}
	b := newAliyunTestBroker(t, mb)
	var mu sync.Mutex
	var seen []string
	_, err := b.Subscribe(topic, func(_ context.Context, evt broker.Event) error {
		mu.Lock()
		seen = append(seen, evt.Message().Headers[HeaderReconsumeTimes])
		mu.Unlock()
		return errors.New("not today")
	}, nil, broker.WithQueueName(group))
	if err != nil {
		t.Fatal(err)
	}
	aliyunPublish(t, b, topic, []byte("poison"), WithKeys([]string{"p-1"}))
	dlq := minirocketmq.DLQTopic(group)
	poll.Until(t, 30*time.Second, "the service's dead letter", func() bool {
		ms, _ := mb.Messages(dlq, 0)
		return len(ms) == 1
	})
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != "0,1" {
		t.Fatalf("reconsume times seen %v, want 0,1", seen)
	}
}

// TestAliyunDriverDeadLetters: WithMaxReconsumeTimes below the service's limit, an
// error wrapping broker.ErrDeadLetter and an undecodable body make the driver forward
// the message to %DLQ%<group> (and ack it), where a DLQ subscriber sees where it came
// from.
func TestAliyunDriverDeadLetters(t *testing.T) {
	mb := startAliyun(t)
	topic, group := aliyunTopic(t, mb, 2), rmqtest.Name(t, "GID")
	b := newAliyunTestBroker(t, mb)
	var attempts sync.Map // body → count
	_, err := broker.Subscribe(b, topic, func(_ context.Context, _ string, h broker.Headers, o *order) error {
		n, _ := attempts.LoadOrStore(o.Note, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		if o.Note == "hopeless" {
			return fmt.Errorf("order %d: %w", o.ID, broker.ErrDeadLetter)
		}
		return errors.New("try again")
	}, broker.WithQueueName(group), WithMaxReconsumeTimes(1))
	if err != nil {
		t.Fatal(err)
	}
	aliyunPublish(t, b, topic, &order{ID: 1, Note: "flaky"}, WithKeys([]string{"k-flaky"}))
	aliyunPublish(t, b, topic, &order{ID: 2, Note: "hopeless"}, WithKeys([]string{"k-hopeless"}))
	// Published by the v2 driver with a property the HTTP API's format carries but its
	// publish does not take (a '"'): the forwarded copy leaves it out.
	v2 := newTestBroker(t, mb.Addr())
	aliyunPublish(t, v2, topic, []byte("{not json"), WithKeys([]string{"k-garbage"}), WithProperties(map[string]string{"note": `say "hi"`}))
	// The dead-letter topic exists from the first dead letter on.
	poll.Until(t, 30*time.Second, "the dead-letter topic", func() bool { _, ok := mb.Topic(minirocketmq.DLQTopic(group)); return ok })
	dlq := aliyunCollect(t, b, "%DLQ%"+group, rmqtest.Name(t, "GID_DLQ"))
	poll.Until(t, 60*time.Second, "3 dead letters", func() bool { return dlq.len() >= 3 })
	keys := map[string]broker.Headers{}
	for _, r := range dlq.all() {
		keys[r.headers[HeaderKeys]] = r.headers
	}
	for _, k := range []string{"k-flaky", "k-hopeless", "k-garbage"} {
		if h := keys[k]; h == nil || h[aliyunDLQOriginTopic] != topic || h[aliyunDLQOriginMsgID] == "" {
			t.Errorf("dead letter %s: %v", k, h)
		}
	}
	if h := keys["k-garbage"]; h != nil && h["note"] != "" {
		t.Errorf("the garbage's dead letter kept the property the forward leaves out: not the driver's copy (%v)", h)
	}
	flaky, _ := attempts.Load("flaky")
	hopeless, _ := attempts.Load("hopeless")
	if flaky.(*atomic.Int32).Load() != 2 || hopeless.(*atomic.Int32).Load() != 1 {
		t.Errorf("attempts: flaky %d (want 2: first + 1 redelivery), hopeless %d (want 1)", flaky.(*atomic.Int32).Load(), hopeless.(*atomic.Int32).Load())
	}
	time.Sleep(2 * aliyunTestInvisible) // nothing comes again once forwarded and acked
	if dlq.len() != 3 {
		t.Errorf("%d dead letters, want 3", dlq.len())
	}
}

// TestAliyunOrderly: an orderly subscriber gets each sharding key's messages in
// publish order, one at a time even when a batch holds several of them (the backlog
// is published before the subscription), and a failure holds the key back (its
// message comes again before the next) while other keys go on.
func TestAliyunOrderly(t *testing.T) {
	mb := startAliyun(t)
	topic, group := aliyunTopic(t, mb, 4), rmqtest.Name(t, "GID")
	b := newAliyunTestBroker(t, mb)
	for i := range 4 {
		for _, k := range []string{"a", "b"} {
			aliyunPublish(t, b, topic, []byte(fmt.Sprint(i)), WithShardingKey(k))
		}
	}
	var mu sync.Mutex
	order := map[string][]int{}
	running := map[string]int{}
	var overlaps []string
	failedOnce := false
	_, err := b.Subscribe(topic, func(_ context.Context, evt broker.Event) error {
		key := evt.Message().Headers[mqhttp.PropShardingKey]
		var n int
		fmt.Sscanf(string(evt.Message().Body.([]byte)), "%d", &n)
		mu.Lock()
		if running[key]++; running[key] > 1 {
			overlaps = append(overlaps, fmt.Sprintf("%s%d", key, n))
		}
		mu.Unlock()
		time.Sleep(time.Duration(4-n) * 5 * time.Millisecond) // the earlier ones slower
		mu.Lock()
		defer mu.Unlock()
		running[key]--
		if key == "a" && n == 1 && !failedOnce {
			failedOnce = true
			return errors.New("a1 fails once")
		}
		order[key] = append(order[key], n)
		return nil
	}, nil, broker.WithQueueName(group), WithOrderly(), WithConcurrency(8))
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "8 messages", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(order["a"]) == 4 && len(order["b"]) == 4
	})
	mu.Lock()
	defer mu.Unlock()
	for _, k := range []string{"a", "b"} {
		if fmt.Sprint(order[k]) != "[0 1 2 3]" {
			t.Errorf("key %s handled in order %v", k, order[k])
		}
	}
	if len(overlaps) > 0 {
		t.Errorf("handlers of one key ran side by side: %v", overlaps)
	}
}

// TestAliyunTransactions: commit publishes, rollback does not (ErrRolledBack), and an
// undecided transaction is committed by the TransactionChecker through the
// half-message consume.
func TestAliyunTransactions(t *testing.T) {
	clk := minirocketmq.NewManualClock(time.Now())
	mb := startAliyun(t, minirocketmq.WithClock(clk))
	topic, group := aliyunTopic(t, mb, 2), rmqtest.Name(t, "GID")
	var checked atomic.Int32
	b := newAliyunTestBroker(t, mb, WithGroupName(rmqtest.Name(t, "GID_P")),
		WithTransactionChecker(func(_ context.Context, m *broker.Message) broker.TransactionState {
			checked.Add(1)
			if b, _ := m.Body.([]byte); string(b) != "undecided" || m.Headers[HeaderKeys] != "k-u" || m.Headers[HeaderTopic] != topic {
				return broker.TransactionRollback
			}
			return broker.TransactionCommit
		}))
	rec := aliyunCollect(t, b, topic, group)
	tx := func(body string, state broker.TransactionState) error {
		return b.Publish(context.Background(), topic, []byte(body), WithKeys([]string{"k-" + body[:1]}),
			WithTransaction(func(_ context.Context, m *broker.Message) broker.TransactionState {
				if got, _ := m.Body.([]byte); string(got) != body || m.Headers[HeaderKeys] != "k-"+body[:1] {
					t.Errorf("local transaction saw %q %v", m.Body, m.Headers)
				}
				return state
			}))
	}
	if err := tx("commit", broker.TransactionCommit); err != nil {
		t.Fatal(err)
	}
	if err := tx("rollback", broker.TransactionRollback); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("rolled back publish: %v", err)
	}
	if err := tx("undecided", broker.TransactionUnknown); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "the committed message", func() bool { return rec.len() >= 1 })
	if mb.PendingTransactions() != 1 {
		t.Fatalf("pending transactions %d, want the undecided one", mb.PendingTransactions())
	}
	// The clock jumps past the check time, and past the committed delivery's invisible
	// time too: wait for its ack, or it would come again.
	poll.Until(t, 30*time.Second, "the committed message acknowledged", func() bool {
		return mb.PopStats(group, topic) == pop.Stats{}
	})
	clk.Advance(aliyunTransCheckSeconds*time.Second + time.Second)
	poll.Until(t, 30*time.Second, "the checked commit", func() bool { return rec.len() >= 2 })
	bodies := map[string]bool{}
	for _, r := range rec.all() {
		bodies[string(r.body.([]byte))] = true
	}
	if len(bodies) != 2 || !bodies["commit"] || !bodies["undecided"] || checked.Load() != 1 {
		t.Fatalf("delivered %v after %d checks", bodies, checked.Load())
	}
}

// TestAliyunTimedMessages: a delivery time (and a delay level) holds the message back
// until then on the broker's clock.
func TestAliyunTimedMessages(t *testing.T) {
	now := time.Now()
	clk := minirocketmq.NewManualClock(now)
	mb := startAliyun(t, minirocketmq.WithClock(clk))
	topic, group := aliyunTopic(t, mb, 1), rmqtest.Name(t, "GID")
	b := newAliyunTestBroker(t, mb)
	rec := aliyunCollect(t, b, topic, group)
	aliyunPublish(t, b, topic, []byte("in an hour"), broker.WithDeliveryTime(now.Add(time.Hour)))
	aliyunPublish(t, b, topic, []byte("level 3"), WithDelayTimeLevel(3))
	if err := b.Publish(context.Background(), topic, []byte("x"), WithDelayTimeLevel(3), broker.WithDeliveryTime(now)); err == nil {
		t.Fatal("a delay level and a delivery time together were accepted")
	}
	time.Sleep(300 * time.Millisecond)
	if rec.len() != 0 {
		t.Fatalf("timed messages delivered early: %d", rec.len())
	}
	clk.Advance(11 * time.Second)
	poll.Until(t, 30*time.Second, "the level-3 message", func() bool { return rec.len() == 1 })
	clk.Advance(time.Hour)
	poll.Until(t, 30*time.Second, "the hour's message", func() bool { return rec.len() == 2 })

	// The v2 driver has delay levels only: it refuses a delivery time rather than
	// deliver the message at once.
	v2 := newTestBroker(t, mb.Addr())
	if err := v2.Publish(context.Background(), topic, []byte("x"), broker.WithDeliveryTime(now)); err == nil || !strings.Contains(err.Error(), "WithDeliveryTime") {
		t.Errorf("v2 publish with a delivery time: %v", err)
	}
}

// TestAliyunUnsupportedNameTheOption: what the API cannot do is refused with an error
// naming the option.
func TestAliyunUnsupportedNameTheOption(t *testing.T) {
	mb := startAliyun(t)
	topic := aliyunTopic(t, mb, 1)
	b := newAliyunTestBroker(t, mb)
	h := func(context.Context, broker.Event) error { return nil }
	sub := func(opts ...broker.SubscribeOption) func() error {
		return func() error {
			_, err := b.Subscribe(topic, h, nil, append([]broker.SubscribeOption{broker.WithQueueName("GID_x")}, opts...)...)
			return err
		}
	}
	for _, tc := range []struct {
		want string
		do   func() error
	}{
		{"MessageModelBroadCasting", sub(WithConsumerModel(MessageModelBroadCasting))},
		{"WithSQLSelector", sub(WithSQLSelector("a > 1"))},
		{"WithRetryDelayLevel", sub(WithRetryDelayLevel(1))},
		{"WithSuspendInterval", sub(WithOrderly(), WithSuspendInterval(time.Second))},
		{"WithConsumeTimeout", sub(WithConsumeTimeout(time.Minute))},
		{"WithConsumeFromTimestamp", sub(WithConsumeFromTimestamp(time.Now()))},
		{"broker.Batch", func() error { return b.Publish(context.Background(), topic, broker.Batch{"a", "b"}) }},
		{"Request", func() error { _, err := b.Request(context.Background(), topic, "q"); return err }},
		{"WithInstanceName", func() error { _, err := NewBroker(DriverTypeAliyun, WithInstanceName("i")); return err }},
		{"WithEnableTrace", func() error { _, err := NewBroker(DriverTypeAliyun, WithEnableTrace()); return err }},
		{"WithNameServerDomain", func() error { _, err := NewBroker(DriverTypeAliyun, WithNameServerDomain("http://x")); return err }},
	} {
		t.Run(tc.want, func(t *testing.T) {
			err := tc.do()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
			if !errors.Is(err, ErrAliyunUnsupported) {
				t.Errorf("err = %v, want ErrAliyunUnsupported", err)
			}
		})
	}
	if _, err := NewBroker(DriverTypeAliyun, WithNameServer([]string{"ftp://x"})); err == nil || !strings.Contains(err.Error(), "ftp://x") {
		t.Errorf("bad endpoint: %v", err)
	}
	if _, err := NewBroker(DriverTypeAliyun, WithTransactionChecker(func(context.Context, *broker.Message) broker.TransactionState { return 0 })); err == nil || !strings.Contains(err.Error(), "WithGroupName") {
		t.Errorf("checker without group: %v", err)
	}
	if err := b.Publish(context.Background(), topic, "x", WithProperties(map[string]string{"url": "http://x"})); err == nil || !strings.Contains(err.Error(), `"url"`) {
		t.Errorf("property the API cannot carry: %v", err)
	}
	if err := b.Publish(context.Background(), topic, "x", WithTag("a|b")); err == nil || !strings.Contains(err.Error(), "WithTag") {
		t.Errorf("tag with '|': %v", err)
	}
	aliyunPublish(t, b, topic, "x", WithTag(`v2:"beta"&<more>`)) // XML carries it; only '|' separates tags
	if _, err := b.Subscribe(rmqtest.Name(t, "Nope"), h, nil, broker.WithQueueName("GID_x")); !mqhttp.IsCode(err, "TopicNotExist") {
		t.Errorf("subscribe to a missing topic: %v", err)
	}
}

// TestAliyunDrainAndDisconnect: Drain waits for a running handler, stops polling, and
// Disconnect leaves no goroutine of the driver; the unfinished delivery comes to the
// next subscriber.
func TestAliyunDrainAndDisconnect(t *testing.T) {
	mb := startAliyun(t)
	topic, group := aliyunTopic(t, mb, 2), rmqtest.Name(t, "GID")
	leaks := []goleak.Option{goleak.IgnoreCurrent(),
		// The embedded broker's HTTP side of the driver's connections (it runs until Cleanup).
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
		goleak.IgnoreAnyFunction("github.com/kratos-rocketmq/rocketmq/minirocketmq/pop.(*Engine).Receive"),
	}
	func() {
		b := NewAliyun(WithNameServer([]string{"http://" + mb.HTTPAddr()}), broker.WithLogger(testLogger()))
		if err := b.Connect(); err != nil {
			t.Fatal(err)
		}
		started, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		var finished atomic.Bool
		_, err := b.Subscribe(topic, func(context.Context, broker.Event) error {
			once.Do(func() { close(started) })
			<-release
			finished.Store(true)
			return nil
		}, nil, broker.WithQueueName(group))
		if err != nil {
			t.Fatal(err)
		}
		aliyunPublish(t, b, topic, []byte("slow"))
		<-started
		drained := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			drained <- b.Drain(ctx)
		}()
		select {
		case err := <-drained:
			t.Fatalf("Drain returned (%v) while a handler ran", err)
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		if err := <-drained; err != nil || !finished.Load() {
			t.Fatalf("Drain = %v, handler finished %v", err, finished.Load())
		}
		// Published while draining: nobody takes it now.
		aliyunPublish(t, b, topic, []byte("after drain"))
		if err := b.Disconnect(); err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(context.Background(), topic, []byte("x")); !errors.Is(err, ErrNotConnected) {
			t.Errorf("publish after Disconnect: %v", err)
		}
	}()
	goleak.VerifyNone(t, leaks...)
	next := newAliyunTestBroker(t, mb)
	rec := aliyunCollect(t, next, topic, group)
	poll.Until(t, 30*time.Second, "the message published while draining", func() bool {
		for _, r := range rec.all() {
			if string(r.body.([]byte)) == "after drain" {
				return true
			}
		}
		return false
	})
}

// TestAliyunTLS: on an https endpoint the driver verifies the server's certificate
// against WithTLSConfig's roots (a certificate of an unknown CA fails), and a TLS
// configuration needs an https endpoint.
func TestAliyunTLS(t *testing.T) {
	files := rmqtest.WriteTLSFiles(t)
	srvCfg, err := minirocketmq.LoadTLSConfig(files.ServerCert, files.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	mb := startAliyun(t, minirocketmq.WithTLS(srvCfg))
	topic := aliyunTopic(t, mb, 1)
	pem, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	endpoint := WithNameServer([]string{"https://" + mb.HTTPAddr()})
	b := NewAliyun(endpoint, broker.WithTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}), broker.WithLogger(testLogger()))
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Disconnect() })
	rec := aliyunCollect(t, b, topic, rmqtest.Name(t, "GID"))
	aliyunPublish(t, b, topic, []byte("over TLS"))
	poll.Until(t, 30*time.Second, "the message over TLS", func() bool { return rec.len() == 1 })

	untrusted := newAliyunTestBroker(t, mb, endpoint, broker.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	if err := untrusted.Publish(context.Background(), topic, []byte("x")); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("publish to a server of an unknown CA: %v", err)
	}
	if _, err := NewBroker(DriverTypeAliyun, WithNameServer([]string{"http://" + mb.HTTPAddr()}), broker.WithTLSConfig(&tls.Config{})); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("TLS with an http endpoint: %v", err)
	}
}
