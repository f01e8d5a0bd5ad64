package minirocketmq_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// The HTTP endpoint's tests speak the Aliyun MQ HTTP API with a small
// client of their own that sends what aliyunmq/mq-http-go-sdk sends (its
// headers, its signature, its XML); the driver in broker/rocketmq is
// tested against the endpoint separately. A real RocketMQ has no HTTP API,
// so these tests skip themselves when ROCKETMQ_NAMESRV points at one.

// startHTTP starts an embedded broker that also serves the HTTP API on a
// free port.
func startHTTP(t testing.TB, opts ...minirocketmq.Option) *minirocketmq.Broker {
	t.Helper()
	if rmqtest.External() != "" {
		t.Skip("the HTTP endpoint is the embedded broker's (RocketMQ has none)")
	}
	return minirocketmq.RunT(t, append([]minirocketmq.Option{minirocketmq.WithHTTPAddr("127.0.0.1:0")}, opts...)...)
}

// httpClient is one client of the HTTP API.
type httpClient struct {
	t      testing.TB
	base   string
	ns     string
	ak, sk string
	now    func() time.Time // the Date sent
}

func newHTTPClient(t testing.TB, b *minirocketmq.Broker) *httpClient {
	return &httpClient{t: t, base: "http://" + b.HTTPAddr(), now: time.Now}
}

// httpResp is an answer.
type httpResp struct {
	status int
	body   []byte
	header http.Header
}

// code returns the error code of an <Error> body ("" for other bodies).
func (r httpResp) code() string {
	var e struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
	}
	if xml.Unmarshal(r.body, &e) != nil {
		return ""
	}
	return e.Code
}

// query builds a query string in the given key order (as the SDK writes
// it): "k1", "v1", "k2", "v2", ...
func query(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[i] + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

// do sends one request as the SDK does: Content-MD5 of the body, Date,
// x-mq-version, Content-Type and, with credentials, the signature over
// the request URI as sent. mods change the request after signing.
func (c *httpClient) do(method, topic, rawQuery string, body []byte, mods ...func(*http.Request)) httpResp {
	c.t.Helper()
	uri := "/topics/" + url.PathEscape(topic) + "/messages"
	if c.ns != "" {
		if rawQuery != "" {
			rawQuery += "&"
		}
		rawQuery += "ns=" + url.QueryEscape(c.ns)
	}
	if rawQuery != "" {
		uri += "?" + rawQuery
	}
	req, err := http.NewRequest(method, c.base+uri, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	sum := md5.Sum(body)
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(sum[:]))))
	req.Header.Set("Content-Type", "text/xml;charset=utf-8")
	req.Header.Set("x-mq-version", "2015-06-06")
	req.Header.Set("Date", c.now().UTC().Format(http.TimeFormat))
	if c.ak != "" {
		req.Header.Set("Authorization", acl.SignHTTP(c.ak, c.sk, stringToSign(req, uri)))
	}
	for _, m := range mods {
		m(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, uri, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return httpResp{status: resp.StatusCode, body: out, header: resp.Header}
}

// stringToSign is the SDK's (credential.go), written out again here.
func stringToSign(req *http.Request, uri string) string {
	var mq []string
	for k, v := range req.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-mq-") {
			mq = append(mq, lk+":"+strings.TrimSpace(v[0]))
		}
	}
	sort.Strings(mq)
	return req.Method + "\n" + req.Header.Get("Content-MD5") + "\n" + req.Header.Get("Content-Type") + "\n" +
		req.Header.Get("Date") + "\n" + strings.Join(mq, "\n") + "\n" + uri
}

// pubMsg is a message to publish.
type pubMsg struct {
	XMLName    xml.Name `xml:"Message"`
	Body       string   `xml:"MessageBody"`
	Tag        string   `xml:"MessageTag,omitempty"`
	Properties string   `xml:"Properties,omitempty"`
}

