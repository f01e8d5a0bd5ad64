package minirocketmq_test

import (
	"strings"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestGRPCSendBatchDecompressedLimit: a batch of GZIP bodies, each under
// the message limit once decompressed, is refused with
// MESSAGE_BODY_TOO_LARGE when they hold more than the request could carry
// (the frame size) in all, and nothing of it is stored; a batch under the
// limit is stored.
func TestGRPCSendBatchDecompressedLimit(t *testing.T) {
	const frame, msgMax, body = 1 << 20, 512 << 10, 400 << 10
	b := startV5(t, minirocketmq.WithMaxFrameSize(frame), minirocketmq.WithMaxMessageSize(msgMax))
	c := dialV5(t, b)
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	bomb := gzipBytes(t, strings.Repeat("x", body)) // ~400 bytes on the wire
	batch := func(n int) []*v2.Message {
		msgs := make([]*v2.Message, n)
		for i := range msgs {
			msgs[i] = c.newMsg(topic, "", func(m *v2.Message) {
				m.Body, m.SystemProperties.BodyEncoding = bomb, v2.Encoding_GZIP
			})
		}
		return msgs
	}
	resp := c.send(batch(3)...) // 1.2 MiB decompressed > 1 MiB
	wantCode(t, "a batch over the limit", resp.GetStatus(), v2.Code_MESSAGE_BODY_TOO_LARGE)
	if msg := resp.GetStatus().GetMessage(); !strings.Contains(msg, "in all") {
		t.Fatalf("status message %q does not name the batch limit", msg)
	}
	if ms, _ := b.Messages(topic, 0); len(ms) != 0 {
		t.Fatalf("%d message(s) of a refused batch stored", len(ms))
	}
	resp = c.send(batch(2)...) // 800 KiB
	wantCode(t, "a batch under the limit", resp.GetStatus(), v2.Code_OK)
	ms, _ := b.Messages(topic, 0)
	if len(ms) != 2 || len(ms[0].Body) != body {
		t.Fatalf("stored %d message(s)", len(ms))
	}
}
