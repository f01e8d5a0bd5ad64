// Package mqhttp is a client of the HTTP API of Aliyun's Message Queue for Apache
// RocketMQ (4.x instances): publish, consume with long polling, orderly consume, ack,
// and a transactional producer's half-message consume, commit and rollback, with the
// API's signature. It is written from the API's public description (the wire format of
// aliyunmq/mq-http-go-sdk), on net/http and encoding/xml; the driver DriverTypeAliyun
// in the parent package builds the broker.Broker semantics on it.
//
//	c, err := mqhttp.New(mqhttp.Config{Endpoint: "http://1234.mqrest.cn-hangzhou.aliyuncs.com",
//		AccessKey: ak, SecretKey: sk, InstanceID: "MQ_INST_1234_abcd"})
//	res, err := c.Publish(ctx, "orders", &mqhttp.PublishRequest{Body: "{...}", Tag: "created"})
//	msgs, err := c.Consume(ctx, "orders", &mqhttp.ConsumeRequest{Group: "GID_billing", Max: 16, Wait: 30 * time.Second})
//	err = c.Ack(ctx, "orders", "GID_billing", "", msgs[0].ReceiptHandle)
//
// A Client is safe for concurrent use; it holds no state but its configuration and its
// http.Client's connections (CloseIdleConnections releases them).
package mqhttp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the x-mq-version every request carries.
const APIVersion = "2015-06-06"

// Trans values of the API.
const (
	TransOrder    = "order"    // Consume: orderly
	TransHalf     = "pop"      // Consume: a transactional producer's half messages
	TransCommit   = "commit"   // Ack: commit half messages
	TransRollback = "rollback" // Ack: roll half messages back
)

// Limits of the API.
const (
	MaxBatch = 16               // messages per consume, handles per ack
	MaxWait  = 30 * time.Second // a consume's long poll
)

// maxResponseBody bounds what a response body may hold: 16 messages of the largest
// size, base64-encoded and XML-escaped.
const maxResponseBody = MaxBatch * (4 << 20) * 2

// Config configures a Client.
type Config struct {
	// Endpoint is the instance's HTTP endpoint ("http://host[:port]" or https).
	Endpoint string
	// AccessKey, SecretKey sign requests (none: unsigned requests, which only an
	// endpoint without access control accepts); SecurityToken is sent as
	// security-token (STS), unsigned, as the SDK does.
	AccessKey, SecretKey, SecurityToken string
	// InstanceID is the instance the topics and groups belong to (query "ns").
	InstanceID string
	// TLS configures https endpoints (nil: the system's roots).
	TLS *tls.Config
	// MaxConns bounds the connections to the endpoint (0: 64).
	MaxConns int
	// Now is the clock of the Date header (nil: time.Now).
	Now func() time.Time
}

// Client speaks the HTTP API.
type Client struct {
	cfg  Config
	base *url.URL
	hc   *http.Client
	tr   *http.Transport
}

// New checks cfg and returns a Client; it does not dial.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", cfg.Endpoint, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("endpoint %q: want http://host[:port] or https://host[:port]", cfg.Endpoint)
	}
	if cfg.TLS != nil && u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint %q: a TLS configuration needs an https endpoint", cfg.Endpoint)
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return nil, errors.New("credentials: the access key and the secret key go together")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	conns := cfg.MaxConns
	if conns <= 0 {
		conns = 64
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       cfg.TLS,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		MaxConnsPerHost:       conns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: MaxWait + 30*time.Second,
	}
	u.Path = ""
	return &Client{cfg: cfg, base: u, hc: &http.Client{Transport: tr}, tr: tr}, nil
}

// Endpoint returns the endpoint.
func (c *Client) Endpoint() string { return c.base.String() }

// CloseIdleConnections closes the connections no request uses.
func (c *Client) CloseIdleConnections() { c.tr.CloseIdleConnections() }

// Error is an answer of the API other than success: its status and the <Error> body.
type Error struct {
	Op        string // what was being done, e.g. "publish to orders"
	Status    int
	Code      string // e.g. "SignatureDoesNotMatch", "TopicNotExist"
	Message   string
	RequestID string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d): %s [request %s]", e.Op, e.Code, e.Status, e.Message, e.RequestID)
}

// IsCode reports whether err is an *Error with code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// AckError lists the handles an ack, commit or rollback failed for; the others were done.
type AckError struct {
	Op        string
	RequestID string
	Failed    []AckFailure
}

// AckFailure is one failed handle.
type AckFailure struct {
	Code, Message, Handle string
}

