package minirocketmq_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

func TestGRPCQueryRoute(t *testing.T) {
	b := startV5(t)
	c := dialV5(t, b)
	topic, fifo := rmqtest.Name(t, "T"), rmqtest.Name(t, "F")
	if err := b.CreateTopic(topic, 4); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateTopic(fifo, 2); err != nil {
		t.Fatal(err)
	}
	if err := b.SetTopicMessageType(fifo, minirocketmq.MessageTypeFIFO); err != nil {
		t.Fatal(err)
	}
	route := func(c *v5client, topic string) *v2.QueryRouteResponse {
		t.Helper()
		resp, err := c.api.QueryRoute(c.ctx(5*time.Second), &v2.QueryRouteRequest{Topic: c.res(topic), Endpoints: c.endpoints()})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := route(c, topic)
	wantCode(t, "route", resp.GetStatus(), v2.Code_OK)
	if len(resp.GetMessageQueues()) != 4 {
		t.Fatalf("%d queues, want 4", len(resp.GetMessageQueues()))
	}
	for i, q := range resp.GetMessageQueues() {
		if q.GetId() != int32(i) || q.GetPermission() != v2.Permission_READ_WRITE || q.GetTopic().GetName() != topic ||
			q.GetBroker().GetName() != minirocketmq.DefaultBrokerName || q.GetBroker().GetEndpoints().GetAddresses()[0].GetHost() != "127.0.0.1" ||
			len(q.GetAcceptMessageTypes()) != 1 || q.GetAcceptMessageTypes()[0] != v2.MessageType_NORMAL {
			t.Fatalf("queue %d: %v", i, q)
		}
	}
	if got := route(c, fifo).GetMessageQueues()[0].GetAcceptMessageTypes(); len(got) != 1 || got[0] != v2.MessageType_FIFO {
		t.Fatalf("FIFO topic accepts %v", got)
	}
	wantCode(t, "unknown topic", route(c, rmqtest.Name(t, "nope")).GetStatus(), v2.Code_TOPIC_NOT_FOUND)
	wantCode(t, "system topic", route(c, minirocketmq.AutoCreateTopicKey).GetStatus(), v2.Code_ILLEGAL_TOPIC)
	wantCode(t, "bad name", route(c, "a b").GetStatus(), v2.Code_ILLEGAL_TOPIC)
	wantCode(t, "dead-letter topic", route(c, "%DLQ%"+rmqtest.Name(t, "G")).GetStatus(), v2.Code_OK)
	anonymous := dialV5(t, b)
	anonymous.id = ""
	st := route(anonymous, topic).GetStatus()
	wantCode(t, "no client id", st, v2.Code_CLIENT_ID_REQUIRED)
	if st.GetMessage() != "client id cannot be empty" {
		t.Fatalf("message %q", st.GetMessage())
	}
}

func TestGRPCQueryAssignment(t *testing.T) {
	b := startV5(t)
	c := dialV5(t, b)
	topic, group, orderly := rmqtest.Name(t, "T"), rmqtest.Name(t, "G"), rmqtest.Name(t, "O")
	if err := b.CreateTopic(topic, 3); err != nil {
		t.Fatal(err)
	}
	if err := b.UpdateSubscriptionGroup(minirocketmq.SubscriptionGroupConfig{GroupName: orderly, RetryMaxTimes: 16, RetryQueueNums: 1, ConsumeMessageOrderly: true}); err != nil {
		t.Fatal(err)
	}
	assign := func(group, topic string) *v2.QueryAssignmentResponse {
		t.Helper()
		resp, err := c.api.QueryAssignment(c.ctx(5*time.Second), &v2.QueryAssignmentRequest{Topic: c.res(topic), Group: c.res(group), Endpoints: c.endpoints()})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := assign(group, topic)
	wantCode(t, "assignment", resp.GetStatus(), v2.Code_OK)
	if a := resp.GetAssignments(); len(a) != 1 || a[0].GetMessageQueue().GetId() != -1 {
		t.Fatalf("assignments of a normal group: %v", a)
	}
	if a := assign(orderly, topic).GetAssignments(); len(a) != 3 || a[2].GetMessageQueue().GetId() != 2 {
		t.Fatalf("assignments of an orderly group: %v", a)
	}
	wantCode(t, "unknown topic", assign(group, rmqtest.Name(t, "nope")).GetStatus(), v2.Code_TOPIC_NOT_FOUND)
	wantCode(t, "system group", assign("CID_RMQ_SYS_X", topic).GetStatus(), v2.Code_ILLEGAL_CONSUMER_GROUP)
}

// TestGRPCTelemetrySettings: the settings a client sends come back with the
// server's part filled in; settings without publishing or subscription, or
// with a bad topic, end the stream with INVALID_ARGUMENT.
func TestGRPCTelemetrySettings(t *testing.T) {
	b := startV5(t, minirocketmq.WithDelayLevels(time.Second, 2*time.Second))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.UpdateSubscriptionGroup(minirocketmq.SubscriptionGroupConfig{GroupName: group, RetryMaxTimes: 4, RetryQueueNums: 1, ConsumeMessageOrderly: true}); err != nil {
		t.Fatal(err)
	}
	c := dialV5(t, b)
	tm, cmd := c.openTelemetry(c.producerSettings(topic))
	wantCode(t, "producer settings", cmd.GetStatus(), v2.Code_OK)
	s := cmd.GetSettings()
	// Answers to commands the server never sent are dropped; the stream goes on.
	stack, verify := "goroutine 1 [running]", &v2.VerifyMessageResult{Nonce: "n"}
	for _, extra := range []*v2.TelemetryCommand{
		{Command: &v2.TelemetryCommand_ThreadStackTrace{ThreadStackTrace: &v2.ThreadStackTrace{Nonce: "n", ThreadStackTrace: &stack}}},
		{Status: &v2.Status{Code: v2.Code_OK}, Command: &v2.TelemetryCommand_VerifyMessageResult{VerifyMessageResult: verify}},
		{Command: &v2.TelemetryCommand_Settings{Settings: c.producerSettings(topic)}},
	} {
		if err := tm.stream.Send(extra); err != nil {
			t.Fatal(err)
		}
	}
	if again := tm.next(t); again.GetSettings() == nil || again.GetStatus().GetCode() != v2.Code_OK {
		t.Fatalf("after the answers nobody asked for: %v", again)
	}
	if s.GetBackoffPolicy().GetMaxAttempts() != 3 || s.GetBackoffPolicy().GetExponentialBackoff().GetMultiplier() != 2 ||
		s.GetPublishing().GetMaxBodySize() != minirocketmq.DefaultMaxMessageSize || !s.GetPublishing().GetValidateMessageType() ||
		s.GetMetric().GetOn() {
		t.Fatalf("producer settings: %v", s)
	}
	cons := dialV5(t, b)
	_, cmd = cons.openTelemetry(cons.consumerSettings(v2.ClientType_PUSH_CONSUMER, group, topic))
	wantCode(t, "consumer settings", cmd.GetStatus(), v2.Code_OK)
	s = cmd.GetSettings()
	sub := s.GetSubscription()
	if sub.GetReceiveBatchSize() != 32 || sub.GetLongPollingTimeout().AsDuration() != minirocketmq.DefaultGRPCMaxLongPolling || !sub.GetFifo() ||
		s.GetBackoffPolicy().GetMaxAttempts() != 5 || len(s.GetBackoffPolicy().GetCustomizedBackoff().GetNext()) != 2 {
		t.Fatalf("consumer settings: %v", s)
	}
	if clients := b.GRPCClients(); len(clients) != 2 {
		t.Fatalf("clients %v", clients)
	}

	bad := []struct {
		name     string
		settings *v2.Settings
		want     string
	}{
		{"no publishing or subscription", &v2.Settings{}, "there is no publishing or subscription data in settings"},
		{"system topic", c.producerSettings(minirocketmq.AutoCreateTopicKey), "cannot access system topic"},
		{"bad SQL", func() *v2.Settings {
			s := cons.consumerSettings(v2.ClientType_SIMPLE_CONSUMER, group, topic)
			s.GetSubscription().Subscriptions[0].Expression = &v2.FilterExpression{Type: v2.FilterType_SQL, Expression: "a >"}
			return s
		}(), "process client telemetryCommand failed"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := dialV5(t, b)
			tm, _ := c.openTelemetryNoWait(tc.settings)
			err := tm.end(t)
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("stream ended with %v, want INVALID_ARGUMENT %q", err, tc.want)
			}
		})
	}
}

