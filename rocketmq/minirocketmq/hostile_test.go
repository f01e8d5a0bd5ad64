package minirocketmq_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// Hostile input: requests that must neither crash the broker nor make it
// hold more than its limits allow. Each test names the limit it checks;
// they run against the embedded broker only (they set its options).

// waitClosed fails t unless c is closed by the broker within d.
func waitClosed(t *testing.T, c *remoting.Conn, d time.Duration, what string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(d):
		t.Fatalf("the broker did not close %s within %v", what, d)
	}
}

// TestHandlerPanicClosesOnlyItsConnection: a request whose handling panics
// (here a test control standing in for a handler bug) is answered
// SYSTEM_ERROR, its connection is closed after the answer, and the broker
// goes on serving every other connection and listener.
func TestHandlerPanicClosesOnlyItsConnection(t *testing.T) {
	skipExternal(t)
	b := runBroker(t)
	for _, l := range []struct {
		name string
		addr string
		code int16
	}{
		{"broker", b.BrokerAddr(), remoting.GetMaxOffset},
		{"name server", b.NameServerAddr(), remoting.GetAllTopicListFromNameServer},
	} {
		t.Run(l.name, func(t *testing.T) {
			remove := b.Control(l.code, func(req *minirocketmq.Request) *remoting.Command {
				if req.Command.Get("topic") == "Boom" {
					var m map[string]int
					m["boom"]++ // assignment to entry in nil map
				}
				return nil
			})
			defer remove()
			other := dial(t, l.addr)
			victim := dial(t, l.addr)
			resp := invoke(t, victim, remoting.NewRequest(l.code, "topic", "Boom", "queueId", "0"))
			if resp.Code != remoting.SystemError || !strings.Contains(resp.Remark, fmt.Sprintf("internal error serving request code %d", l.code)) {
				t.Fatalf("code %d remark %q, want SYSTEM_ERROR", resp.Code, resp.Remark)
			}
			waitClosed(t, victim, 5*time.Second, "the connection of the panicking request")
			if resp := invoke(t, other, remoting.NewRequest(l.code, "topic", "Fine", "queueId", "0")); resp.Code != remoting.Success {
				t.Fatalf("other connection: code %d %s", resp.Code, resp.Remark)
			}
		})
	}
	if n := b.Stats().HandlerPanics; n != 2 {
		t.Fatalf("Stats().HandlerPanics = %d, want 2", n)
	}
}

// TestDeepSQL92Subscription: the heartbeat of issue 16, an SQL92
// subscription nesting two million parentheses, used to kill the process
// with a fatal stack overflow. Now the heartbeat is answered, the
// subscription is registered as one that does not compile (its pulls get
// FILTER_DATA_NOT_EXIST, as for any broken expression on the real broker),
// and CHECK_CLIENT_CONFIG reports a too-deep expression as the real broker
// does: SUBSCRIPTION_PARSE_FAILED, java.lang.StackOverflowError.
func TestDeepSQL92Subscription(t *testing.T) {
	skipExternal(t)
	b := runBroker(t)
	if err := b.CreateTopic("DeepT", 1); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, b.BrokerAddr())
	deep := strings.Repeat("(", 2_000_000) + "a > 1" + strings.Repeat(")", 2_000_000)
	hb := remoting.NewRequest(remoting.HeartBeat)
	hb.Body = fmt.Appendf(nil, `{"clientID":"deep@1","producerDataSet":[],"consumerDataSet":[{"groupName":"DeepG","consumeType":"CONSUME_PASSIVELY",`+
		`"messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","subscriptionDataSet":[{"topic":"DeepT","subString":%q,"expressionType":"SQL92","subVersion":1}]}]}`, deep)
	if resp := invoke(t, conn, hb); resp.Code != remoting.Success {
		t.Fatalf("heartbeat: code %d %s", resp.Code, resp.Remark)
	}
	pull := invoke(t, conn, pullRequest("DeepG", "DeepT", 0, 0, 0, 0))
	if pull.Code != remoting.FilterDataNotExist {
		t.Fatalf("pull: code %d %s, want FILTER_DATA_NOT_EXIST", pull.Code, pull.Remark)
	}
	check := remoting.NewRequest(remoting.CheckClientConfig)
	check.Body = fmt.Appendf(nil, `{"clientId":"deep@1","group":"DeepG","subscriptionData":{"topic":"DeepT","subString":%q,"expressionType":"SQL92"}}`,
		strings.Repeat("(", 3000)+"a > 1"+strings.Repeat(")", 3000))
	if resp := invoke(t, conn, check); resp.Code != remoting.SubscriptionParseFailed || resp.Remark != "java.lang.StackOverflowError" {
		t.Fatalf("CHECK_CLIENT_CONFIG: code %d remark %q", resp.Code, resp.Remark)
	}
}

