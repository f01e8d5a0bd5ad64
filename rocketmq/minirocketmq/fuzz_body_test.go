package minirocketmq

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Fuzz targets for the request paths that parse a body or a structured
// header field, beside the frame decoder's (remoting) and the formats'
// (message, sql92): they call the handlers of a running broker directly,
// without dispatch's recover, so a panic fails the target. Invariants:
// nothing panics, every request gets an answer, and what a handler stores
// decodes again. The seeds are the corresponding requests of the Go client
// recorded against RocketMQ 4.9.4 (remoting/testdata/fuzz/FuzzReadFrame)
// plus hand-made edge cases; they run in every go test.
//
//	go test -fuzz FuzzHeartbeatBody ./minirocketmq
//	go test -fuzz FuzzSQL92Subscription ./minirocketmq
//	go test -fuzz FuzzBatchBody ./minirocketmq
//	go test -fuzz FuzzMessageProperties ./minirocketmq
//	go test -fuzz FuzzAdminBodies ./minirocketmq

// fuzzBroker starts a broker for a fuzz target and returns it with a
// connection object handlers can be called with (nothing reads its
// answers: the pipe's other end is never read).
func fuzzBroker(f *testing.F, opts ...Option) (*Broker, *conn) {
	f.Helper()
	b, err := Run(append([]Option{WithDelayLevels(time.Hour), WithTransactionCheckInterval(time.Hour)}, opts...)...)
	if err != nil {
		f.Fatal(err)
	}
	client, server := net.Pipe()
	c := &conn{listener: ListenerBroker, Conn: remoting.NewConn(server, remoting.Config{})}
	f.Cleanup(func() {
		_ = client.Close()
		_ = c.Close()
		_ = b.Close()
	})
	for _, topic := range []string{"FuzzT", "FuzzT2"} {
		if err := b.CreateTopic(topic, 4); err != nil {
			f.Fatal(err)
		}
	}
	return b, c
}

// recordedRequests returns the requests with one of codes that the Go
// client sent to RocketMQ 4.9.4 in the recorded seed corpus.
func recordedRequests(f *testing.F, codes ...int16) []*remoting.Command {
	f.Helper()
	dir := filepath.Join("remoting", "testdata", "fuzz", "FuzzReadFrame")
	ents, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	var out []*remoting.Command
	for _, e := range ents {
		file, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "[]byte(") {
				continue
			}
			raw, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "[]byte("), ")"))
			if err != nil || len(raw) < 4 {
				continue
			}
			cmd, err := remoting.Decode([]byte(raw[4:]))
			if err != nil || cmd.IsResponse() {
				continue
			}
			for _, code := range codes {
				if cmd.Code == code {
					out = append(out, cmd)
				}
			}
		}
		_ = file.Close()
	}
	return out
}

// mustAnswer fails t when a handler neither answered nor explained why.
func mustAnswer(t *testing.T, code int16, resp *remoting.Command, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("handler of %d returned a connection error: %v", code, err)
	}
	if resp == nil {
		t.Fatalf("handler of %d did not answer", code)
	}
}

