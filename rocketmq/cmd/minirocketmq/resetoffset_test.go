package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

func TestParseResetTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"now", -1, false},
		{"-30m", now.Add(-30 * time.Minute).UnixMilli(), false},
		{"1714564800000", 1714564800000, false},
		{"2024-05-01T10:00:00Z", time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).UnixMilli(), false},
		{"yesterday", 0, true},
		{"-x", 0, true},
	} {
		got, err := parseResetTime(tc.in, now)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("parseResetTime(%q) = %d, %v; want %d (error %t)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// TestResetOffsetSubcommand: "minirocketmq reset-offset" replays a group:
// with a member online the broker tells it (RESET_CONSUMER_CLIENT_OFFSET);
// with none, the subcommand sets the offsets itself.
func TestResetOffsetSubcommand(t *testing.T) {
	b := minirocketmq.RunT(t)
	if err := b.CreateTopic("ReplayT", 2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pushed := make(chan *remoting.Command, 4)
	conn, err := remoting.Dial(ctx, b.BrokerAddr(), func(_ *remoting.Conn, req *remoting.Command) error {
		if req.Code == remoting.ResetConsumerClientOffset {
			pushed <- req
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	call := func(req *remoting.Command) *remoting.Command {
		resp, err := conn.Invoke(ctx, req)
		if err != nil || (resp.Code != remoting.Success && req.Code != remoting.UpdateConsumerOffset) {
			t.Fatalf("request %d: %v %+v", req.Code, err, resp)
		}
		return resp
	}
	for i := range 6 {
		req := remoting.NewRequest(remoting.SendMessage, "producerGroup", "PG", "topic", "ReplayT", "defaultTopic", "TBW102",
			"defaultTopicQueueNums", "4", "queueId", fmt.Sprint(i%2), "sysFlag", "0", "bornTimestamp", "0", "flag", "0", "properties", "")
		req.Body = []byte("x")
		call(req)
	}
	for q := range 2 {
		call(remoting.NewRequest(remoting.UpdateConsumerOffset, "consumerGroup", "ReplayG", "topic", "ReplayT", "queueId", fmt.Sprint(q), "commitOffset", "3"))
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"reset-offset", "-n", b.Addr(), "-g", "ReplayG", "-t", "ReplayT", "-s", "0"}, &out); err != nil {
		t.Fatalf("offline reset: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "no member is connected") {
		t.Fatalf("offline reset said:\n%s", out.String())
	}
	for q := range 2 {
		if off, _ := b.ConsumerOffset("ReplayG", "ReplayT", q); off != 0 {
			t.Fatalf("queue %d at %d after an offline reset to 0", q, off)
		}
	}

	hb := remoting.NewRequest(remoting.HeartBeat)
	hb.Body = []byte(`{"clientID":"replay@1","consumerDataSet":[{"groupName":"ReplayG","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING",` +
		`"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[{"topic":"ReplayT","subString":"*","expressionType":"TAG","subVersion":1}]}]}`)
	call(hb)
	out.Reset()
	if err := run(ctx, []string{"reset-offset", "-n", b.Addr(), "-g", "ReplayG", "-t", "ReplayT", "-s", "now"}, &out); err != nil {
		t.Fatalf("online reset: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "the live members were told") || !strings.Contains(out.String(), "1        3") {
		t.Fatalf("online reset said:\n%s", out.String())
	}
	select {
	case req := <-pushed:
		if req.Get("group") != "ReplayG" || !strings.Contains(string(req.Body), `"queueId":1,"topic":"ReplayT"}:3`) {
			t.Fatalf("pushed %v %s", req.Ext, req.Body)
		}
	case <-ctx.Done():
		t.Fatal("the member was not told")
	}
	if err := run(ctx, []string{"reset-offset", "-n", b.Addr(), "-g", "ReplayG"}, &out); err == nil {
		t.Fatal("reset-offset without -t succeeded")
	}
}
