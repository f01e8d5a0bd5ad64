package minirocketmq_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestHTTPSignature: with WithACL every request needs the signature of a
// known account over what the SDK signs, and the permissions of
// plain_acl.yml apply; the Date must be within 15 minutes of the server's
// time whether ACL is on or not.
func TestHTTPSignature(t *testing.T) {
	readOnly := rmqtest.Name(t, "ReadOnly")
	v, err := acl.Parse([]byte(fmt.Sprintf(`
accounts:
  - accessKey: app-client
    secretKey: app-secret-1
    defaultTopicPerm: PUB|SUB
    defaultGroupPerm: SUB
    topicPerms:
      - %s=SUB
`, readOnly)))
	if err != nil {
		t.Fatal(err)
	}
	b := startHTTP(t, minirocketmq.WithACL(v))
	topic := rmqtest.Name(t, "T")
	for _, tp := range []string{topic, readOnly} {
		if err := b.CreateTopic(tp, 1); err != nil {
			t.Fatal(err)
		}
	}
	client := func(ak, sk string, skew time.Duration) *httpClient {
		c := newHTTPClient(t, b)
		c.ak, c.sk = ak, sk
		c.now = func() time.Time { return time.Now().Add(skew) }
		return c
	}
	good := client("app-client", "app-secret-1", 0)
	cases := []struct {
		name   string
		client *httpClient
		topic  string
		mod    func(*http.Request)
		status int
		code   string
	}{
		{"good", good, topic, nil, http.StatusCreated, ""},
		{"clock 14 minutes behind", client("app-client", "app-secret-1", -14*time.Minute), topic, nil, http.StatusCreated, ""},
		{"missing", client("", "", 0), topic, nil, http.StatusBadRequest, "MissingAuthorizationHeader"},
		{"malformed", good, topic, func(r *http.Request) { r.Header.Set("Authorization", "MQ app-client") }, http.StatusBadRequest, "InvalidAuthorizationHeader"},
		{"unknown access key", client("somebody", "whatever-1", 0), topic, nil, http.StatusForbidden, "InvalidAccessKeyId"},
		{"wrong secret", client("app-client", "wrong-secret", 0), topic, nil, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"changed after signing", good, topic, func(r *http.Request) { r.URL.RawQuery = "ns=other" }, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"header changed after signing", good, topic, func(r *http.Request) { r.Header.Set("x-mq-version", "2099-01-01") }, http.StatusForbidden, "SignatureDoesNotMatch"},
		{"no permission", good, readOnly, nil, http.StatusForbidden, "AccessDenied"},
		{"clock skew", client("app-client", "app-secret-1", 16*time.Minute), topic, nil, http.StatusRequestTimeout, "TimeExpired"},
		{"no date", good, topic, func(r *http.Request) { r.Header.Del("Date") }, http.StatusBadRequest, "MissingDateHeader"},
		{"bad date", good, topic, func(r *http.Request) { r.Header.Set("Date", "yesterday") }, http.StatusBadRequest, "InvalidDateHeader"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := xml.Marshal(pubMsg{Body: "signed " + tc.name})
			var mods []func(*http.Request)
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			r := tc.client.do(http.MethodPost, tc.topic, "", body, mods...)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("publish: %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if r.header.Get("x-mq-request-id") == "" {
				t.Errorf("no x-mq-request-id")
			}
		})
	}
	// Consuming needs SUB on the group (as %RETRY%<group>) and the topic.
	group := rmqtest.Name(t, "GID")
	if msgs := good.messages(good.consume(topic, group)); len(msgs) != 2 {
		t.Fatalf("signed consume: %d messages, want the 2 accepted", len(msgs))
	}
	if r := client("app-client", "wrong-secret", 0).consume(topic, group); r.code() != "SignatureDoesNotMatch" {
		t.Fatalf("consume with a wrong secret: %d %s", r.status, r.body)
	}
	// Without ACL nothing is signed, but the Date still counts.
	open := startHTTP(t)
	if err := open.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	anon := newHTTPClient(t, open)
	anon.publish(topic, pubMsg{Body: "unsigned"})
	anon.now = func() time.Time { return time.Now().Add(-20 * time.Minute) }
	if r := anon.publishRaw(topic, pubMsg{Body: "stale"}); r.code() != "TimeExpired" {
		t.Fatalf("stale Date without ACL: %d %s", r.status, r.body)
	}
}

