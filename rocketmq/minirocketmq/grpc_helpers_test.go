package minirocketmq_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// The gRPC endpoint's tests speak RocketMQ 5 with a small client of their
// own over the generated stubs, sending what the official SDK sends
// (apache/rocketmq-clients golang: metadata, settings through Telemetry,
// heartbeats, the v5 signature). Real RocketMQ 4.9.4 has no gRPC endpoint,
// so these tests skip themselves when ROCKETMQ_NAMESRV points at one.

// startV5 starts an embedded broker that also serves gRPC on a free port.
func startV5(t testing.TB, opts ...minirocketmq.Option) *minirocketmq.Broker {
	t.Helper()
	if rmqtest.External() != "" {
		t.Skip("the gRPC endpoint is the embedded broker's (RocketMQ 4.9.4 has none)")
	}
	return minirocketmq.RunT(t, append([]minirocketmq.Option{minirocketmq.WithGRPCAddr("127.0.0.1:0")}, opts...)...)
}

// v5client is one RocketMQ 5 client: a connection and a client id.
type v5client struct {
	t      testing.TB
	cc     *grpc.ClientConn
	api    v2.MessagingServiceClient
	addr   string
	id     string
	ns     string
	ak, sk string
}

type v5Option func(*v5client)

func withNamespace(ns string) v5Option { return func(c *v5client) { c.ns = ns } }

func withCredentials(ak, sk string) v5Option { return func(c *v5client) { c.ak, c.sk = ak, sk } }

// dialV5 connects to b's gRPC endpoint (plaintext; the endpoint serves
// TLS too).
func dialV5(t testing.TB, b *minirocketmq.Broker, opts ...v5Option) *v5client {
	t.Helper()
	return dialV5Creds(t, b.GRPCAddr(), insecure.NewCredentials(), opts...)
}

func dialV5Creds(t testing.TB, addr string, creds credentials.TransportCredentials, opts ...v5Option) *v5client {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	c := &v5client{t: t, cc: cc, api: v2.NewMessagingServiceClient(cc), addr: addr, id: "test-client@" + hex.EncodeToString(rnd[:])}
	for _, o := range opts {
		o(c)
	}
	return c
}

// ctx is a call context with the SDK's metadata and a deadline.
func (c *v5client) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	c.t.Cleanup(cancel)
	now := time.Now().UTC().Format("20060102T150405Z")
	kv := []string{
		"x-mq-language", "GO", "x-mq-protocol", "v2", "x-mq-client-version", "5.1.4",
		"x-mq-request-id", strconv.FormatInt(time.Now().UnixNano(), 10), "x-mq-date-time", now,
	}
	if c.id != "" {
		kv = append(kv, "x-mq-client-id", c.id)
	}
	if c.ns != "" {
		kv = append(kv, "x-mq-namespace", c.ns)
	}
	if c.ak != "" {
		kv = append(kv, "authorization", acl.SignGRPC(c.ak, c.sk, now))
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

func (c *v5client) res(name string) *v2.Resource {
	return &v2.Resource{Name: name, ResourceNamespace: c.ns}
}

func (c *v5client) endpoints() *v2.Endpoints {
	host, port, _ := net.SplitHostPort(c.addr)
	p, _ := strconv.Atoi(port)
	return &v2.Endpoints{Scheme: v2.AddressScheme_IPv4, Addresses: []*v2.Address{{Host: host, Port: int32(p)}}}
}

// telemetry is an open Telemetry stream.
type telemetry struct {
	stream v2.MessagingService_TelemetryClient
	cmds   chan *v2.TelemetryCommand
	done   chan error
}

// openTelemetry opens the stream, sends settings and returns the stream
// with the server's answer to them.
func (c *v5client) openTelemetry(settings *v2.Settings) (*telemetry, *v2.TelemetryCommand) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(c.ctx(time.Hour))
	c.t.Cleanup(cancel)
	stream, err := c.api.Telemetry(ctx)
	if err != nil {
		c.t.Fatalf("telemetry: %v", err)
	}
	tm := &telemetry{stream: stream, cmds: make(chan *v2.TelemetryCommand, 16), done: make(chan error, 1)}
	go func() {
		for {
			cmd, err := stream.Recv()
			if err != nil {
				tm.done <- err
				close(tm.cmds)
				return
			}
			tm.cmds <- cmd
		}
	}()
	c.t.Cleanup(func() { _ = stream.CloseSend() })
	if err := stream.Send(&v2.TelemetryCommand{Command: &v2.TelemetryCommand_Settings{Settings: settings}}); err != nil {
		c.t.Fatalf("send settings: %v", err)
	}
	return tm, tm.next(c.t)
}

