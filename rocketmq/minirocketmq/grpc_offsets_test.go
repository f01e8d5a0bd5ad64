package minirocketmq_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

type pullResult struct {
	status *v2.Status
	msgs   []*v2.Message
	next   int64
}

func (c *v5client) pull(group, topic string, queue int32, offset int64, batch int32, wait time.Duration) pullResult {
	c.t.Helper()
	stream, err := c.api.PullMessage(c.ctx(10*time.Second), &v2.PullMessageRequest{
		Group: c.res(group), MessageQueue: &v2.MessageQueue{Topic: c.res(topic), Id: queue}, Offset: offset, BatchSize: batch,
		FilterExpression: &v2.FilterExpression{Type: v2.FilterType_TAG, Expression: "*"}, LongPollingTimeout: durationpb.New(wait),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	r := pullResult{next: -1}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return r
		}
		if err != nil {
			c.t.Fatal(err)
		}
		switch x := resp.GetContent().(type) {
		case *v2.PullMessageResponse_Status:
			r.status = x.Status
		case *v2.PullMessageResponse_Message:
			r.msgs = append(r.msgs, x.Message)
		case *v2.PullMessageResponse_NextOffset:
			r.next = x.NextOffset
		}
	}
}

// TestGRPCPullAndOffsets: offset-based consumption over gRPC, on the same
// offset table as the remoting side.
func TestGRPCPullAndOffsets(t *testing.T) {
	f := newV5Fixture(t, 1)
	for _, body := range []string{"a", "b", "c"} {
		f.prod.mustSend(f.prod.newMsg(f.topic, body))
	}
	mq := &v2.MessageQueue{Topic: f.cons.res(f.topic), Id: 0}
	query := func(p v2.QueryOffsetPolicy, ts *timestamppb.Timestamp) int64 {
		t.Helper()
		resp, err := f.cons.api.QueryOffset(f.cons.ctx(5*time.Second), &v2.QueryOffsetRequest{MessageQueue: mq, QueryOffsetPolicy: p, Timestamp: ts})
		if err != nil || resp.GetStatus().GetCode() != v2.Code_OK {
			t.Fatalf("query offset %v: %v %v", p, resp, err)
		}
		return resp.GetOffset()
	}
	if b, e := query(v2.QueryOffsetPolicy_BEGINNING, nil), query(v2.QueryOffsetPolicy_END, nil); b != 0 || e != 3 {
		t.Fatalf("beginning %d end %d", b, e)
	}
	if off := query(v2.QueryOffsetPolicy_TIMESTAMP, timestamppb.New(f.clk.Now().Add(time.Hour))); off != 2 && off != 3 {
		t.Fatalf("offset by a later time: %d", off)
	}
	r := f.cons.pull(f.group, f.topic, 0, 0, 2, 0)
	if r.status.GetCode() != v2.Code_OK || len(r.msgs) != 2 || r.next != 2 || string(r.msgs[1].GetBody()) != "b" {
		t.Fatalf("pull: %+v", r)
	}
	r = f.cons.pull(f.group, f.topic, 0, 3, 2, 0)
	if r.status.GetCode() != v2.Code_MESSAGE_NOT_FOUND || r.next != 3 {
		t.Fatalf("pull at the end: %+v", r)
	}
	r = f.cons.pull(f.group, f.topic, 0, 9, 2, 0)
	if r.status.GetCode() != v2.Code_ILLEGAL_OFFSET || r.next != 3 {
		t.Fatalf("pull past the end: %+v", r)
	}
	// A pull at the end waits for the next message.
	got := make(chan pullResult, 1)
	go func() { got <- f.cons.pull(f.group, f.topic, 0, 3, 2, 2*time.Second) }()
	waitFor(t, 5*time.Second, "the pull to wait", func() bool { return f.b.PopWaiting(f.topic) })
	f.prod.mustSend(f.prod.newMsg(f.topic, "d"))
	if r = <-got; r.status.GetCode() != v2.Code_OK || len(r.msgs) != 1 || string(r.msgs[0].GetBody()) != "d" {
		t.Fatalf("long-polling pull: %+v", r)
	}

	get := func() *v2.GetOffsetResponse {
		resp, err := f.cons.api.GetOffset(f.cons.ctx(5*time.Second), &v2.GetOffsetRequest{Group: f.cons.res(f.group), MessageQueue: mq})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := get(); resp.GetStatus().GetCode() != v2.Code_OK || resp.GetOffset() != 0 {
		t.Fatalf("offset of a new group on a young queue: %v", resp)
	}
	up, err := f.cons.api.UpdateOffset(f.cons.ctx(5*time.Second), &v2.UpdateOffsetRequest{Group: f.cons.res(f.group), MessageQueue: mq, Offset: 2})
	if err != nil || up.GetStatus().GetCode() != v2.Code_OK {
		t.Fatalf("update offset: %v %v", up, err)
	}
	if resp := get(); resp.GetOffset() != 2 {
		t.Fatalf("offset after the update: %v", resp)
	}
	if off, ok := f.b.ConsumerOffset(f.group, f.topic, 0); !ok || off != 2 {
		t.Fatalf("the remoting side's offset table: %d %t", off, ok)
	}
	bad, _ := f.cons.api.UpdateOffset(f.cons.ctx(5*time.Second), &v2.UpdateOffsetRequest{Group: f.cons.res(f.group), MessageQueue: mq, Offset: -1})
	wantCode(t, "negative offset", bad.GetStatus(), v2.Code_ILLEGAL_OFFSET)
	other := &v2.MessageQueue{Topic: f.cons.res(f.topic), Id: 7}
	badq, _ := f.cons.api.GetOffset(f.cons.ctx(5*time.Second), &v2.GetOffsetRequest{Group: f.cons.res(f.group), MessageQueue: other})
	wantCode(t, "queue out of range", badq.GetStatus(), v2.Code_BAD_REQUEST)
}
