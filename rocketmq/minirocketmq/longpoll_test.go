package minirocketmq_test

import (
	"context"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestHeldPullAnsweredOnArrival: a pull that finds nothing is held for as
// long as it asks (20 s, what the Go client asks), and a message arriving
// on its queue answers it at once: well before the hold would end (the
// bound, half the hold, is generous on a loaded machine, and far from the
// hold itself, which is what a broker without the wake-up answers at). A
// message its tag filter rejects does not answer it; a matching one does.
// It runs against ROCKETMQ_NAMESRV too (long polling is the real broker's
// default).
func TestHeldPullAnsweredOnArrival(t *testing.T) {
	ns, b := rmqtest.Start(t)
	broker := brokerAddr(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	if b != nil {
		if err := b.CreateTopic(topic, 1); err != nil {
			t.Fatal(err)
		}
	} else {
		conn := dial(t, broker)
		invoke(t, conn, remoting.NewRequest(remoting.UpdateAndCreateTopic, "topic", topic, "readQueueNums", "1", "writeQueueNums", "1", "perm", "6", "topicFilterType", "SINGLE_TAG"))
	}
	const hold = 20 * time.Second
	send := func(tag string) {
		sendV1(t, dial(t, broker), topic, tag, string(message.AppendProperty(nil, message.PropertyTags, tag)), 0)
	}
	// sysFlag SUSPEND | SUBSCRIPTION: hold, with the header's tag filter.
	pull := func(offset int64, tags string) (<-chan *remoting.Command, time.Time) {
		req := pullRequest(group, topic, 0, offset, 2|4, int(hold.Milliseconds()))
		req.Set("subscription", tags)
		req.Set("subVersion", "0")
		answered := make(chan *remoting.Command, 1)
		conn := dial(t, broker)
		started := time.Now()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), hold+15*time.Second)
			defer cancel()
			resp, err := conn.Invoke(ctx, req)
			if err != nil {
				resp = remoting.NewResponse(req, -1, err.Error())
			}
			answered <- resp
		}()
		return answered, started
	}

	t.Run("any tag", func(t *testing.T) {
		answered, started := pull(0, "*")
		time.Sleep(300 * time.Millisecond) // the pull is parked by now
		send("TagA")
		select {
		case resp := <-answered:
			if resp.Code != remoting.Success || len(decodeRecords(t, resp.Body)) != 1 {
				t.Fatalf("answer: code %d %s", resp.Code, resp.Remark)
			}
			if took := time.Since(started); took >= hold/2 {
				t.Fatalf("answered after %v: the arrival did not wake the held pull (hold %v)", took, hold)
			}
		case <-time.After(hold / 2):
			t.Fatalf("not answered within %v of the message's arrival (hold %v)", hold/2, hold)
		}
	})
	t.Run("tag filter", func(t *testing.T) {
		answered, started := pull(1, "TagC")
		time.Sleep(300 * time.Millisecond)
		send("TagB") // filtered out: the pull stays held
		select {
		case resp := <-answered:
			t.Fatalf("answered by a message its filter rejects: code %d after %v", resp.Code, time.Since(started))
		case <-time.After(time.Second):
		}
		send("TagC")
		select {
		case resp := <-answered:
			recs := decodeRecords(t, resp.Body)
			if resp.Code != remoting.Success || len(recs) != 1 || string(recs[0].Body) != "TagC" {
				t.Fatalf("answer: code %d, %d records", resp.Code, len(recs))
			}
			if took := time.Since(started); took >= hold/2 {
				t.Fatalf("answered after %v (hold %v)", took, hold)
			}
		case <-time.After(hold / 2):
			t.Fatalf("not answered within %v of the matching message (hold %v)", hold/2, hold)
		}
	})
}
