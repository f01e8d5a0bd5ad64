package minirocketmq_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// TestRetentionBoundsTheStore: with a size limit, the broker's store (in
// memory, or a data directory) stays under it while messages keep coming,
// what was removed cannot be read any more, and neither a pending transaction's
// half message nor a delayed message not yet delivered is lost: the
// transaction commits with its body after the flood, and the delayed
// message arrives when its time comes. Broker.Stats().Store shows it all.
func TestRetentionBoundsTheStore(t *testing.T) {
	skipExternal(t)
	const seg, limit = 64 << 10, 256 << 10
	for _, tc := range []struct {
		name string
		opts func(t *testing.T) []minirocketmq.Option
	}{
		{"memory", func(*testing.T) []minirocketmq.Option { return nil }},
		{"data directory", func(t *testing.T) []minirocketmq.Option {
			return []minirocketmq.Option{minirocketmq.WithDataDir(t.TempDir())}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := minirocketmq.NewManualClock(time.Now())
			b := runBroker(t, append(tc.opts(t), minirocketmq.WithClock(clk), minirocketmq.WithSegmentSize(seg),
				minirocketmq.WithRetention(0, limit), minirocketmq.WithDelayLevels(time.Hour),
				minirocketmq.WithTransactionCheckInterval(time.Hour))...)
			if err := b.CreateTopic("FloodT", 1); err != nil {
				t.Fatal(err)
			}
			conn := dial(t, b.BrokerAddr())
			half := message.AppendProperty(nil, message.PropertyTransactionPrepared, "true")
			half = message.AppendProperty(half, message.PropertyProducerGroup, "FloodPG")
			req := remoting.NewRequest(remoting.SendMessage,
				"producerGroup", "FloodPG", "topic", "FloodT", "defaultTopic", "TBW102", "defaultTopicQueueNums", "4",
				"queueId", "0", "sysFlag", "4", "bornTimestamp", "0", "flag", "0", "properties", string(half))
			req.Body = []byte("the pending one")
			sent := invoke(t, conn, req)
			_, halfOff, err := message.ParseOffsetMsgID(sent.Get("msgId"))
			if sent.Code != remoting.Success || err != nil {
				t.Fatalf("half message: %d %s %v", sent.Code, sent.Remark, err)
			}
			sendV1(t, conn, "FloodT", "the delayed one", string(message.AppendProperty(nil, message.PropertyDelayTimeLevel, "1")), 0)
			due := strconv.FormatInt(clk.Now().Add(time.Hour).UnixMilli(), 10)
			sendV1(t, conn, "FloodT", "the timed one", string(message.AppendProperty(nil, "TIMER_DELIVER_MS", due)), 0)

			body := strings.Repeat("x", 1000)
			retainer := b.Store().(store.Retainer)
			for i := range 2000 { // ~2 MB, eight times the limit
				sendV1(t, conn, "FloodT", body, "", 0)
				if i%200 == 199 {
					if err := retainer.Retain(); err != nil { // the data directory's runs every 10 s
						t.Fatal(err)
					}
				}
			}
			if err := retainer.Retain(); err != nil {
				t.Fatal(err)
			}
			st := b.Stats().Store
			t.Logf("store after 2 MB: %+v", st)
			if st.Bytes > limit+2*seg+st.KeptBytes {
				t.Fatalf("the store holds %d bytes, limit %d", st.Bytes, limit)
			}
			left, err := b.Messages("FloodT", 0)
			if err != nil {
				t.Fatal(err)
			}
			if st.RemovedSegments == 0 || len(left) > 1000 {
				t.Fatalf("nothing removed: %+v, %d messages readable", st, len(left))
			}
			if b.PendingTransactions() != 1 {
				t.Fatalf("%d pending transactions", b.PendingTransactions())
			}
			end := remoting.NewRequest(remoting.EndTransaction, "producerGroup", "FloodPG",
				"tranStateTableOffset", sent.Get("queueOffset"), "commitLogOffset", fmt.Sprint(halfOff), "commitOrRollback", "8",
				"fromTransactionCheck", "false", "msgId", "m")
			if r := invoke(t, conn, end); r.Code != remoting.Success {
				t.Fatalf("commit after the flood: %d %s", r.Code, r.Remark)
			}
			before := b.MaxOffset("FloodT", 0)
			clk.Advance(time.Hour + time.Second)
			waitFor(t, 10*time.Second, "the delayed and the timed message", func() bool { return b.MaxOffset("FloodT", 0) == before+2 })
			msgs, err := b.Messages("FloodT", 0)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, m := range msgs[len(msgs)-3:] {
				got[string(m.Body)] = true
			}
			if !got["the pending one"] || !got["the delayed one"] || !got["the timed one"] {
				t.Fatalf("the last three messages are %v, want the committed, the delayed and the timed one", got)
			}
		})
	}
}

// TestRetentionDefaults: a broker without WithRetention bounds its
// in-memory store at 512 MiB and 48 h; a data directory keeps 72 h.
func TestRetentionDefaults(t *testing.T) {
	skipExternal(t)
	st := runBroker(t).Stats().Store
	if st.MaxBytes != minirocketmq.DefaultMemoryRetentionBytes || st.MaxAge != minirocketmq.DefaultMemoryRetentionAge {
		t.Fatalf("memory store policy %v / %d bytes", st.MaxAge, st.MaxBytes)
	}
	st = runBroker(t, minirocketmq.WithDataDir(t.TempDir())).Stats().Store
	if st.MaxBytes != 0 || st.MaxAge != minirocketmq.DefaultDiskRetentionAge {
		t.Fatalf("data directory policy %v / %d bytes", st.MaxAge, st.MaxBytes)
	}
}
