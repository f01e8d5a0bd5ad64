package mqhttp

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestStringToSign: the signed string is the API's: method, Content-MD5,
// Content-Type, Date, the sorted lower-case x-mq-* headers and the resource; the
// signature is what the embedded broker's ACL (acl.SignHTTP) computes.
func TestStringToSign(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, "http://h/topics/T/messages?consumer=G&ns=I", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-MD5", "ZDQxZDhjZDk4ZjAwYjIwNGU5ODAwOTk4ZWNmODQyN2U=")
	req.Header.Set("Content-Type", "text/xml;charset=utf-8")
	req.Header.Set("Date", "Thu, 17 Mar 2022 08:00:00 GMT")
	req.Header.Set("X-MQ-Version", " 2015-06-06 ")
	req.Header.Set("x-mq-b", "2")
	req.Header.Set("Host", "ignored")
	got := StringToSign(req, "/topics/T/messages?consumer=G&ns=I")
	want := "GET\nZDQxZDhjZDk4ZjAwYjIwNGU5ODAwOTk4ZWNmODQyN2U=\ntext/xml;charset=utf-8\nThu, 17 Mar 2022 08:00:00 GMT\n" +
		"x-mq-b:2\nx-mq-version:2015-06-06\n/topics/T/messages?consumer=G&ns=I"
	if got != want {
		t.Fatalf("string to sign\n%q\nwant\n%q", got, want)
	}
	if "MQ ak:"+Sign("secret", got) != acl.SignHTTP("ak", "secret", got) {
		t.Fatal("signature differs from the server's")
	}
}

// TestProperties: properties round-trip through the API's format; what it cannot
// carry is an error naming the key.
func TestProperties(t *testing.T) {
	in := map[string]string{"KEYS": "a b", "__SHARDINGKEY": "g", "tenant": "acme"}
	s, err := EncodeProperties(in)
	if err != nil || s != "KEYS:a b|__SHARDINGKEY:g|tenant:acme|" {
		t.Fatalf("encode = %q, %v", s, err)
	}
	out := DecodeProperties(s)
	if len(out) != 3 || out["KEYS"] != "a b" || out["tenant"] != "acme" {
		t.Fatalf("decode = %v", out)
	}
	for _, bad := range []map[string]string{{"url": "http://x"}, {"a|b": "c"}, {"q": `say "hi"`}, {"": "v"}, {"nl": "a\nb"}} {
		if _, err := EncodeProperties(bad); err == nil {
			t.Errorf("encode %v succeeded", bad)
		}
	}
	if got := DecodeProperties("a:b:c|:x|y:|ok:1|"); len(got) != 1 || got["ok"] != "1" {
		t.Errorf("decode of malformed pairs = %v", got)
	}
	for _, body := range [][]byte{[]byte("text <&>"), {0, 1, 0xff}, []byte("\x7f ok"), []byte(string([]rune{0xFFFE}))} {
		text, enc := EncodeBody(body)
		m := &Message{Body: text, Properties: map[string]string{}}
		if enc {
			m.Properties[PropBodyEncoding] = "base64"
		}
		back, err := DecodeBody(m)
		if err != nil || !bytes.Equal(back, body) {
			t.Errorf("body %q: encoded %q (%v), back %q %v", body, text, enc, back, err)
		}
	}
}

// TestClientAgainstEndpoint: publish, consume, ack against the embedded endpoint;
// the API's errors come back as *Error and *AckError.
func TestClientAgainstEndpoint(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("the HTTP endpoint is the embedded broker's")
	}
	mb := minirocketmq.RunT(t, minirocketmq.WithHTTPAddr("127.0.0.1:0"))
	topic := rmqtest.Name(t, "T")
	if err := mb.CreateTopic("INST%"+topic, 2); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Endpoint: "http://" + mb.HTTPAddr(), InstanceID: "INST"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.Publish(ctx, topic, &PublishRequest{Body: "hello", Tag: "t1", Properties: map[string]string{PropKeys: "k"}})
	if err != nil || res.MessageID == "" {
		t.Fatalf("publish: %+v %v", res, err)
	}
	msgs, err := c.Consume(ctx, topic, &ConsumeRequest{Group: "GID_a", Max: 4, Wait: 2 * time.Second, Tag: "t1"})
	if err != nil || len(msgs) != 1 || msgs[0].ID != res.MessageID || msgs[0].Body != "hello" || msgs[0].Properties[PropKeys] != "k" || msgs[0].ConsumedTimes != 1 {
		t.Fatalf("consume: %+v %v", msgs, err)
	}
	if err := c.Ack(ctx, topic, "GID_a", "", msgs[0].ReceiptHandle); err != nil {
		t.Fatalf("ack: %v", err)
	}
	var ae *AckError
	if err := c.Ack(ctx, topic, "GID_a", "", msgs[0].ReceiptHandle); !errors.As(err, &ae) || len(ae.Failed) != 1 || ae.Failed[0].Code != "ReceiptHandleError" {
		t.Fatalf("second ack: %v", err)
	}
	if msgs, err := c.Consume(ctx, topic, &ConsumeRequest{Group: "GID_a"}); err != nil || msgs != nil {
		t.Fatalf("empty consume: %v %v", msgs, err)
	}
	var e *Error
	if _, err := c.Consume(ctx, "NoSuchTopic", &ConsumeRequest{Group: "GID_a"}); !errors.As(err, &e) || e.Code != "TopicNotExist" || e.Status != http.StatusNotFound || e.RequestID == "" {
		t.Fatalf("consume of a missing topic: %v", err)
	}
	for _, cfg := range []Config{{Endpoint: "ftp://x"}, {Endpoint: "http://h/path"}, {Endpoint: "http://h", AccessKey: "ak"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// FuzzAnswers: whatever an endpoint answers, decoding it never panics and an error
// answer is an error.
func FuzzAnswers(f *testing.F) {
	f.Add(404, `<?xml version="1.0"?><Error><Code>MessageNotExist</Code><Message>m</Message></Error>`)
	f.Add(404, `<Errors><Error><ErrorCode>ReceiptHandleError</ErrorCode><ReceiptHandle>h</ReceiptHandle></Error></Errors>`)
	f.Add(200, `<Messages><Message><MessageId>1</MessageId><Properties>a:b|c</Properties></Message></Messages>`)
	f.Add(500, "<html>oops</html>")
	c, err := New(Config{Endpoint: "http://h"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		if status/100 != 2 {
			if err := c.answerError("op", resp, []byte(body)); err == nil || !strings.HasPrefix(err.Error(), "op") {
				t.Fatalf("answer %d %q: %v", status, body, err)
			}
			return
		}
		var ms xmlMessages
		if xml.Unmarshal([]byte(body), &ms) == nil {
			for _, m := range ms.Messages {
				_ = DecodeProperties(m.Properties)
			}
		}
	})
}
