package minirocketmq_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// Tests in this file speak the protocol with our own remoting client, for
// what the official client cannot send (bad input, codes it never uses).
// They run against ROCKETMQ_NAMESRV too where the real broker's answer is
// the point; brokerAddr finds its broker through the name server.

func dial(t testing.TB, addr string) *remoting.Conn {
	t.Helper()
	c, err := remoting.Dial(ctxT(t, 5*time.Second), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func invoke(t testing.TB, c *remoting.Conn, req *remoting.Command) *remoting.Command {
	t.Helper()
	resp, err := c.Invoke(ctxT(t, 10*time.Second), req)
	if err != nil {
		t.Fatalf("invoke code %d: %v", req.Code, err)
	}
	return resp
}

// brokerAddr asks the name server for the address of its (first) broker.
func brokerAddr(t testing.TB, ns string) string {
	t.Helper()
	resp := invoke(t, dial(t, ns), remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", minirocketmq.AutoCreateTopicKey))
	if resp.Code != remoting.Success {
		t.Fatalf("route of TBW102: code %d %s", resp.Code, resp.Remark)
	}
	body := string(resp.Body)
	i := strings.Index(body, `"0":"`)
	if i < 0 {
		t.Fatalf("no master address in route %s", body)
	}
	rest := body[i+5:]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestUnknownRequestCode(t *testing.T) {
	ns := rmqtest.NameServer(t)
	resp := invoke(t, dial(t, brokerAddr(t, ns)), remoting.NewRequest(9999))
	if resp.Code != remoting.RequestCodeNotSupported || resp.Remark != " request type 9999 not supported" {
		t.Fatalf("code %d remark %q", resp.Code, resp.Remark)
	}
}

// TestBadFramesCloseOnlyTheirConnection: a truncated or malformed frame, or
// one announcing more than the size limit, closes that connection; the
// broker keeps serving the others.
func TestBadFramesCloseOnlyTheirConnection(t *testing.T) {
	ns, b := rmqtest.Start(t, minirocketmq.WithMaxFrameSize(1<<20))
	if b == nil {
		t.Skip("inspects the embedded broker's frame limit")
	}
	good := dial(t, b.BrokerAddr())
	tests := []struct {
		name  string
		frame []byte
	}{
		{"over the size limit", binary.BigEndian.AppendUint32(nil, 1<<30)},
		{"header length past the frame", append(binary.BigEndian.AppendUint32(nil, 8), 0, 0, 0, 200, '{', '}', 0, 0)},
		{"not JSON", append(binary.BigEndian.AppendUint32(nil, 8), 0, 0, 0, 4, 'n', 'o', 'p', 'e')},
		{"unknown serialize type", append(binary.BigEndian.AppendUint32(nil, 6), 7, 0, 0, 2, '{', '}')},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := dial(t, b.BrokerAddr())
			if err := bad.SendRaw(tc.frame); err != nil {
				t.Fatal(err)
			}
			select {
			case <-bad.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("broker did not close the connection")
			}
			resp := invoke(t, good, remoting.NewRequest(remoting.GetMaxOffset, "topic", "T", "queueId", "0"))
			if resp.Code != remoting.Success {
				t.Fatalf("other connection got code %d", resp.Code)
			}
		})
	}
	// The name server listener behaves the same and stays up too.
	nsConn := dial(t, ns)
	if resp := invoke(t, nsConn, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", "TBW102")); resp.Code != remoting.Success {
		t.Fatalf("name server: code %d", resp.Code)
	}
}

// TestMissingHeaderField: a request without a field it needs gets
// SYSTEM_ERROR (the real broker's remark is a Java exception text).
func TestMissingHeaderField(t *testing.T) {
	ns, b := rmqtest.Start(t)
	resp := invoke(t, dial(t, brokerAddr(t, ns)), remoting.NewRequest(remoting.GetMaxOffset, "queueId", "0"))
	if resp.Code != remoting.SystemError {
		t.Fatalf("code %d remark %q", resp.Code, resp.Remark)
	}
	if b != nil && resp.Remark != "the custom field <topic> is null" {
		t.Fatalf("remark %q", resp.Remark)
	}
}

// TestNoGoroutinesAfterClose: connections, a held pull and a pending
// server→client notification all end with Close.
func TestNoGoroutinesAfterClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b, err := minirocketmq.Run()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateTopic("LeakT", 1); err != nil {
		t.Fatal(err)
	}
	c, err := remoting.Dial(context.Background(), b.BrokerAddr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hb := `{"clientID":"leak@1","producerDataSet":[],"consumerDataSet":[{"groupName":"LeakG","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","subscriptionDataSet":[{"topic":"LeakT","subString":"*","subVersion":1}]}]}`
	req := remoting.NewRequest(remoting.HeartBeat)
	req.Body = []byte(hb)
	if resp := invoke(t, c, req); resp.Code != remoting.Success {
		t.Fatalf("heartbeat: %d %s", resp.Code, resp.Remark)
	}
	pulled := make(chan error, 1)
	go func() {
		_, err := c.Invoke(context.Background(), pullRequest("LeakG", "LeakT", 0, 0, 2 /* suspend */, 20000))
		pulled <- err
	}()
	// Requests on one connection are handled in order: once a later
	// request is answered, the pull has been handled, and held since it is
	// not answered.
	waitFor(t, 5*time.Second, "a later request to be answered", func() bool {
		resp := invoke(t, c, remoting.NewRequest(remoting.GetMaxOffset, "topic", "LeakT", "queueId", "0"))
		return resp.Code == remoting.Success
	})
	if len(pulled) != 0 {
		t.Fatalf("pull answered instead of held: %v", <-pulled)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-pulled; !errors.Is(err, remoting.ErrClosed) {
		t.Fatalf("held pull ended with %v, want the connection closed", err)
	}
	_ = c.Close()
}

// TestNoGoroutinesAfterClientsAndClose: after real clients produced and
// consumed and the broker closed under them, none of the broker's
// goroutines is left (the client's own are not checked; see ourGoroutines).
func TestNoGoroutinesAfterClientsAndClose(t *testing.T) {
	b, err := minirocketmq.Run()
	if err != nil {
		t.Fatal(err)
	}
	topic := rmqtest.Name(t, "T")
	p := newProducer(t, b.Addr())
	if _, err := p.SendSync(context.Background(), newMsg(topic, "x", "1")); err != nil {
		t.Fatal(err)
	}
	col := consume(t, b.Addr(), rmqtest.Name(t, "CG"), topic, consumer.MessageSelector{})
	waitFor(t, 30*time.Second, "the message", func() bool { return col.len() == 1 })
	// Close the broker with the clients still connected and pulls held.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	var broker []string
	waitFor(t, 10*time.Second, "the broker's goroutines to end", func() bool {
		broker = broker[:0]
		for _, g := range ourGoroutines() {
			// Test-side remoting connections of other tests are not ours
			// to judge here; the broker's are.
			if strings.Contains(g, "minirocketmq.(*Broker)") {
				broker = append(broker, g)
			}
		}
		return len(broker) == 0
	})
}

func pullRequest(group, topic string, queueID int, offset int64, sysFlag int, suspendMillis int) *remoting.Command {
	return remoting.NewRequest(remoting.PullMessage,
		"consumerGroup", group, "topic", topic, "queueId", itoa(queueID), "queueOffset", itoa(int(offset)),
		"maxMsgNums", "32", "sysFlag", itoa(sysFlag), "commitOffset", "0",
		"suspendTimeoutMillis", itoa(suspendMillis), "subscription", "*", "subVersion", "0", "expressionType", "TAG")
}

func itoa(n int) string { return strconv.Itoa(n) }