// next returns the next command from the server (nil when the stream
// ended).
func (tm *telemetry) next(t testing.TB) *v2.TelemetryCommand {
	t.Helper()
	select {
	case cmd := <-tm.cmds:
		return cmd
	case <-time.After(10 * time.Second):
		t.Fatal("no telemetry command from the server within 10 s")
		return nil
	}
}

// end returns the error the stream ended with.
func (tm *telemetry) end(t testing.TB) error {
	t.Helper()
	select {
	case err := <-tm.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the telemetry stream did not end within 10 s")
		return nil
	}
}

func (c *v5client) producerSettings(topics ...string) *v2.Settings {
	kind := v2.ClientType_PRODUCER
	var res []*v2.Resource
	for _, t := range topics {
		res = append(res, c.res(t))
	}
	return &v2.Settings{ClientType: &kind, AccessPoint: c.endpoints(), RequestTimeout: durationpb.New(3 * time.Second),
		PubSub: &v2.Settings_Publishing{Publishing: &v2.Publishing{Topics: res}}}
}

func (c *v5client) consumerSettings(kind v2.ClientType, group string, topics ...string) *v2.Settings {
	var subs []*v2.SubscriptionEntry
	for _, t := range topics {
		subs = append(subs, &v2.SubscriptionEntry{Topic: c.res(t), Expression: &v2.FilterExpression{Type: v2.FilterType_TAG, Expression: "*"}})
	}
	return &v2.Settings{ClientType: &kind, AccessPoint: c.endpoints(), RequestTimeout: durationpb.New(3 * time.Second),
		PubSub: &v2.Settings_Subscription{Subscription: &v2.Subscription{Group: c.res(group), Subscriptions: subs}}}
}

// producer starts c as a producer of topics: Telemetry settings, then a
// heartbeat, as the SDK does.
func (c *v5client) producer(topics ...string) *telemetry {
	c.t.Helper()
	tm, cmd := c.openTelemetry(c.producerSettings(topics...))
	if cmd.GetStatus().GetCode() != v2.Code_OK || cmd.GetSettings() == nil {
		c.t.Fatalf("producer settings: %v", cmd)
	}
	c.heartbeat(v2.ClientType_PRODUCER, "")
	return tm
}

// consumer starts c as a simple consumer of group.
func (c *v5client) consumer(group string, topics ...string) *telemetry {
	c.t.Helper()
	tm, cmd := c.openTelemetry(c.consumerSettings(v2.ClientType_SIMPLE_CONSUMER, group, topics...))
	if cmd.GetStatus().GetCode() != v2.Code_OK || cmd.GetSettings() == nil {
		c.t.Fatalf("consumer settings: %v", cmd)
	}
	c.heartbeat(v2.ClientType_SIMPLE_CONSUMER, group)
	return tm
}

func (c *v5client) heartbeat(kind v2.ClientType, group string) *v2.Status {
	c.t.Helper()
	req := &v2.HeartbeatRequest{ClientType: kind}
	if group != "" {
		req.Group = c.res(group)
	}
	resp, err := c.api.Heartbeat(c.ctx(5*time.Second), req)
	if err != nil {
		c.t.Fatalf("heartbeat: %v", err)
	}
	return resp.GetStatus()
}

var msgSeq = time.Now().UnixNano()

// newMsg builds a message as the SDK does (a fresh message id), changed by
// mods.
func (c *v5client) newMsg(topic, body string, mods ...func(*v2.Message)) *v2.Message {
	msgSeq++
	m := &v2.Message{
		Topic: c.res(topic),
		Body:  []byte(body),
		SystemProperties: &v2.SystemProperties{
			MessageId:    "01" + strconv.FormatInt(msgSeq, 16),
			MessageType:  v2.MessageType_NORMAL,
			BodyEncoding: v2.Encoding_IDENTITY,
			BornHost:     "test-host",
		},
	}
	for _, f := range mods {
		f(m)
	}
	return m
}

func (c *v5client) send(msgs ...*v2.Message) *v2.SendMessageResponse {
	c.t.Helper()
	resp, err := c.api.SendMessage(c.ctx(10*time.Second), &v2.SendMessageRequest{Messages: msgs})
	if err != nil {
		c.t.Fatalf("send: %v", err)
	}
	return resp
}

// mustSend sends one message and fails the test unless it was stored.
func (c *v5client) mustSend(m *v2.Message) *v2.SendResultEntry {
	c.t.Helper()
	resp := c.send(m)
	if resp.GetStatus().GetCode() != v2.Code_OK || len(resp.GetEntries()) != 1 {
		c.t.Fatalf("send %s: %v", m.GetSystemProperties().GetMessageId(), resp)
	}
	return resp.GetEntries()[0]
}