// TestConnectionCap: past WithMaxConnections, a new connection is closed
// at once and counted; closing one makes room again.
func TestConnectionCap(t *testing.T) {
	skipExternal(t)
	b := runBroker(t, minirocketmq.WithMaxConnections(3))
	var open []*remoting.Conn
	for i := range 3 {
		addr := b.BrokerAddr()
		if i == 2 {
			addr = b.NameServerAddr() // the cap counts both listeners
		}
		c := dial(t, addr)
		if resp := invoke(t, c, remoting.NewRequest(remoting.GetAllTopicListFromNameServer)); resp.Code > remoting.RequestCodeNotSupported {
			t.Fatalf("connection %d: code %d", i, resp.Code)
		}
		open = append(open, c)
	}
	extra := dial(t, b.BrokerAddr())
	waitClosed(t, extra, 5*time.Second, "the connection past the cap")
	if s := b.Stats(); s.RefusedConnections != 1 || s.Connections != 3 {
		t.Fatalf("stats %+v, want 1 refused and 3 open", s)
	}
	_ = open[0].Close()
	waitFor(t, 5*time.Second, "the closed connection to be forgotten", func() bool { return b.Stats().Connections == 2 })
	again := dial(t, b.BrokerAddr())
	if resp := invoke(t, again, remoting.NewRequest(remoting.GetMaxOffset, "topic", "T", "queueId", "0")); resp.Code != remoting.Success {
		t.Fatalf("after making room: code %d", resp.Code)
	}
}

// TestIdleConnectionClosed: a connection that sends nothing (no heartbeat,
// no request) is closed after the idle timeout, on both listeners; one
// that keeps talking stays open.
func TestIdleConnectionClosed(t *testing.T) {
	skipExternal(t)
	const idle = 300 * time.Millisecond
	b := runBroker(t, minirocketmq.WithIdleTimeout(idle))
	silentBroker := dial(t, b.BrokerAddr())
	silentNS := dial(t, b.NameServerAddr())
	busy := dial(t, b.BrokerAddr())
	deadline := time.Now().Add(4 * idle)
	for time.Now().Before(deadline) {
		if resp := invoke(t, busy, remoting.NewRequest(remoting.GetMaxOffset, "topic", "T", "queueId", "0")); resp.Code != remoting.Success {
			t.Fatalf("busy connection: code %d", resp.Code)
		}
		time.Sleep(idle / 5)
	}
	waitClosed(t, silentBroker, 10*time.Second, "a silent broker connection")
	waitClosed(t, silentNS, 10*time.Second, "a silent name server connection")
	select {
	case <-busy.Done():
		t.Fatal("the broker closed a connection that kept talking")
	default:
	}
}

