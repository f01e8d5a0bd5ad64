package minirocketmq_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestGRPCHandlerPanicFailsOnlyItsCall: a gRPC call whose handling panics
// (a store bug, panicStore) fails with INTERNAL naming its method, unary
// and streaming alike; the same client connection and the broker go on
// serving the next calls.
func TestGRPCHandlerPanicFailsOnlyItsCall(t *testing.T) {
	b := startV5(t, minirocketmq.WithStore(newPanicStore()), minirocketmq.WithGRPCLongPolling(100*time.Millisecond, 2*time.Second))
	const fineUnary, fineStream, group = "GRPCFineUnaryT", "GRPCFineStreamT", "GRPCBoomG"
	for _, topic := range []string{putBoomTopic, getBoomTopic, fineUnary, fineStream} {
		if err := b.CreateTopic(topic, 1); err != nil {
			t.Fatal(err)
		}
	}
	wantInternal := func(t *testing.T, err error, method string) {
		t.Helper()
		st := status.Convert(err)
		if st.Code() != codes.Internal || !strings.Contains(st.Message(), "internal error in /apache.rocketmq.v2.MessagingService/"+method) {
			t.Fatalf("%s: %v, want INTERNAL naming the method", method, err)
		}
	}

	t.Run("unary", func(t *testing.T) {
		c := dialV5(t, b)
		c.producer(putBoomTopic, fineUnary)
		_, err := c.api.SendMessage(c.ctx(10*time.Second), &v2.SendMessageRequest{Messages: []*v2.Message{c.newMsg(putBoomTopic, "boom")}})
		wantInternal(t, err, "SendMessage")
		c.mustSend(c.newMsg(fineUnary, "after the unary panic"))
	})
	t.Run("stream", func(t *testing.T) {
		c := dialV5(t, b)
		c.producer(getBoomTopic, fineStream)
		c.mustSend(c.newMsg(getBoomTopic, "unreadable"))
		c.consumer(group, getBoomTopic, fineStream)
		r := c.receiveWith(c.receiveReq(group, getBoomTopic), 10*time.Second)
		wantInternal(t, r.err, "ReceiveMessage")
		c.mustSend(c.newMsg(fineStream, "after the stream panic"))
		if got := bodiesOf(c.receiveN(group, fineStream, 1)); !sameStrings(got, []string{"after the stream panic"}) {
			t.Fatalf("received %v after the stream panic", got)
		}
	})
}
