package minirocketmq_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// envKillChild makes the test binary the broker process of TestKill;
// envKillPersist sets its persist interval (default 20 ms).
const (
	envKillChild   = "MINIROCKETMQ_KILL_CHILD_DATA"
	envKillPersist = "MINIROCKETMQ_KILL_CHILD_PERSIST"
)

// TestKillHelperProcess is not a test: run by TestKill as a child process
// (the test binary again, with envKillChild set), it serves a SYNC_FLUSH
// broker on the given data directory, prints its address and waits to be
// killed.
func TestKillHelperProcess(t *testing.T) {
	dir := os.Getenv(envKillChild)
	if dir == "" {
		t.Skip("helper process of TestKill")
	}
	persist := 20 * time.Millisecond
	if d, err := time.ParseDuration(os.Getenv(envKillPersist)); err == nil {
		persist = d
	}
	b, err := minirocketmq.Run(
		minirocketmq.WithDataDir(dir),
		minirocketmq.WithFlushDiskType(minirocketmq.SyncFlush),
		minirocketmq.WithPersistInterval(persist),
		minirocketmq.WithLogger(minirocketmq.BasicLogger(os.Stderr, minirocketmq.LogLevelInfo)),
	)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	fmt.Println("ADDR", b.Addr())
	select {}
}

// child is a broker process of TestKill.
type child struct {
	cmd  *exec.Cmd
	addr string
}

func startChild(t *testing.T, dir string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelperProcess$", "-test.v=false")
	cmd.Env = append(append(os.Environ(), envKillChild+"="+dir), env...)
	cmd.Stderr = &prefixWriter{t: t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() { c.kill(t) })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			c.addr = addr
			break
		}
		t.Logf("child: %s", sc.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if c.addr == "" {
		t.Fatalf("the broker process did not start")
	}
	return c
}

func (c *child) kill(t *testing.T) {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Kill() // SIGKILL
	_ = c.cmd.Wait()
}

// prefixWriter sends the child's log to t.Log when the test is verbose.
type prefixWriter struct {
	t  *testing.T
	mu sync.Mutex
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.mu.Lock()
		w.t.Logf("child: %s", strings.TrimRight(string(p), "\n"))
		w.mu.Unlock()
	}
	return len(p), nil
}