func (e *AckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d handle(s) failed [request %s]", e.Op, len(e.Failed), e.RequestID)
	for i, f := range e.Failed {
		if i == 3 {
			b.WriteString("; ...")
			break
		}
		fmt.Fprintf(&b, "; %s: %s", f.Code, f.Message)
	}
	return b.String()
}

// request sends one request and returns the response body of a 2xx answer.
func (c *Client) request(ctx context.Context, op, method, topic string, query []string, body []byte) ([]byte, *http.Response, error) {
	if c.cfg.InstanceID != "" {
		query = append(query, "ns", c.cfg.InstanceID)
	}
	uri := "/topics/" + url.PathEscape(topic) + "/messages"
	if len(query) > 0 {
		var q strings.Builder
		for i := 0; i+1 < len(query); i += 2 {
			if i > 0 {
				q.WriteByte('&')
			}
			q.WriteString(query[i] + "=" + url.QueryEscape(query[i+1]))
		}
		uri += "?" + q.String()
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+uri, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	sum := md5.Sum(body)
	h := req.Header
	h.Set("Content-MD5", base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(sum[:]))))
	h.Set("Content-Type", "text/xml;charset=utf-8")
	h.Set("x-mq-version", APIVersion)
	h.Set("Date", c.cfg.Now().UTC().Format(http.TimeFormat))
	if c.cfg.AccessKey != "" {
		h.Set("Authorization", "MQ "+c.cfg.AccessKey+":"+Sign(c.cfg.SecretKey, StringToSign(req, uri)))
	}
	if c.cfg.SecurityToken != "" {
		h.Set("security-token", c.cfg.SecurityToken)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read answer: %w", op, err)
	}
	if len(out) > maxResponseBody {
		return nil, nil, fmt.Errorf("%s: answer larger than %d bytes", op, maxResponseBody)
	}
	if resp.StatusCode/100 == 2 {
		return out, resp, nil
	}
	return out, resp, c.answerError(op, resp, out)
}

// answerError decodes an error answer: <Error>, or <Errors> of an ack.
func (c *Client) answerError(op string, resp *http.Response, body []byte) error {
	reqID := resp.Header.Get("x-mq-request-id")
	var es xmlAckErrors
	if xml.Unmarshal(body, &es) == nil && len(es.Errors) > 0 {
		ae := &AckError{Op: op, RequestID: reqID}
		for _, e := range es.Errors {
			ae.Failed = append(ae.Failed, AckFailure{Code: e.ErrorCode, Message: e.ErrorMessage, Handle: e.ReceiptHandle})
		}
		return ae
	}
	var e xmlError
	if err := xml.Unmarshal(body, &e); err != nil || e.Code == "" {
		text := strings.ToValidUTF8(string(body[:min(len(body), 200)]), "?")
		return &Error{Op: op, Status: resp.StatusCode, Code: http.StatusText(resp.StatusCode), Message: "unexpected answer: " + text, RequestID: reqID}
	}
	if e.RequestID != "" {
		reqID = e.RequestID
	}
	return &Error{Op: op, Status: resp.StatusCode, Code: e.Code, Message: e.Message, RequestID: reqID}
}

// StringToSign is what a request's signature covers (the API's signature scheme):
// method, Content-MD5, Content-Type, Date, the x-mq-* headers (lower-case name:value,
// sorted, one a line) and the resource, the request URI as sent.
func StringToSign(req *http.Request, requestURI string) string {
	var mq []string
	for k, vs := range req.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-mq-") && len(vs) > 0 {
			mq = append(mq, lk+":"+strings.TrimSpace(vs[0]))
		}
	}
	sort.Strings(mq)
	return req.Method + "\n" + req.Header.Get("Content-MD5") + "\n" + req.Header.Get("Content-Type") + "\n" +
		req.Header.Get("Date") + "\n" + strings.Join(mq, "\n") + "\n" + requestURI
}