// TestHTTPBadRequests: requests the API refuses get its error codes and
// change nothing.
func TestHTTPBadRequests(t *testing.T) {
	b := startHTTP(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	raw := func(method, path, rawQuery, body string) func() httpResp {
		return func() httpResp { return c.do(method, path, rawQuery, []byte(body)) }
	}
	pub := func(m pubMsg) func() httpResp { return func() httpResp { return c.publishRaw(topic, m) } }
	big := strings.Repeat("x", minirocketmq.DefaultMaxMessageSize+1)
	cases := []struct {
		name   string
		do     func() httpResp
		status int
		code   string
	}{
		{"unknown topic", func() httpResp { return c.publishRaw(rmqtest.Name(t, "Nope"), pubMsg{Body: "x"}) }, http.StatusNotFound, "TopicNotExist"},
		{"other method", raw(http.MethodPut, topic, "", ""), http.StatusBadRequest, "InvalidRequestURL"},
		{"other path", func() httpResp {
			return c.do(http.MethodGet, topic+"/extra", query("consumer", group), nil)
		}, http.StatusBadRequest, "InvalidRequestURL"},
		{"unknown query item", raw(http.MethodGet, topic, query("consumer", group, "colour", "red"), ""), http.StatusBadRequest, "InvalidQueryString"},
		{"repeated query item", raw(http.MethodGet, topic, query("consumer", group, "consumer", group), ""), http.StatusBadRequest, "InvalidQueryString"},
		{"no consumer", raw(http.MethodGet, topic, query("numOfMessages", "1"), ""), http.StatusBadRequest, "InvalidArgument"},
		{"bad consumer", raw(http.MethodGet, topic, query("consumer", "a b"), ""), http.StatusBadRequest, "InvalidArgument"},
		{"17 messages", raw(http.MethodGet, topic, query("consumer", group, "numOfMessages", "17"), ""), http.StatusBadRequest, "InvalidArgument"},
		{"wait 31 s", raw(http.MethodGet, topic, query("consumer", group, "waitseconds", "31"), ""), http.StatusBadRequest, "InvalidArgument"},
		{"bad trans", raw(http.MethodGet, topic, query("consumer", group, "trans", "all"), ""), http.StatusBadRequest, "InvalidArgument"},
		{"bad tag", raw(http.MethodGet, topic, query("consumer", group, "tag", "a||"), ""), 0, ""}, // tag expressions allow empty parts: not an error
		{"malformed XML", raw(http.MethodPost, topic, "", "<Message><MessageBody>x</Message>"), http.StatusBadRequest, "MalformedXML"},
		{"wrong root", raw(http.MethodPost, topic, "", "<Note><MessageBody>x</MessageBody></Note>"), http.StatusBadRequest, "MalformedXML"},
		{"no body element", raw(http.MethodPost, topic, "", "<Message><MessageTag>t</MessageTag></Message>"), http.StatusBadRequest, "InvalidArgument"},
		{"empty body", pub(pubMsg{Body: ""}), http.StatusBadRequest, "InvalidArgument"},
		{"body too large", pub(pubMsg{Body: big}), http.StatusBadRequest, "InvalidArgument"},
		{"system property", pub(pubMsg{Body: "x", Properties: "DELAY:3|"}), http.StatusBadRequest, "InvalidArgument"},
		{"property without value", pub(pubMsg{Body: "x", Properties: "lonely|"}), http.StatusBadRequest, "InvalidArgument"},
		{"tag with bar", pub(pubMsg{Body: "x", Tag: "a|b"}), http.StatusBadRequest, "InvalidArgument"},
		{"transaction check too soon", pub(pubMsg{Body: "x", Properties: "__TransCheckT:5|"}), http.StatusBadRequest, "InvalidArgument"},
		{"deliver time not a number", pub(pubMsg{Body: "x", Properties: "__STARTDELIVERTIME:soon|"}), http.StatusBadRequest, "InvalidArgument"},
		{"deliver time too far", pub(pubMsg{Body: "x", Properties: fmt.Sprintf("__STARTDELIVERTIME:%d|", time.Now().Add(41*24*time.Hour).UnixMilli())}), http.StatusBadRequest, "InvalidArgument"},
		{"bad base64", pub(pubMsg{Body: "%%%", Properties: "__BODYENCODING:base64|"}), http.StatusBadRequest, "InvalidArgument"},
		{"system topic", func() httpResp { return c.publishRaw("SCHEDULE_TOPIC_XXXX", pubMsg{Body: "x"}) }, http.StatusBadRequest, "InvalidArgument"},
		{"wrong digest", func() httpResp {
			body, _ := xml.Marshal(pubMsg{Body: "x"})
			return c.do(http.MethodPost, topic, "", body, func(r *http.Request) { r.Header.Set("Content-MD5", "bm90IGl0") })
		}, http.StatusBadRequest, "InvalidDigest"},
		{"ack without handles", func() httpResp { return c.ack(topic, group, "") }, http.StatusBadRequest, "MissingReceiptHandle"},
		{"ack of 17", func() httpResp {
			return c.ack(topic, group, "", strings.Split(strings.Repeat("h,", 17), ",")[:17]...)
		}, http.StatusBadRequest, "InvalidArgument"},
		{"ack with bad trans", func() httpResp { return c.ack(topic, group, "maybe", "h") }, http.StatusBadRequest, "InvalidArgument"},
		{"commit of a non-transaction", func() httpResp { return c.ack(topic, group, "commit", "12 34") }, http.StatusNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do()
			if tc.status == 0 {
				if r.status >= 400 && r.code() != "MessageNotExist" {
					t.Fatalf("%d %s, want it accepted", r.status, r.body)
				}
				return
			}
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}
	if ms, _ := b.Messages(topic, 0); len(ms) != 0 {
		t.Fatalf("refused publishes stored %d messages", len(ms))
	}
}