// FuzzHeartbeatBody: HEART_BEAT bodies (JSON HeartbeatData, SQL92 and tag
// subscriptions included).
func FuzzHeartbeatBody(f *testing.F) {
	b, c := fuzzBroker(f)
	for _, req := range recordedRequests(f, remoting.HeartBeat) {
		f.Add(req.Body)
	}
	f.Add([]byte(`{"clientID":"a@1","producerDataSet":[{"groupName":"PG"}],"consumerDataSet":[{"groupName":"G","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[{"topic":"FuzzT","subString":"a > 1 AND b IN ('x','y')","expressionType":"SQL92","subVersion":1},{"topic":"FuzzT2","subString":"x || y","expressionType":"TAG","subVersion":2}]}]}`))
	f.Add([]byte(`{"consumerDataSet":[{"groupName":"","subscriptionDataSet":[{"topic":"","expressionType":"NOPE"}]}]}`))
	f.Add([]byte(`{"consumerDataSet":null,"producerDataSet":[null]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := remoting.NewRequest(remoting.HeartBeat)
		req.Body = body
		resp, err := b.handleHeartBeat(c, req)
		mustAnswer(t, req.Code, resp, err)
		b.clientGone(c) // forget the registration: the next input starts clean
	})
}

// FuzzSQL92Subscription: an SQL92 expression registered by a heartbeat and
// used by a pull over stored messages with arbitrary properties.
func FuzzSQL92Subscription(f *testing.F) {
	b, c := fuzzBroker(f)
	f.Add("a > 5 AND b = 'x'", "a\x017\x02b\x01x\x02")
	f.Add("a BETWEEN 1 AND 2 OR c IS NULL", "a\x011.5\x02")
	f.Add("NOT (TAGS IN ('t1', 't2'))", "TAGS\x01t1\x02")
	f.Add(strings.Repeat("(", 3000)+"a > 1"+strings.Repeat(")", 3000), "")
	f.Add("a = 1"+strings.Repeat(" OR a = 1", 2000), "a\x012\x02")
	f.Fuzz(func(t *testing.T, expr, props string) {
		req := remoting.NewRequest(remoting.SendMessage,
			"producerGroup", "PG", "topic", "FuzzT", "defaultTopic", AutoCreateTopicKey, "defaultTopicQueueNums", "4",
			"queueId", "0", "sysFlag", "0", "bornTimestamp", "0", "flag", "0", "properties", props, "reconsumeTimes", "0")
		req.Body = []byte("x")
		resp, err := b.handleSendMessage(c, req)
		mustAnswer(t, req.Code, resp, err)
		hb := remoting.NewRequest(remoting.HeartBeat)
		hb.Body = fmt.Appendf(nil, `{"clientID":"sql@1","consumerDataSet":[{"groupName":"SQLG","subscriptionDataSet":[{"topic":"FuzzT","subString":%s,"expressionType":"SQL92","subVersion":1}]}]}`, strconv.Quote(expr))
		if !strings.Contains(string(hb.Body), `\x`) { // strconv's escapes are not JSON's
			resp, err = b.handleHeartBeat(c, hb)
			mustAnswer(t, hb.Code, resp, err)
		}
		pull := remoting.NewRequest(remoting.PullMessage,
			"consumerGroup", "SQLG", "topic", "FuzzT", "queueId", "0", "queueOffset", "0", "maxMsgNums", "32",
			"sysFlag", "4", "commitOffset", "0", "suspendTimeoutMillis", "0", "subscription", expr, "subVersion", "1", "expressionType", "SQL92")
		resp, err = b.handlePullMessage(c, pull)
		mustAnswer(t, pull.Code, resp, err)
		b.clientGone(c)
	})
}

// FuzzBatchBody: SEND_BATCH_MESSAGE bodies, with arbitrary batch
// properties; every stored member decodes again.
func FuzzBatchBody(f *testing.F) {
	b, c := fuzzBroker(f)
	for _, req := range recordedRequests(f, remoting.SendBatchMessage) {
		f.Add(req.Body, req.Get("i"))
	}
	var body []byte
	body = message.AppendBatchEntry(body, 0, []byte("one"), "KEYS\x01k1\x02UNIQ_KEY\x01u1\x02")
	body = message.AppendBatchEntry(body, 3, nil, "")
	f.Add(body, "")
	f.Add(body, "TRAN_MSG\x01true\x02")
	f.Add(body, "DELAY\x013\x02")
	f.Add([]byte{0, 0, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "")
	f.Fuzz(func(t *testing.T, body []byte, props string) {
		before := b.store.MaxOffset("FuzzT", 1)
		req := remoting.NewRequest(remoting.SendBatchMessage,
			"a", "PG", "b", "FuzzT", "c", AutoCreateTopicKey, "d", "4", "e", "1", "f", "0",
			"g", "0", "h", "0", "i", props, "j", "0", "k", "false", "m", "true")
		req.Body = body
		resp, err := b.handleSendBatchMessage(c, req)
		mustAnswer(t, req.Code, resp, err)
		if resp.Code != remoting.Success {
			return
		}
		if n, stored := decodeStored(t, b, "FuzzT", 1, before), b.store.MaxOffset("FuzzT", 1)-before; int64(n) != stored {
			t.Fatalf("%d messages decode of %d stored", n, stored)
		}
	})
}

// decodeStored decodes what a queue holds from offset from on and returns
// how many messages that is.
func decodeStored(t *testing.T, b *Broker, topic string, queueID int32, from int64) int {
	t.Helper()
	res, err := b.store.Get(&store.GetRequest{Topic: topic, QueueID: queueID, Offset: from, MaxMsgs: 1 << 20, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rec := res.Records; len(rec) > 0; n++ {
		_, size, err := message.DecodeRecord(rec)
		if err != nil {
			t.Fatalf("stored message does not decode: %v", err)
		}
		rec = rec[size:]
	}
	return n
}

// FuzzMessageProperties: SEND_MESSAGE with arbitrary properties (the
// broker reads TRAN_MSG, DELAY, KEYS, UNIQ_KEY, TAGS, WAIT, REAL_TOPIC,
// MSG_TYPE, REPLY_TO_CLIENT... from them) and system flag; what is
// stored decodes again.
func FuzzMessageProperties(f *testing.F) {
	b, c := fuzzBroker(f)
	for _, req := range recordedRequests(f, remoting.SendMessage) {
		f.Add(req.Get("properties"), int32(0), req.Body)
	}
	f.Add("TRAN_MSG\x01true\x02PGROUP\x01PG\x02", int32(4), []byte("half"))
	f.Add("DELAY\x0199\x02", int32(0), []byte("late"))
	f.Add("DELAY\x01-3\x02KEYS\x01a b  c\x02", int32(0), []byte(""))
	f.Add("\x01\x02\x02\x01", int32(-1), []byte{0x78, 0x9c})
	f.Add("MSG_TYPE\x01reply\x02REPLY_TO_CLIENT\x01x@1\x02", int32(1), []byte("not zlib"))
	f.Fuzz(func(t *testing.T, props string, sysFlag int32, body []byte) {
		req := remoting.NewRequest(remoting.SendMessage,
			"producerGroup", "PG", "topic", "FuzzT2", "defaultTopic", AutoCreateTopicKey, "defaultTopicQueueNums", "4",
			"queueId", "2", "sysFlag", strconv.Itoa(int(sysFlag)), "bornTimestamp", "0", "flag", "0", "properties", props, "reconsumeTimes", "0")
		req.Body = body
		before := b.store.MaxOffset("FuzzT2", 2)
		resp, err := b.handleSendMessage(c, req)
		mustAnswer(t, req.Code, resp, err)
		decodeStored(t, b, "FuzzT2", 2, before)
	})
}

// FuzzAdminBodies: the other JSON bodies a client or an admin tool sends:
// LOCK_BATCH_MQ, UNLOCK_BATCH_MQ, CHECK_CLIENT_CONFIG,
// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, UNREGISTER_CLIENT's header.
func FuzzAdminBodies(f *testing.F) {
	b, c := fuzzBroker(f)
	codes := []int16{remoting.LockBatchMQ, remoting.UnlockBatchMQ, remoting.CheckClientConfig, remoting.UpdateAndCreateSubscriptionGroup}
	f.Add(uint8(0), []byte(`{"consumerGroup":"G","clientId":"a@1","mqSet":[{"topic":"FuzzT","brokerName":"broker-a","queueId":1}]}`))
	f.Add(uint8(1), []byte(`{"consumerGroup":"G","clientId":"a@1","mqSet":[{"topic":"FuzzT","brokerName":"broker-a","queueId":-1}]}`))
	f.Add(uint8(2), []byte(`{"clientId":"a@1","group":"G","subscriptionData":{"topic":"FuzzT","subString":"a >","expressionType":"SQL92"}}`))
	f.Add(uint8(3), []byte(`{"groupName":"G","retryQueueNums":-5,"retryMaxTimes":-1}`))
	f.Add(uint8(3), []byte(`{"groupName":"G2","retryQueueNums":2}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		code := codes[int(which)%len(codes)]
		req := remoting.NewRequest(code)
		req.Body = body
		resp, err := b.brokerHandlers[code](c, req)
		mustAnswer(t, code, resp, err)
	})
}