// pubResult is a publish's answer.
type pubResult struct {
	MessageID      string `xml:"MessageId"`
	MessageBodyMD5 string `xml:"MessageBodyMD5"`
	ReceiptHandle  string `xml:"ReceiptHandle"`
}

func (c *httpClient) publishRaw(topic string, m pubMsg) httpResp {
	c.t.Helper()
	body, err := xml.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(http.MethodPost, topic, "", body)
}

// publish publishes m and fails the test unless it is accepted.
func (c *httpClient) publish(topic string, m pubMsg) pubResult {
	c.t.Helper()
	r := c.publishRaw(topic, m)
	if r.status != http.StatusCreated {
		c.t.Fatalf("publish to %s: %d %s", topic, r.status, r.body)
	}
	var res pubResult
	if err := xml.Unmarshal(r.body, &res); err != nil || res.MessageID == "" {
		c.t.Fatalf("publish answer %s: %v", r.body, err)
	}
	return res
}

// gotMsg is a consumed message.
type gotMsg struct {
	MessageID        string `xml:"MessageId"`
	ReceiptHandle    string `xml:"ReceiptHandle"`
	MessageBodyMD5   string `xml:"MessageBodyMD5"`
	MessageBody      string `xml:"MessageBody"`
	PublishTime      int64  `xml:"PublishTime"`
	FirstConsumeTime int64  `xml:"FirstConsumeTime"`
	NextConsumeTime  int64  `xml:"NextConsumeTime"`
	ConsumedTimes    int    `xml:"ConsumedTimes"`
	MessageTag       string `xml:"MessageTag"`
	Properties       string `xml:"Properties"`
}

// props splits Properties as the SDK does (ConstructRecMessage).
func (m gotMsg) props() map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(m.Properties, "|") {
		if k, v, ok := strings.Cut(kv, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// consume asks for messages; extra are more query pairs.
func (c *httpClient) consume(topic, group string, extra ...string) httpResp {
	c.t.Helper()
	return c.do(http.MethodGet, topic, query(append([]string{"consumer", group}, extra...)...), nil)
}

// messages decodes a consume's answer: nil for MessageNotExist, the test
// fails on anything else.
func (c *httpClient) messages(r httpResp) []gotMsg {
	c.t.Helper()
	if r.status == http.StatusNotFound && r.code() == "MessageNotExist" {
		return nil
	}
	if r.status != http.StatusOK {
		c.t.Fatalf("consume: %d %s", r.status, r.body)
	}
	var ms struct {
		XMLName  xml.Name `xml:"Messages"`
		Messages []gotMsg `xml:"Message"`
	}
	if err := xml.Unmarshal(r.body, &ms); err != nil {
		c.t.Fatalf("consume answer %s: %v", r.body, err)
	}
	return ms.Messages
}

// ack sends handles to DELETE with trans ("" for an ack).
func (c *httpClient) ack(topic, group, trans string, handles ...string) httpResp {
	c.t.Helper()
	body, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"ReceiptHandles"`
		Handles []string `xml:"ReceiptHandle"`
	}{Handles: handles})
	if err != nil {
		c.t.Fatal(err)
	}
	q := []string{"consumer", group}
	if trans != "" {
		q = append(q, "trans", trans)
	}
	return c.do(http.MethodDelete, topic, query(q...), body)
}

// ackErrors decodes the <Errors> of an ack.
func ackErrors(t testing.TB, r httpResp) map[string]string {
	t.Helper()
	var es struct {
		XMLName xml.Name `xml:"Errors"`
		Errors  []struct {
			Code   string `xml:"ErrorCode"`
			Handle string `xml:"ReceiptHandle"`
		} `xml:"Error"`
	}
	if err := xml.Unmarshal(r.body, &es); err != nil {
		t.Fatalf("ack answer %d %s: %v", r.status, r.body, err)
	}
	out := map[string]string{}
	for _, e := range es.Errors {
		out[e.Handle] = e.Code
	}
	return out
}