// TestKill is the crash acceptance test: a broker process with SYNC_FLUSH
// is SIGKILLed while 16 producers send 10,000 messages; after a restart on
// the same data directory every message whose send returned OK is there
// once, queue offsets go on without a gap, and a consumer group resumes
// from the offset it committed before the crash.
func TestKill(t *testing.T) {
	skipExternal(t)
	const (
		total   = 10000
		first   = 2000 // sent and consumed before the crash
		killAt  = 6000 // acknowledged sends when the broker is killed
		senders = 16
		queues  = 4 // of a topic created on first send
	)
	dir := t.TempDir()
	topic, group := rmqtest.Name(t, "Kill"), rmqtest.Name(t, "KillCG")

	var (
		mu       sync.Mutex
		acked    = make(map[int]bool)
		failed   = make(map[int]bool) // the send returned an error: stored or not
		attempts atomic.Int64         // ids handed out
	)
	// send sends ids [from, to) from 16 goroutines and stops each at its
	// first error; killed (if not nil) is closed once killAt sends are
	// acknowledged.
	send := func(parent context.Context, ns string, from, to int, killed chan struct{}) {
		// No client resends; a generous send timeout, so that a slow fsync
		// on a busy machine is not a failed send.
		p := newProducer(t, ns, producer.WithRetry(0), producer.WithSendMsgTimeout(30*time.Second))
		defer func() { _ = p.Shutdown() }()
		next := atomic.Int64{}
		next.Store(int64(from))
		var once sync.Once
		var wg sync.WaitGroup
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					id := int(next.Add(1) - 1)
					if id >= to {
						return
					}
					attempts.Store(max(attempts.Load(), int64(id+1)))
					ctx, cancel := context.WithTimeout(parent, 30*time.Second)
					_, err := p.SendSync(ctx, primitive.NewMessage(topic, []byte(strconv.Itoa(id))))
					cancel()
					mu.Lock()
					if err != nil {
						failed[id] = true
						if killed == nil {
							t.Logf("send %d: %v", id, err)
						}
					} else {
						acked[id] = true
					}
					n := len(acked)
					mu.Unlock()
					if err != nil {
						return
					}
					if killed != nil && n >= killAt {
						once.Do(func() { close(killed) })
					}
				}
			}()
		}
		wg.Wait()
	}

	// consume runs group on ns until want messages arrived and returns
	// (id, queue, queue offset) of each, in arrival order.
	type delivery struct {
		id    int
		queue int
		off   int64
	}
	consume := func(ns string, want func([]delivery) bool) []delivery {
		var dmu sync.Mutex
		var got []delivery
		c := newPushConsumer(t, ns, group, consumer.WithConsumeMessageBatchMaxSize(32))
		err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			dmu.Lock()
			defer dmu.Unlock()
			for _, m := range msgs {
				id, err := strconv.Atoi(string(m.Body))
				if err != nil {
					t.Errorf("body %q", m.Body)
				}
				got = append(got, delivery{id, m.Queue.QueueId, m.QueueOffset})
			}
			return consumer.ConsumeSuccess, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		startConsumer(t, c)
		waitFor(t, 60*time.Second, "messages consumed", func() bool { dmu.Lock(); defer dmu.Unlock(); return want(got) })
		stopConsumer(c, started) // commits offsets
		dmu.Lock()
		defer dmu.Unlock()
		return append([]delivery(nil), got...)
	}

	// Phase 1: 2,000 messages sent and consumed; the group's offsets reach
	// the broker's data directory.
	start := time.Now()
	phase := func(what string) { t.Logf("%v: %s", time.Since(start).Round(time.Millisecond), what) }
	c1 := startChild(t, dir)
	phase("broker started")
	send(context.Background(), c1.addr, 0, first, nil)
	phase("phase 1 sent")
	if len(acked) != first {
		t.Fatalf("phase 1: %d of %d sends acknowledged", len(acked), first)
	}
	before := consume(c1.addr, func(d []delivery) bool { return len(d) >= first })
	consumed := make(map[int]int64) // queue → next offset after what phase 1 consumed
	for _, d := range before {
		consumed[d.queue] = max(consumed[d.queue], d.off+1)
	}
	phase("phase 1 consumed")
	// The offsets the group committed (the client commits on Shutdown and
	// every 5 s, so they may lag what it consumed) must reach the data
	// directory before the kill.
	var committed map[int]int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		live := consumerOffsets(t, c1.addr, topic, group, queues)
		committed = readOffsetFile(t, dir, topic, group)
		ok := len(live) == queues
		for q, off := range live {
			ok = ok && committed[q] == off && off > 0 && off <= consumed[q]
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("offsets: committed %v, persisted %v, consumed up to %v", live, committed, consumed)
		}
		time.Sleep(20 * time.Millisecond)
	}
	phase("phase 1 offsets persisted")
	// Phase 2: the broker is killed mid-stream.
	killed := make(chan struct{})
	sent := make(chan struct{})
	// The client does not fail requests in flight on a connection that
	// breaks; they wait for their context, which is cancelled after the
	// kill.
	inFlight, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { defer close(sent); send(inFlight, c1.addr, first, total, killed) }()
	select {
	case <-killed:
	case <-sent:
		t.Fatal("all sends finished before the kill")
	}
	c1.kill(t)
	phase("killed")
	cancel()
	<-sent
	mu.Lock()
	ackedAtKill, unsure := len(acked), len(failed)
	mu.Unlock()
	t.Logf("killed after %d acknowledged sends; %d sends failed (in flight or after the kill)", ackedAtKill, unsure)

	// Phase 3: restart; the rest is sent; the group resumes.
	c2 := startChild(t, dir)
	phase("restarted")
	resumeFrom := int(attempts.Load())
	send(context.Background(), c2.addr, resumeFrom, total, nil)
	phase("phase 3 sent")
	if len(acked)-ackedAtKill != total-resumeFrom {
		t.Fatalf("after the restart %d of %d sends acknowledged", len(acked)-ackedAtKill, total-resumeFrom)
	}
	maxOff := maxOffsets(t, c2.addr, topic, queues)
	after := consume(c2.addr, func(d []delivery) bool {
		n := make(map[int]int64)
		for _, x := range d {
			n[x.queue]++
		}
		for q := range queues {
			if n[q] < maxOff[q]-committed[q] {
				return false
			}
		}
		return true
	})

	phase("phase 3 consumed")
	// Every acknowledged message is stored once (one queue position per
	// message id); the extra ones are sends that failed, which may or may
	// not have been stored. A position may be delivered twice only in
	// [committed, consumed) of phase 1: consumed but not committed before
	// the crash, redelivered as at-least-once consumption does.
	storedAt := make(map[int]string)
	delivered := make(map[int]map[int64]int)
	for _, d := range append(before, after...) {
		pos := fmt.Sprintf("%d/%d", d.queue, d.off)
		if at, ok := storedAt[d.id]; ok && at != pos {
			t.Fatalf("message %d stored twice: at %s and %s", d.id, at, pos)
		}
		storedAt[d.id] = pos
		if delivered[d.queue] == nil {
			delivered[d.queue] = make(map[int64]int)
		}
		delivered[d.queue][d.off]++
		if n := delivered[d.queue][d.off]; n > 2 || n == 2 && (d.off < committed[d.queue] || d.off >= consumed[d.queue]) {
			t.Fatalf("queue %d offset %d delivered %d times (committed %d, consumed %d)", d.queue, d.off, n, committed[d.queue], consumed[d.queue])
		}
		if !acked[d.id] && !failed[d.id] {
			t.Fatalf("message %d was never sent", d.id)
		}
	}
	for id := range acked {
		if _, ok := storedAt[id]; !ok {
			t.Fatalf("acknowledged message %d lost in the crash", id)
		}
	}
	// Queue offsets are dense: the restarted broker went on at the
	// recovered end of each queue; the group resumed at its offsets.
	for q := range queues {
		for off := int64(0); off < maxOff[q]; off++ {
			if delivered[q][off] == 0 {
				t.Fatalf("queue %d: offset %d of %d missing", q, off, maxOff[q])
			}
		}
	}
	for _, d := range after {
		if d.off < committed[d.queue] {
			t.Fatalf("after the restart the group got queue %d offset %d again (committed %d)", d.queue, d.off, committed[d.queue])
		}
	}
}

