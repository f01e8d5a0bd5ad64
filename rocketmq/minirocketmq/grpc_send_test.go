package minirocketmq_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestGRPCSendValidation: every refusal of a send names the proxy's code,
// and nothing is stored.
func TestGRPCSendValidation(t *testing.T) {
	b := startV5(t, minirocketmq.WithMaxMessageSize(1024))
	c := dialV5(t, b)
	topic, other := rmqtest.Name(t, "T"), rmqtest.Name(t, "U")
	for _, tp := range []string{topic, other} {
		if err := b.CreateTopic(tp, 1); err != nil {
			t.Fatal(err)
		}
	}
	str := func(s string) *string { return &s }
	cases := []struct {
		name string
		msgs func() []*v2.Message
		want v2.Code
		text string
	}{
		{"no message", func() []*v2.Message { return nil }, v2.Code_MESSAGE_CORRUPTED, "no message to send"},
		{"two topics", func() []*v2.Message { return []*v2.Message{c.newMsg(topic, "a"), c.newMsg(other, "b")} }, v2.Code_MESSAGE_CORRUPTED, "topic in message is not same"},
		{"unknown topic", func() []*v2.Message { return []*v2.Message{c.newMsg(rmqtest.Name(t, "nope"), "a")} }, v2.Code_TOPIC_NOT_FOUND, "No topic route info"},
		{"system topic", func() []*v2.Message { return []*v2.Message{c.newMsg(minirocketmq.TraceTopic, "a")} }, v2.Code_ILLEGAL_TOPIC, "cannot access system topic"},
		{"empty body", func() []*v2.Message { return []*v2.Message{c.newMsg(topic, "")} }, v2.Code_MESSAGE_BODY_EMPTY, "message body cannot be empty"},
		{"body too large", func() []*v2.Message { return []*v2.Message{c.newMsg(topic, strings.Repeat("x", 1025))} }, v2.Code_MESSAGE_BODY_TOO_LARGE, "message body cannot exceed the max 1024"},
		{"gzip too large", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "", func(m *v2.Message) {
				m.Body, m.SystemProperties.BodyEncoding = gzipBytes(t, strings.Repeat("x", 4096)), v2.Encoding_GZIP
			})}
		}, v2.Code_MESSAGE_BODY_TOO_LARGE, ""},
		{"not gzip", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "plain", func(m *v2.Message) { m.SystemProperties.BodyEncoding = v2.Encoding_GZIP })}
		}, v2.Code_MESSAGE_CORRUPTED, ""},
		{"wrong digest", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) {
				m.SystemProperties.BodyDigest = &v2.Digest{Type: v2.DigestType_MD5, Checksum: "00"}
			})}
		}, v2.Code_MESSAGE_CORRUPTED, ""},
		{"system property", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) { m.UserProperties = map[string]string{"UNIQ_KEY": "x"} })}
		}, v2.Code_ILLEGAL_MESSAGE_PROPERTY_KEY, "property is used by system: UNIQ_KEY"},
		{"control character", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) { m.UserProperties = map[string]string{"k": "a\x01b"} })}
		}, v2.Code_ILLEGAL_MESSAGE_PROPERTY_KEY, "the value of property cannot contain control character"},
		{"tag with |", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) { m.SystemProperties.Tag = str("a|b") })}
		}, v2.Code_ILLEGAL_MESSAGE_TAG, "tag cannot contain '|'"},
		{"blank key", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) { m.SystemProperties.Keys = []string{" "} })}
		}, v2.Code_ILLEGAL_MESSAGE_KEY, "key cannot be the char sequence of whitespace"},
		{"properties too large", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) { m.UserProperties = map[string]string{"k": strings.Repeat("v", 17000)} })}
		}, v2.Code_MESSAGE_PROPERTIES_TOO_LARGE, "the total size of user property is too large, max is 16384"},
		{"no message id", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) { m.SystemProperties.MessageId = "" })}
		}, v2.Code_ILLEGAL_MESSAGE_ID, "message id cannot be empty"},
		{"message group too long", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) { m.SystemProperties.MessageGroup = str(strings.Repeat("g", 64)) })}
		}, v2.Code_ILLEGAL_MESSAGE_GROUP, "message group exceed the max size 64"},
		{"FIFO message to a NORMAL topic", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) { m.SystemProperties.MessageGroup = str("g") })}
		}, v2.Code_MESSAGE_PROPERTY_CONFLICT_WITH_TYPE, "TopicMessageType validate failed, the expected type is NORMAL, but actual type is FIFO"},
		{"transaction recovery too long", func() []*v2.Message {
			return []*v2.Message{c.newMsg(topic, "a", func(m *v2.Message) {
				m.SystemProperties.MessageType = v2.MessageType_TRANSACTION
				m.SystemProperties.OrphanedTransactionRecoveryDuration = durationpb.New(2 * time.Hour)
			})}
		}, v2.Code_BAD_REQUEST, "the max transaction recovery time of message is too large, max is 3600"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.send(tc.msgs()...)
			wantCode(t, "send", resp.GetStatus(), tc.want)
			if !strings.Contains(resp.GetStatus().GetMessage(), tc.text) {
				t.Fatalf("message %q, want it to contain %q", resp.GetStatus().GetMessage(), tc.text)
			}
		})
	}
	if ms, _ := b.Messages(topic, 0); len(ms) != 0 {
		t.Fatalf("%d messages stored by refused sends", len(ms))
	}
}

// TestGRPCSendStoredForm: a gRPC message is stored as remoting consumers
// and tools expect it: UNIQ_KEY, TAGS, KEYS, CLUSTER, the producer group
// (the topic), born host; a message group picks its queue by hash, the
// same one every time.
func TestGRPCSendStoredForm(t *testing.T) {
	b := startV5(t, minirocketmq.WithGRPCMessageTypeCheck(false))
	c := dialV5(t, b)
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 8); err != nil {
		t.Fatal(err)
	}
	tag, group := "t1", "order-42"
	var queue int32 = -1
	for i := 0; i < 3; i++ {
		m := c.newMsg(topic, "body", func(m *v2.Message) {
			m.SystemProperties.Tag = &tag
			m.SystemProperties.Keys = []string{"a", "b"}
			m.SystemProperties.MessageGroup = &group
		})
		c.mustSend(m)
	}
	for q := 0; q < 8; q++ {
		ms, _ := b.Messages(topic, q)
		if len(ms) == 0 {
			continue
		}
		if queue >= 0 || len(ms) != 3 {
			t.Fatalf("messages of one group spread over queues (queue %d has %d)", q, len(ms))
		}
		queue = int32(q)
		p := message.ParseProperties(ms[0].Properties)
		if p["TAGS"] != tag || p["KEYS"] != "a b" || p["__SHARDINGKEY"] != group || p["PGROUP"] != topic ||
			p["CLUSTER"] != minirocketmq.DefaultClusterName || p["__BORNHOST"] != "test-host" || p["UNIQ_KEY"] == "" {
			t.Fatalf("stored properties %v", p)
		}
	}
	if queue < 0 {
		t.Fatal("nothing stored")
	}
}