// Sign returns the base64 HMAC-SHA1 of stringToSign with secretKey.
func Sign(secretKey, stringToSign string) string {
	mac := hmac.New(sha1.New, []byte(secretKey))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// PublishRequest is one message to publish.
type PublishRequest struct {
	// Body is the message body: text the XML can carry (see EncodeBody).
	Body string
	// Tag is the message tag ("" for none).
	Tag string
	// Properties are the message properties, the API's own included (PropKeys,
	// PropShardingKey, PropStartDeliverTime, PropTransCheck).
	Properties map[string]string
}

// PublishResult is the answer to a publish.
type PublishResult struct {
	MessageID, BodyMD5 string
	// ReceiptHandle commits or rolls back a transactional message.
	ReceiptHandle string
}

// Publish publishes one message to topic.
func (c *Client) Publish(ctx context.Context, topic string, m *PublishRequest) (*PublishResult, error) {
	op := "publish to " + topic
	props, err := EncodeProperties(m.Properties)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if !XMLText(m.Body) || !XMLText(m.Tag) {
		return nil, fmt.Errorf("%s: body or tag is not text XML can carry", op)
	}
	body, err := xml.Marshal(&xmlPublish{Body: m.Body, Tag: m.Tag, Properties: props})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, _, err := c.request(ctx, op, http.MethodPost, topic, nil, body)
	if err != nil {
		return nil, err
	}
	var r xmlPublishResult
	if err := xml.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("%s: decode answer: %w", op, err)
	}
	return &PublishResult{MessageID: r.MessageID, BodyMD5: r.MessageBodyMD5, ReceiptHandle: r.ReceiptHandle}, nil
}

// ConsumeRequest asks for messages.
type ConsumeRequest struct {
	// Group is the consumer group (the transactional producer's group for TransHalf).
	Group string
	// Tag filters on tags ("" or "*": all; "a||b").
	Tag string
	// Max is the most messages wanted (1..MaxBatch; 0: MaxBatch).
	Max int
	// Wait is how long the service may hold the request for a message (whole seconds
	// up to MaxWait; 0: answer at once).
	Wait time.Duration
	// Trans is "" (plain), TransOrder or TransHalf.
	Trans string
}

// Message is a consumed message.
type Message struct {
	ID, ReceiptHandle, BodyMD5 string
	// Body is the body as the XML carried it (see DecodeBody).
	Body                                           string
	PublishTime, FirstConsumeTime, NextConsumeTime time.Time
	// ConsumedTimes is 1 on the first delivery.
	ConsumedTimes int
	Tag           string
	// Properties are the message's properties (KEYS, __SHARDINGKEY and the other API
	// properties included).
	Properties map[string]string
}

// Consume asks for messages of topic; no message within the wait is nil, nil (the
// API's MessageNotExist).
func (c *Client) Consume(ctx context.Context, topic string, r *ConsumeRequest) ([]Message, error) {
	op := "consume " + topic + " as " + r.Group
	n := r.Max
	if n <= 0 || n > MaxBatch {
		n = MaxBatch
	}
	q := []string{"consumer", r.Group, "numOfMessages", strconv.Itoa(n)}
	if r.Trans != "" {
		q = append(q, "trans", r.Trans)
	}
	if secs := int(min(r.Wait, MaxWait) / time.Second); secs > 0 {
		q = append(q, "waitseconds", strconv.Itoa(secs))
	}
	if r.Tag != "" && r.Tag != "*" {
		q = append(q, "tag", r.Tag)
	}
	out, _, err := c.request(ctx, op, http.MethodGet, topic, q, nil)
	if IsCode(err, "MessageNotExist") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ms xmlMessages
	if err := xml.Unmarshal(out, &ms); err != nil {
		return nil, fmt.Errorf("%s: decode answer: %w", op, err)
	}
	msgs := make([]Message, 0, len(ms.Messages))
	for _, m := range ms.Messages {
		msgs = append(msgs, Message{
			ID: m.MessageID, ReceiptHandle: m.ReceiptHandle, BodyMD5: m.MessageBodyMD5, Body: m.MessageBody,
			PublishTime: time.UnixMilli(m.PublishTime), FirstConsumeTime: time.UnixMilli(m.FirstConsumeTime),
			NextConsumeTime: time.UnixMilli(m.NextConsumeTime), ConsumedTimes: m.ConsumedTimes, Tag: m.MessageTag,
			Properties: DecodeProperties(m.Properties),
		})
	}
	return msgs, nil
}

// Ack acknowledges handles of deliveries to group (trans ""), or commits or rolls back
// half messages (TransCommit, TransRollback). Failed handles are an *AckError.
func (c *Client) Ack(ctx context.Context, topic, group, trans string, handles ...string) error {
	op := "ack on " + topic + " as " + group
	if trans != "" {
		op = trans + " on " + topic
	}
	if len(handles) == 0 || len(handles) > MaxBatch {
		return fmt.Errorf("%s: %d handles, want 1..%d", op, len(handles), MaxBatch)
	}
	body, err := xml.Marshal(&xmlHandles{Handles: handles})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	q := []string{"consumer", group}
	if trans != "" {
		q = append(q, "trans", trans)
	}
	_, _, err = c.request(ctx, op, http.MethodDelete, topic, q, body)
	return err
}
