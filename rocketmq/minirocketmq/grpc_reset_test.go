package minirocketmq_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestGRPCReplayAfterOffsetChange: a group consuming over gRPC is replayed
// when its offsets are moved back from outside the pop engine, by each way
// a user has: Broker.ResetOffsetByTime (what 222 does), the gRPC
// UpdateOffset, and UPDATE_CONSUMER_OFFSET (15: what mqadmin
// resetOffsetByTime and minirocketmq reset-offset fall back to when the
// group has no remoting member). The messages consumed before are
// delivered again from the first attempt; the handle of a message still in
// flight at the change has expired and its ack moves no offset.
func TestGRPCReplayAfterOffsetChange(t *testing.T) {
	const n, queues = 6, 2
	for _, tc := range []struct {
		name  string
		reset func(t *testing.T, f *v5fixture)
	}{
		{"ResetOffsetByTime", func(t *testing.T, f *v5fixture) {
			offsets, err := f.b.ResetOffsetByTime(f.group, f.topic, f.clk.Now().Add(-time.Hour), true)
			if err != nil && !errors.Is(err, minirocketmq.ErrGroupNotOnline) {
				t.Fatal(err)
			}
			if offsets[0] != 0 || offsets[1] != 0 {
				t.Fatalf("reset to %v, want every queue at 0", offsets)
			}
		}},
		{"UpdateOffset", func(t *testing.T, f *v5fixture) {
			for q := range int32(queues) {
				resp, err := f.cons.api.UpdateOffset(f.cons.ctx(5*time.Second), &v2.UpdateOffsetRequest{
					Group: f.cons.res(f.group), MessageQueue: &v2.MessageQueue{Topic: f.cons.res(f.topic), Id: q}, Offset: 0,
				})
				if err != nil {
					t.Fatal(err)
				}
				wantCode(t, "update offset", resp.GetStatus(), v2.Code_OK)
			}
		}},
		{"UPDATE_CONSUMER_OFFSET", func(t *testing.T, f *v5fixture) {
			conn := dial(t, f.b.BrokerAddr())
			for q := range queues {
				resp := invoke(t, conn, remoting.NewRequest(remoting.UpdateConsumerOffset,
					"consumerGroup", f.group, "topic", f.topic, "queueId", fmt.Sprint(q), "commitOffset", "0"))
				if resp.Code != remoting.Success {
					t.Fatalf("update consumer offset: %d %s", resp.Code, resp.Remark)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newV5Fixture(t, queues)
			var want []string
			for i := range n {
				want = append(want, fmt.Sprint("m", i))
				f.prod.mustSend(f.prod.newMsg(f.topic, want[i]))
			}
			first := f.cons.receiveN(f.group, f.topic, n)
			wantCode(t, "ack", f.cons.ack(f.group, f.topic, first[:n-1]...).GetStatus(), v2.Code_OK)
			stale := first[n-1] // still in flight at the reset

			tc.reset(t, f)
			offsets := func() []int64 {
				out := make([]int64, queues)
				for q := range out {
					out[q], _ = f.b.ConsumerOffset(f.group, f.topic, q)
				}
				return out
			}
			if got := offsets(); !slices.Equal(got, []int64{0, 0}) {
				t.Fatalf("offsets after the reset: %v, want [0 0]", got)
			}
			wantCode(t, "ack with a handle from before the reset", f.cons.ack(f.group, f.topic, stale).GetStatus(), v2.Code_INVALID_RECEIPT_HANDLE)
			if got := offsets(); !slices.Equal(got, []int64{0, 0}) {
				t.Fatalf("offsets after the stale ack: %v, want [0 0]", got)
			}

			again := f.cons.receiveN(f.group, f.topic, n)
			got := bodiesOf(again)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("redelivered %v, want %v", got, want)
			}
			for _, m := range again {
				if a := m.GetSystemProperties().GetDeliveryAttempt(); a != 1 {
					t.Fatalf("%s redelivered with attempt %d, want 1", m.GetBody(), a)
				}
			}
			wantCode(t, "ack of the redeliveries", f.cons.ack(f.group, f.topic, again...).GetStatus(), v2.Code_OK)
			if got := offsets(); got[0]+got[1] != n {
				t.Fatalf("offsets after acking the redeliveries: %v, want them to add up to %d", got, n)
			}
			f.clk.Advance(time.Minute)
			if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 0 {
				t.Fatalf("after the replay: %v", bodiesOf(msgs))
			}
		})
	}
}
