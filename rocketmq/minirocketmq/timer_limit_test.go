package minirocketmq_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestTimerMaxDelayRemoting: a remoting send of a timed message due more
// than WithTimerMaxDelay ahead (default 3 days, timerMaxDelaySec) is
// refused with MESSAGE_ILLEGAL and the real broker's remark, and nothing
// is parked; one due exactly at the limit is parked.
func TestTimerMaxDelayRemoting(t *testing.T) {
	skipExternal(t) // 4.9.4 ignores these properties
	clk := minirocketmq.NewManualClock(time.Now())
	maxMS := minirocketmq.DefaultTimerMaxDelay.Milliseconds()
	cases := []struct {
		name  string
		opts  []minirocketmq.Option
		props func() string
		ok    bool
		max   int64
	}{
		{"TIMER_DELAY_SEC 2^32-1", nil, func() string { return "TIMER_DELAY_SEC\x01" + strconv.Itoa(1<<32-1) }, false, maxMS},
		{"TIMER_DELAY_SEC a second over", nil, func() string { return "TIMER_DELAY_SEC\x01" + strconv.FormatInt(maxMS/1000+1, 10) }, false, maxMS},
		{"TIMER_DELAY_MS a ms over", nil, func() string { return "TIMER_DELAY_MS\x01" + strconv.FormatInt(maxMS+1, 10) }, false, maxMS},
		{"TIMER_DELIVER_MS in a year", nil, func() string {
			return "TIMER_DELIVER_MS\x01" + strconv.FormatInt(clk.Now().AddDate(1, 0, 0).UnixMilli(), 10)
		}, false, maxMS},
		{"TIMER_DELAY_SEC at the limit", nil, func() string { return "TIMER_DELAY_SEC\x01" + strconv.FormatInt(maxMS/1000, 10) }, true, maxMS},
		{"TIMER_DELIVER_MS at the limit", nil, func() string {
			return "TIMER_DELIVER_MS\x01" + strconv.FormatInt(clk.Now().UnixMilli()+maxMS, 10)
		}, true, maxMS},
		{"WithTimerMaxDelay(1h), an hour and a second", []minirocketmq.Option{minirocketmq.WithTimerMaxDelay(time.Hour)},
			func() string { return "TIMER_DELAY_SEC\x013601" }, false, time.Hour.Milliseconds()},
		{"WithTimerMaxDelay(1h), an hour", []minirocketmq.Option{minirocketmq.WithTimerMaxDelay(time.Hour)},
			func() string { return "TIMER_DELAY_SEC\x013600" }, true, time.Hour.Milliseconds()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := minirocketmq.RunT(t, append([]minirocketmq.Option{minirocketmq.WithClock(clk)}, tc.opts...)...)
			topic := rmqtest.Name(t, "T")
			if err := b.CreateTopic(topic, 1); err != nil {
				t.Fatal(err)
			}
			conn := dial(t, b.BrokerAddr())
			req := remoting.NewRequest(remoting.SendMessage,
				"producerGroup", "RawPG", "topic", topic, "defaultTopic", "TBW102", "defaultTopicQueueNums", "4",
				"queueId", "0", "sysFlag", "0", "bornTimestamp", fmt.Sprint(time.Now().UnixMilli()), "flag", "0",
				"properties", tc.props()+"\x02UNIQ_KEY\x01AB\x02")
			req.Body = []byte("later")
			resp := invoke(t, conn, req)
			parked, _ := b.Messages(minirocketmq.TimerTopic, 0)
			if tc.ok {
				if resp.Code != remoting.Success || len(parked) != 1 {
					t.Fatalf("send: code %d %q, %d parked; want it parked", resp.Code, resp.Remark, len(parked))
				}
				return
			}
			want := fmt.Sprintf("timer message illegal, the delay time should not be bigger than the max delay %dms", tc.max)
			if resp.Code != remoting.MessageIllegal || !strings.HasPrefix(resp.Remark, want) {
				t.Fatalf("send: code %d %q, want %d %q...", resp.Code, resp.Remark, remoting.MessageIllegal, want)
			}
			if len(parked) != 0 {
				t.Fatalf("%d message(s) parked after the refusal", len(parked))
			}
			if ms, _ := b.Messages(topic, 0); len(ms) != 0 {
				t.Fatalf("%d message(s) stored after the refusal", len(ms))
			}
		})
	}
}

