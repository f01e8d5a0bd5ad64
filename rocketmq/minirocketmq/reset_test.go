package minirocketmq_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// TestResetOffsetNotifiesMembers: a reset (INVOKE_BROKER_TO_RESET_OFFSET,
// 222, and Broker.ResetOffsetByTime) commits the new offsets for the group
// and pushes RESET_CONSUMER_CLIENT_OFFSET (220) with the same offset table to
// every live member: here a member speaking raw frames, so what the broker
// sends is read as it is, without a client's own handling in the way
// (TestResetOffsetByTimeNoRace replays through the Go client).
func TestResetOffsetNotifiesMembers(t *testing.T) {
	skipExternal(t)
	b := runBroker(t)
	const topic, group = "ResetT", "ResetG"
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	pushes := make(chan *remoting.Command, 4)
	member, err := remoting.Dial(ctxT(t, 5*time.Second), b.BrokerAddr(), func(_ *remoting.Conn, req *remoting.Command) error {
		if req.Code == remoting.ResetConsumerClientOffset {
			pushes <- req
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = member.Close() })
	heartbeatConsumer(t, member, "raw@reset", group)

	conn := dial(t, b.BrokerAddr())
	for i := range 6 {
		sendV1(t, conn, topic, fmt.Sprint("m", i), "", 0)
	}
	commit := remoting.NewRequest(remoting.UpdateConsumerOffset, "consumerGroup", group, "topic", topic, "queueId", "0", "commitOffset", "6")
	if resp := invoke(t, conn, commit); resp.Code != remoting.Success {
		t.Fatalf("commit: %d %s", resp.Code, resp.Remark)
	}
	offsetIn := regexp.MustCompile(`"queueId":0,"topic":"` + topic + `"\}:(\d+)`)
	read := func(what string) int64 {
		t.Helper()
		select {
		case push := <-pushes:
			if push.Get("topic") != topic || push.Get("group") != group {
				t.Fatalf("%s: pushed for %s/%s", what, push.Get("topic"), push.Get("group"))
			}
			m := offsetIn.FindSubmatch(push.Body)
			if m == nil {
				t.Fatalf("%s: pushed offset table %s", what, push.Body)
			}
			var off int64
			if err := json.Unmarshal(m[1], &off); err != nil {
				t.Fatal(err)
			}
			return off
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no RESET_CONSUMER_CLIENT_OFFSET pushed to the member", what)
		}
		return 0
	}

	// 222 to the beginning (timestamp 0): offset 0 committed and pushed.
	resp := invoke(t, conn, remoting.NewRequest(remoting.InvokeBrokerToResetOffset, "topic", topic, "group", group, "timestamp", "0", "isForce", "true"))
	if resp.Code != remoting.Success {
		t.Fatalf("222: %d %s", resp.Code, resp.Remark)
	}
	if got := read("222"); got != 0 {
		t.Errorf("222 pushed offset %d, want 0", got)
	}
	if off, _ := b.ConsumerOffset(group, topic, 0); off != 0 {
		t.Errorf("222 committed offset %d, want 0", off)
	}

	// The Go API to a time after everything: the end of the queue.
	offsets, err := b.ResetOffsetByTime(group, topic, time.Now().Add(time.Minute), true)
	if err != nil || offsets[0] != 6 {
		t.Fatalf("ResetOffsetByTime = %v, %v; want queue 0 at 6", offsets, err)
	}
	if got := read("ResetOffsetByTime"); got != 6 {
		t.Errorf("ResetOffsetByTime pushed offset %d, want 6", got)
	}
	if off, _ := b.ConsumerOffset(group, topic, 0); off != 6 {
		t.Errorf("ResetOffsetByTime committed offset %d, want 6", off)
	}
}