// TestTLSHandshakeDeadline: a client that connects to a TLS listener and
// never completes its handshake is disconnected after the handshake
// timeout (here far shorter than the idle timeout), in both TLS modes.
func TestTLSHandshakeDeadline(t *testing.T) {
	skipExternal(t)
	files := rmqtest.WriteTLSFiles(t)
	cfg, err := minirocketmq.LoadTLSConfig(files.ServerCert, files.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []minirocketmq.TLSMode{minirocketmq.TLSEnforcing, minirocketmq.TLSPermissive} {
		t.Run(mode.String(), func(t *testing.T) {
			b := runBroker(t, minirocketmq.WithTLS(cfg), minirocketmq.WithTLSMode(mode),
				minirocketmq.WithTLSHandshakeTimeout(300*time.Millisecond), minirocketmq.WithIdleTimeout(time.Hour))
			for _, first := range []struct {
				name  string
				bytes []byte
			}{{"silent", nil}, {"half a client hello", []byte{0x16, 0x03, 0x01}}} {
				nc, err := net.Dial("tcp", b.BrokerAddr())
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				if _, err := nc.Write(first.bytes); err != nil {
					t.Fatal(err)
				}
				_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
				var buf [64]byte
				start := time.Now()
				for {
					if _, err := nc.Read(buf[:]); err != nil {
						if ne, ok := err.(net.Error); ok && ne.Timeout() {
							t.Fatalf("%s: not disconnected within 10 s", first.name)
						}
						break
					}
				}
				t.Logf("%s: disconnected after %v", first.name, time.Since(start).Round(time.Millisecond))
			}
			// A real TLS client still gets through.
			tc, err := tls.Dial("tcp", b.BrokerAddr(), tlsClientConfig(t, files, false))
			if err != nil {
				t.Fatal(err)
			}
			_ = tc.Close()
		})
	}
}

// TestQueueCountCaps: a topic or retry queue count above MaxQueueNums is
// refused (a topic of 2^31 queues would be served as such); at the cap it
// is accepted.
func TestQueueCountCaps(t *testing.T) {
	skipExternal(t)
	b := runBroker(t)
	conn := dial(t, b.BrokerAddr())
	create := func(topic string, queues int) *remoting.Command {
		return invoke(t, conn, remoting.NewRequest(remoting.UpdateAndCreateTopic, "topic", topic,
			"readQueueNums", fmt.Sprint(queues), "writeQueueNums", fmt.Sprint(queues), "perm", "6", "topicFilterType", "SINGLE_TAG"))
	}
	if resp := create("CapT", minirocketmq.MaxQueueNums); resp.Code != remoting.Success {
		t.Fatalf("%d queues: code %d %s", minirocketmq.MaxQueueNums, resp.Code, resp.Remark)
	}
	if resp := create("CapT2", minirocketmq.MaxQueueNums+1); resp.Code != remoting.SystemError || !strings.Contains(resp.Remark, "exceed the limit of 1024") {
		t.Fatalf("%d queues: code %d %s", minirocketmq.MaxQueueNums+1, resp.Code, resp.Remark)
	}
	if _, ok := b.Topic("CapT2"); ok {
		t.Fatal("the refused topic exists")
	}
	if err := b.CreateTopic("CapT3", 1<<20); err == nil {
		t.Fatal("CreateTopic took 2^20 queues")
	}
	group := remoting.NewRequest(remoting.UpdateAndCreateSubscriptionGroup)
	group.Body = []byte(`{"groupName":"CapG","retryQueueNums":100000}`)
	if resp := invoke(t, conn, group); resp.Code != remoting.SystemError {
		t.Fatalf("retryQueueNums 100000: code %d", resp.Code)
	}
}

// TestQueryMessageMaxNumCap: QUERY_MESSAGE answers at most
// MaxQueryMessages records whatever maxNum asks.
func TestQueryMessageMaxNumCap(t *testing.T) {
	skipExternal(t)
	b := runBroker(t)
	if err := b.CreateTopic("QueryCapT", 1); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, b.BrokerAddr())
	props := string(message.AppendProperty(nil, message.PropertyKeys, "same"))
	for range minirocketmq.MaxQueryMessages + 10 {
		sendV1(t, conn, "QueryCapT", "x", props, 0)
	}
	resp := invoke(t, conn, remoting.NewRequest(remoting.QueryMessage, "topic", "QueryCapT", "key", "same",
		"maxNum", "100000", "beginTimestamp", "0", "endTimestamp", fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())))
	if resp.Code != remoting.Success {
		t.Fatalf("code %d %s", resp.Code, resp.Remark)
	}
	if n := len(decodeRecords(t, resp.Body)); n != minirocketmq.MaxQueryMessages {
		t.Fatalf("%d records, want %d", n, minirocketmq.MaxQueryMessages)
	}
}