// TestTimerMaxDelayGRPC: a gRPC delivery timestamp keeps its own limit of
// a day, and WithTimerMaxDelay lowers it.
func TestTimerMaxDelayGRPC(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []minirocketmq.Option
		ahead time.Duration
		want  v2.Code
		max   time.Duration
	}{
		{"default, 23 h", nil, 23 * time.Hour, v2.Code_OK, 0},
		{"default, 25 h", nil, 25 * time.Hour, v2.Code_ILLEGAL_DELIVERY_TIME, minirocketmq.DefaultGRPCMaxDelay},
		{"WithTimerMaxDelay(1h), 59 min", []minirocketmq.Option{minirocketmq.WithTimerMaxDelay(time.Hour)}, 59 * time.Minute, v2.Code_OK, 0},
		{"WithTimerMaxDelay(1h), 2 h", []minirocketmq.Option{minirocketmq.WithTimerMaxDelay(time.Hour)}, 2 * time.Hour, v2.Code_ILLEGAL_DELIVERY_TIME, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startV5(t, tc.opts...)
			c := dialV5(t, b)
			topic := rmqtest.Name(t, "T")
			if err := b.CreateTopic(topic, 1); err != nil {
				t.Fatal(err)
			}
			if err := b.SetTopicMessageType(topic, minirocketmq.MessageTypeDelay); err != nil {
				t.Fatal(err)
			}
			resp := c.send(c.newMsg(topic, "later", func(m *v2.Message) {
				m.SystemProperties.MessageType = v2.MessageType_DELAY
				m.SystemProperties.DeliveryTimestamp = timestamppbNew(time.Now().Add(tc.ahead))
			}))
			wantCode(t, "send", resp.GetStatus(), tc.want)
			if tc.want == v2.Code_OK {
				return
			}
			if want := fmt.Sprintf("max is %d", tc.max.Milliseconds()); !strings.Contains(resp.GetStatus().GetMessage(), want) {
				t.Fatalf("status message %q, want %q", resp.GetStatus().GetMessage(), want)
			}
			if parked, _ := b.Messages(minirocketmq.TimerTopic, 0); len(parked) != 0 {
				t.Fatalf("%d message(s) parked after the refusal", len(parked))
			}
		})
	}
}

// TestWithTimerMaxDelayInvalid: a limit that is not positive is an error
// of New.
func TestWithTimerMaxDelayInvalid(t *testing.T) {
	if _, err := minirocketmq.New(minirocketmq.WithTimerMaxDelay(0)); err == nil || !strings.Contains(err.Error(), "WithTimerMaxDelay") {
		t.Fatalf("New(WithTimerMaxDelay(0)) = %v", err)
	}
}

// TestTimerMaxDelayHTTP: an HTTP __STARTDELIVERTIME keeps its own limit of
// 40 days, capped by WithTimerMaxDelay (3 days by default).
func TestTimerMaxDelayHTTP(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []minirocketmq.Option
		ahead  time.Duration
		status int
	}{
		{"default, 2 days", nil, 48 * time.Hour, http.StatusCreated},
		{"default, 4 days", nil, 96 * time.Hour, http.StatusBadRequest},
		{"WithTimerMaxDelay(40 days), 39 days", []minirocketmq.Option{minirocketmq.WithTimerMaxDelay(40 * 24 * time.Hour)}, 39 * 24 * time.Hour, http.StatusCreated},
		{"WithTimerMaxDelay(50 days), 41 days", []minirocketmq.Option{minirocketmq.WithTimerMaxDelay(50 * 24 * time.Hour)}, 41 * 24 * time.Hour, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startHTTP(t, tc.opts...)
			topic := rmqtest.Name(t, "T")
			if err := b.CreateTopic(topic, 1); err != nil {
				t.Fatal(err)
			}
			c := newHTTPClient(t, b)
			r := c.publishRaw(topic, pubMsg{Body: "later", Properties: fmt.Sprintf("__STARTDELIVERTIME:%d|", time.Now().Add(tc.ahead).UnixMilli())})
			if r.status != tc.status {
				t.Fatalf("publish: %d %s, want %d", r.status, r.body, tc.status)
			}
			parked, _ := b.Messages(minirocketmq.TimerTopic, 0)
			if want := map[bool]int{true: 1, false: 0}[tc.status == http.StatusCreated]; len(parked) != want {
				t.Fatalf("%d message(s) parked, want %d", len(parked), want)
			}
		})
	}
}