// consumerOffsets asks the broker of the name server at ns for the
// group's committed offsets (QUERY_CONSUMER_OFFSET), queues without one
// left out.
func consumerOffsets(t *testing.T, ns, topic, group string, queues int) map[int]int64 {
	t.Helper()
	return queryQueues(t, ns, topic, queues, func(q int) *remoting.Command {
		return remoting.NewRequest(remoting.QueryConsumerOffset, "consumerGroup", group, "topic", topic, "queueId", strconv.Itoa(q))
	})
}

// readOffsetFile reads the group's offsets of topic from the data
// directory's consumerOffset.json (absent: none).
func readOffsetFile(t *testing.T, dir, topic, group string) map[int]int64 {
	data, err := os.ReadFile(filepath.Join(dir, "config", "consumerOffset.json"))
	if err != nil {
		return nil
	}
	var f struct {
		OffsetTable map[string]map[string]int64 `json:"offsetTable"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("consumerOffset.json: %v", err)
	}
	out := make(map[int]int64)
	for q, off := range f.OffsetTable[topic+"@"+group] {
		id, _ := strconv.Atoi(q)
		out[id] = off
	}
	return out
}

// maxOffsets asks the broker of the name server at ns for each queue's
// max offset (GET_MAX_OFFSET).
func maxOffsets(t *testing.T, ns, topic string, queues int) map[int]int64 {
	t.Helper()
	out := queryQueues(t, ns, topic, queues, func(q int) *remoting.Command {
		return remoting.NewRequest(remoting.GetMaxOffset, "topic", topic, "queueId", strconv.Itoa(q))
	})
	if len(out) != queues {
		t.Fatalf("max offsets of %d queues: %v", queues, out)
	}
	return out
}

// queryQueues sends one request per queue to the broker of topic's route,
// with our own remoting client, and returns the offsets of the successful
// answers.
func queryQueues(t *testing.T, ns, topic string, queues int, req func(q int) *remoting.Command) map[int]int64 {
	t.Helper()
	ctx := ctxT(t, 10*time.Second)
	nc, err := remoting.Dial(ctx, ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	resp, err := nc.Invoke(ctx, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", topic))
	if err != nil || resp.Code != remoting.Success {
		t.Fatalf("route of %s: %v %v", topic, err, resp)
	}
	var route struct {
		BrokerDatas []struct {
			BrokerAddrs map[string]string `json:"brokerAddrs"`
		} `json:"brokerDatas"`
	}
	if err := json.Unmarshal(resp.Body, &route); err != nil || len(route.BrokerDatas) == 0 {
		t.Fatalf("route of %s: %v %s", topic, err, resp.Body)
	}
	bc, err := remoting.Dial(ctx, route.BrokerDatas[0].BrokerAddrs["0"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	out := make(map[int]int64)
	for q := range queues {
		resp, err := bc.Invoke(ctx, req(q))
		if err != nil {
			t.Fatalf("queue %d: %v", q, err)
		}
		if resp.Code != remoting.Success {
			continue
		}
		off, err := strconv.ParseInt(resp.Get("offset"), 10, 64)
		if err != nil {
			t.Fatalf("queue %d: offset %q", q, resp.Get("offset"))
		}
		out[q] = off
	}
	return out
}

// TestKillKeepsConfigChanges: topic and subscription group changes are on
// disk when their request is answered, as the real broker persists
// topics.json and subscriptionGroup.json on every change. For each kind of
// change, a broker process whose periodic persistence is an hour away is
// SIGKILLed right after that change (its last request): an admin creating
// a topic or a group, a consumer's heartbeat creating its group and retry
// topic, an admin deleting a topic or a group. After a restart the change
// is there.
// (A topic a send created is persisted too, but its messages would bring
// it back anyway: recovery recreates topics found in the store.)
func TestKillKeepsConfigChanges(t *testing.T) {
	skipExternal(t)
	topic := func(name string, queues int) *remoting.Command {
		return remoting.NewRequest(remoting.UpdateAndCreateTopic, "topic", name, "readQueueNums", strconv.Itoa(queues),
			"writeQueueNums", strconv.Itoa(queues), "perm", "6", "topicFilterType", "SINGLE_TAG")
	}
	type tables struct {
		topics map[string]struct{ ReadQueueNums int }
		groups map[string]struct{ RetryMaxTimes int }
	}
	for _, tc := range []struct {
		name   string
		before func(t *testing.T, conn *remoting.Conn) // not necessarily persisted
		change func(t *testing.T, conn *remoting.Conn) // the last request before the kill
		check  func(t *testing.T, got tables)
	}{
		{"updateTopic", nil,
			func(t *testing.T, conn *remoting.Conn) { invokeOK(t, conn, topic("AdminT", 3)) },
			func(t *testing.T, got tables) {
				if got.topics["AdminT"].ReadQueueNums != 3 {
					t.Errorf("topic AdminT: %+v", got.topics["AdminT"])
				}
			}},
		{"updateSubGroup", nil,
			func(t *testing.T, conn *remoting.Conn) {
				req := remoting.NewRequest(remoting.UpdateAndCreateSubscriptionGroup)
				req.Body = []byte(`{"groupName":"AdminG","retryMaxTimes":5}`)
				invokeOK(t, conn, req)
			},
			func(t *testing.T, got tables) {
				if got.groups["AdminG"].RetryMaxTimes != 5 {
					t.Errorf("group AdminG: %+v", got.groups["AdminG"])
				}
			}},
		{"heartbeat", nil,
			func(t *testing.T, conn *remoting.Conn) { heartbeatConsumer(t, conn, "kill@1", "HeartbeatG") },
			func(t *testing.T, got tables) {
				if _, ok := got.groups["HeartbeatG"]; !ok {
					t.Error("the group a heartbeat created is gone")
				}
				if _, ok := got.topics["%RETRY%HeartbeatG"]; !ok {
					t.Error("the retry topic a heartbeat created is gone")
				}
			}},
		{"deleteTopic",
			func(t *testing.T, conn *remoting.Conn) { invokeOK(t, conn, topic("GoneT", 1)) },
			func(t *testing.T, conn *remoting.Conn) {
				invokeOK(t, conn, remoting.NewRequest(remoting.DeleteTopicInBroker, "topic", "GoneT"))
			},
			func(t *testing.T, got tables) {
				if _, ok := got.topics["GoneT"]; ok {
					t.Error("the deleted topic is back")
				}
			}},
		{"deleteSubGroup",
			func(t *testing.T, conn *remoting.Conn) {
				req := remoting.NewRequest(remoting.UpdateAndCreateSubscriptionGroup)
				req.Body = []byte(`{"groupName":"GoneG"}`)
				invokeOK(t, conn, req)
			},
			func(t *testing.T, conn *remoting.Conn) {
				invokeOK(t, conn, remoting.NewRequest(remoting.DeleteSubscriptionGroup, "groupName", "GoneG"))
			},
			func(t *testing.T, got tables) {
				if _, ok := got.groups["GoneG"]; ok {
					t.Error("the deleted group is back")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := startChild(t, dir, envKillPersist+"=1h")
			conn := dial(t, brokerAddr(t, c.addr))
			if tc.before != nil {
				tc.before(t, conn)
				time.Sleep(100 * time.Millisecond)
			}
			tc.change(t, conn)
			c.kill(t)

			c = startChild(t, dir, envKillPersist+"=1h")
			conn = dial(t, brokerAddr(t, c.addr))
			var got tables
			var tj struct {
				TopicConfigTable map[string]struct{ ReadQueueNums int } `json:"topicConfigTable"`
			}
			if err := json.Unmarshal(invokeOK(t, conn, remoting.NewRequest(remoting.GetAllTopicConfig)).Body, &tj); err != nil {
				t.Fatal(err)
			}
			var gj struct {
				SubscriptionGroupTable map[string]struct{ RetryMaxTimes int } `json:"subscriptionGroupTable"`
			}
			if err := json.Unmarshal(invokeOK(t, conn, remoting.NewRequest(remoting.GetAllSubscriptionGroupConfig)).Body, &gj); err != nil {
				t.Fatal(err)
			}
			got.topics, got.groups = tj.TopicConfigTable, gj.SubscriptionGroupTable
			tc.check(t, got)
		})
	}
}

func invokeOK(t *testing.T, conn *remoting.Conn, req *remoting.Command) *remoting.Command {
	t.Helper()
	resp := invoke(t, conn, req)
	if resp.Code != remoting.Success {
		t.Fatalf("request %d: %d %s", req.Code, resp.Code, resp.Remark)
	}
	return resp
}