// openTelemetryNoWait opens the stream and sends settings without waiting
// for an answer.
func (c *v5client) openTelemetryNoWait(settings *v2.Settings) (*telemetry, error) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(c.ctx(time.Hour))
	c.t.Cleanup(cancel)
	stream, err := c.api.Telemetry(ctx)
	if err != nil {
		c.t.Fatal(err)
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
	return tm, stream.Send(&v2.TelemetryCommand{Command: &v2.TelemetryCommand_Settings{Settings: settings}})
}

func TestGRPCHeartbeatAndTermination(t *testing.T) {
	b := startV5(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	c := dialV5(t, b)
	wantCode(t, "heartbeat before settings", c.heartbeat(v2.ClientType_SIMPLE_CONSUMER, group), v2.Code_UNRECOGNIZED_CLIENT_TYPE)
	c.consumer(group, topic)
	wantCode(t, "heartbeat", c.heartbeat(v2.ClientType_SIMPLE_CONSUMER, group), v2.Code_OK)
	if _, ok := b.SubscriptionGroup(group); !ok {
		t.Fatal("the consumer's group was not created")
	}
	terminate := func() *v2.Status {
		resp, err := c.api.NotifyClientTermination(c.ctx(5*time.Second), &v2.NotifyClientTerminationRequest{Group: c.res(group)})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetStatus()
	}
	wantCode(t, "termination", terminate(), v2.Code_OK)
	for _, cl := range b.GRPCClients() {
		if cl.ClientID == c.id && cl.Type != "" {
			t.Fatalf("the client is still registered with its settings: %+v", cl)
		}
	}
	wantCode(t, "second termination", terminate(), v2.Code_UNRECOGNIZED_CLIENT_TYPE)
}

// TestGRPCUnsupportedRPCs: what the endpoint does not serve fails at once
// with UNIMPLEMENTED, as an unknown method of the real proxy does.
func TestGRPCUnsupportedRPCs(t *testing.T) {
	b := startV5(t)
	c := dialV5(t, b)
	ctx := c.ctx(5 * time.Second)
	_, err := c.api.RecallMessage(ctx, &v2.RecallMessageRequest{Topic: c.res("T"), RecallHandle: "x"})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("RecallMessage: %v", err)
	}
	_, err = c.api.SyncLiteSubscription(ctx, &v2.SyncLiteSubscriptionRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("SyncLiteSubscription: %v", err)
	}
	cc, err := grpc.NewClient(b.GRPCAddr(), grpc.WithTransportCredentials(insecureCreds()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	_, err = v2.NewAdminClient(cc).ChangeLogLevel(ctx, &v2.ChangeLogLevelRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("Admin.ChangeLogLevel: %v", err)
	}
}