// receiveReq is a receive of up to 32 messages, 10 s invisible, 200 ms of
// long polling.
func (c *v5client) receiveReq(group, topic string) *v2.ReceiveMessageRequest {
	return &v2.ReceiveMessageRequest{
		Group:              c.res(group),
		MessageQueue:       &v2.MessageQueue{Topic: c.res(topic), Id: -1},
		FilterExpression:   &v2.FilterExpression{Type: v2.FilterType_TAG, Expression: "*"},
		BatchSize:          32,
		InvisibleDuration:  durationpb.New(10 * time.Second),
		LongPollingTimeout: durationpb.New(200 * time.Millisecond),
	}
}

// receiveResult is what a ReceiveMessage stream carried.
type receiveResult struct {
	status    *v2.Status
	msgs      []*v2.Message
	delivered bool // a delivery timestamp came last
	err       error
}

func (c *v5client) receiveWith(req *v2.ReceiveMessageRequest, timeout time.Duration) receiveResult {
	c.t.Helper()
	stream, err := c.api.ReceiveMessage(c.ctx(timeout), req)
	if err != nil {
		return receiveResult{err: err}
	}
	var r receiveResult
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return r
		}
		if err != nil {
			r.err = err
			return r
		}
		switch x := resp.GetContent().(type) {
		case *v2.ReceiveMessageResponse_Status:
			r.status = x.Status
		case *v2.ReceiveMessageResponse_Message:
			r.msgs = append(r.msgs, x.Message)
		case *v2.ReceiveMessageResponse_DeliveryTimestamp:
			r.delivered = true
		}
	}
}

// receive returns what one receive got (nothing: MESSAGE_NOT_FOUND), and
// fails on any other status.
func (c *v5client) receive(group, topic string) []*v2.Message {
	c.t.Helper()
	r := c.receiveWith(c.receiveReq(group, topic), 10*time.Second)
	switch {
	case r.err != nil:
		c.t.Fatalf("receive: %v", r.err)
	case r.status.GetCode() == v2.Code_MESSAGE_NOT_FOUND && len(r.msgs) == 0:
	case r.status.GetCode() != v2.Code_OK || !r.delivered:
		c.t.Fatalf("receive: status %v, %d messages, delivery timestamp %t", r.status, len(r.msgs), r.delivered)
	}
	return r.msgs
}

// receiveN receives until n messages came (or 10 s passed).
func (c *v5client) receiveN(group, topic string, n int) []*v2.Message {
	c.t.Helper()
	var out []*v2.Message
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		out = append(out, c.receive(group, topic)...)
	}
	if len(out) != n {
		c.t.Fatalf("received %d messages, want %d", len(out), n)
	}
	return out
}

func (c *v5client) ack(group, topic string, msgs ...*v2.Message) *v2.AckMessageResponse {
	c.t.Helper()
	req := &v2.AckMessageRequest{Group: c.res(group), Topic: c.res(topic)}
	for _, m := range msgs {
		req.Entries = append(req.Entries, &v2.AckMessageEntry{MessageId: m.GetSystemProperties().GetMessageId(), ReceiptHandle: m.GetSystemProperties().GetReceiptHandle()})
	}
	resp, err := c.api.AckMessage(c.ctx(5*time.Second), req)
	if err != nil {
		c.t.Fatalf("ack: %v", err)
	}
	return resp
}

func bodiesOf(msgs []*v2.Message) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, string(m.GetBody()))
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// wantCode fails the test unless st has code.
func wantCode(t testing.TB, what string, st *v2.Status, code v2.Code) {
	t.Helper()
	if st.GetCode() != code {
		t.Fatalf("%s: status %v %q, want %v", what, st.GetCode(), st.GetMessage(), code)
	}
}

func insecureCreds() credentials.TransportCredentials { return insecure.NewCredentials() }

func timestamppbNew(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

func gzipBytes(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// remotingMessage is a message of the v2 remoting client with a tag, keys
// and a property.
func remotingMessage(topic, body string) *primitive.Message {
	m := primitive.NewMessage(topic, []byte(body))
	m.WithTag("tagX")
	m.WithKeys([]string{"key1", "key2"})
	m.WithProperty("color", "blue")
	return m
}

// consumeRemoting consumes n messages of topic with the v2 remoting push
// consumer of group.
func consumeRemoting(t testing.TB, ns, group, topic string, n int) []*primitive.MessageExt {
	t.Helper()
	var (
		mu  sync.Mutex
		got []*primitive.MessageExt
	)
	c := newPushConsumer(t, ns, group)
	if err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		got = append(got, msgs...)
		mu.Unlock()
		return consumer.ConsumeSuccess, nil
	}); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	waitFor(t, 30*time.Second, "the remoting consumer's messages", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= n
	})
	mu.Lock()
	defer mu.Unlock()
	return append([]*primitive.MessageExt(nil), got...)
}