// TestQueueLocksBounded: only members of a group lock queues, only queues
// that exist, and locks that expired are pruned from the table, so lock
// requests cannot fill it.
func TestQueueLocksBounded(t *testing.T) {
	skipExternal(t)
	const expiry = 100 * time.Millisecond
	b := runBroker(t, minirocketmq.WithLockExpiry(expiry))
	if err := b.CreateTopic("LockCapT", 8); err != nil {
		t.Fatal(err)
	}
	name := minirocketmq.DefaultBrokerName
	stranger := dial(t, b.BrokerAddr())
	if got := lockedQueues(t, invoke(t, stranger, lockReq(t, remoting.LockBatchMQ, "LockCapG", "nobody@1", "LockCapT", name, 0, 1))); len(got) != 0 {
		t.Fatalf("a client that is no member locked %v", got)
	}
	member := dial(t, b.BrokerAddr())
	heartbeatConsumer(t, member, "member@1", "LockCapG")
	if got := lockedQueues(t, invoke(t, member, lockReq(t, remoting.LockBatchMQ, "LockCapG", "member@1", "LockCapT", name, 0, 1, 8, 1000))); fmt.Sprint(got) != "[0 1]" {
		t.Fatalf("member locked %v, want the existing queues [0 1]", got)
	}
	if got := lockedQueues(t, invoke(t, member, lockReq(t, remoting.LockBatchMQ, "LockCapG", "member@1", "MadeUpT", name, 0))); len(got) != 0 {
		t.Fatalf("member locked %v of a topic that does not exist", got)
	}
	if n := b.Stats().QueueLocks; n != 2 {
		t.Fatalf("%d locks in the table, want 2", n)
	}
	// Two expiry periods later the next lock request prunes them.
	time.Sleep(3 * expiry)
	if got := lockedQueues(t, invoke(t, member, lockReq(t, remoting.LockBatchMQ, "LockCapG", "member@1", "LockCapT", name, 5))); fmt.Sprint(got) != "[5]" {
		t.Fatalf("locked %v, want [5]", got)
	}
	if n := b.Stats().QueueLocks; n != 1 {
		t.Fatalf("%d locks in the table after pruning, want 1", n)
	}
}

// TestHeldPullsCapped: a connection holds at most WithMaxHeldPulls pulls;
// the next one that finds nothing is answered PULL_NOT_FOUND at once
// instead of being parked.
func TestHeldPullsCapped(t *testing.T) {
	skipExternal(t)
	b := runBroker(t, minirocketmq.WithMaxHeldPulls(2))
	if err := b.CreateTopic("HoldCapT", 1); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, b.BrokerAddr())
	consumerHeartbeat(t, conn, "hold@1", "HoldCapG", "HoldCapT")
	const suspend = 1 << 1 // PullSysFlag SUSPEND
	for range 2 {
		if err := conn.Send(pullRequest("HoldCapG", "HoldCapT", 0, 0, suspend, 20000)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "two held pulls", func() bool { return b.Stats().HeldPulls == 2 })
	start := time.Now()
	resp := invoke(t, conn, pullRequest("HoldCapG", "HoldCapT", 0, 0, suspend, 20000))
	if resp.Code != remoting.PullNotFound {
		t.Fatalf("third pull: code %d %s", resp.Code, resp.Remark)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("the third pull was held %v", waited)
	}
	if n := b.Stats().HeldPulls; n != 2 {
		t.Fatalf("%d held pulls, want 2", n)
	}
}
