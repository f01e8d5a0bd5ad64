package minirocketmq

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
)

// The Aliyun MQ HTTP endpoint: the HTTP API of Aliyun's Message Queue for
// Apache RocketMQ 4.x instances (public source: aliyunmq/mq-http-go-sdk)
// over the broker's own topics, groups and store, with consumption through
// the pop engine. One file per operation: http_publish.go (POST),
// http_consume.go (GET), http_ack.go (DELETE: ack, commit, rollback),
// http_transaction.go (half messages); the XML bodies, error codes and the
// properties string in http_xml.go; here the listener and every request's
// prologue. README.md lists what each operation honours.
//
// A request is METHOD /topics/<topic>/messages?<query> with the headers
// Date (RFC 1123, GMT; MissingDateHeader, InvalidDateHeader, and
// TimeExpired beyond 15 minutes of skew), x-mq-version, Content-Type,
// Content-MD5 (when present, base64 of the hex MD5 of the body as the SDK
// writes it, or of the raw MD5: InvalidDigest otherwise) and, with WithACL,
// Authorization "MQ <accessKey>:<base64 HMAC-SHA1>" over
//
//	METHOD \n Content-MD5 \n Content-Type \n Date \n x-mq-* headers
//	(lower-case name:value, sorted, one a line) \n request URI
//
// checked against the plain ACL accounts (MissingAuthorizationHeader,
// InvalidAuthorizationHeader, InvalidAccessKeyId, SignatureDoesNotMatch,
// AccessDenied). The instance id (query "ns") is the namespace:
// resources are "<ns>%<name>" as for the other protocols. Errors are the
// API's XML <Error> bodies with its codes; a handler's panic answers
// InternalError for that request only.
//
// Bounds: at most maxHTTPConns connections (further clients wait in the
// listen backlog), headers of 64 KiB, bodies of a publish six times the
// largest message (XML escaping) and of an ack 64 KiB, long polls of at
// most 30 s. The endpoint keeps no per-consumer state of its own: what it
// remembers lives in the pop engine (bounded per queue) and, for half
// messages, in a map with one entry per pending transaction.

// httpServer serves the HTTP API of a broker.
type httpServer struct {
	b      *Broker
	srv    *http.Server
	addr   string // bound, dialable
	base   context.Context
	cancel context.CancelFunc
	salt   [4]byte       // random per start: request and message ids
	reqSeq atomic.Uint64 // request ids
	msgSeq atomic.Uint32 // message ids
	turn   atomic.Uint32 // the queue of the next publish without a sharding key
	half   *halfChecks   // http_transaction.go
}

// Limits of the HTTP endpoint.
const (
	maxHTTPConns       = 10000
	maxHTTPHeaderBytes = 64 << 10
	maxHTTPAckBody     = 64 << 10
	httpReadTimeout    = 60 * time.Second
	httpStopTimeout    = 5 * time.Second
)

// listenHTTP opens the HTTP listener when WithHTTPAddr asks for one (nil
// otherwise); with WithTLS it serves HTTPS (both in permissive mode).
func (b *Broker) listenHTTP(ctx context.Context) (net.Listener, error) {
	if b.cfg.http.addr == "" {
		return nil, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", b.cfg.http.addr)
	if err != nil {
		return nil, fmt.Errorf("minirocketmq: listen HTTP on %s: %w", b.cfg.http.addr, err)
	}
	ln = &limitListener{Listener: ln, sem: make(chan struct{}, maxHTTPConns), done: make(chan struct{})}
	if cfg := b.cfg.security.tls; cfg != nil {
		ln = &tlsListener{Listener: ln, cfg: cfg, permissive: b.cfg.security.tlsMode == TLSPermissive}
	}
	return ln, nil
}

// startHTTP serves ln. Called by Start with b.mu held.
func (b *Broker) startHTTP(ln net.Listener) {
	if ln == nil {
		return
	}
	s := &httpServer{b: b, addr: dialable(ln.Addr()), half: newHalfChecks()}
	_, _ = rand.Read(s.salt[:])
	s.base, s.cancel = context.WithCancel(context.Background())
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: grpcHandshakeTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      DefaultHTTPMaxWait + httpReadTimeout,
		IdleTimeout:       b.cfg.channelExpiry,
		MaxHeaderBytes:    maxHTTPHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return s.base },
		ErrorLog:          nil,
	}
	b.http = s
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Logf(LogLevelError, "HTTP endpoint on %s stopped: %v", s.addr, err)
		}
	}()
	b.log.Logf(LogLevelInfo, "HTTP (Aliyun MQ) endpoint listening on %s", s.addr)
}

// stopHTTP ends the long polls, closes the listener and waits for the
// handlers. Called by Close before the pop engine closes.
func (b *Broker) stopHTTP() {
	b.mu.Lock()
	s := b.http
	b.mu.Unlock()
	if s == nil {
		return
	}
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), httpStopTimeout)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
}

// HTTPAddr returns the address the HTTP endpoint listens on
// ("127.0.0.1:port" for an unspecified host); empty without WithHTTPAddr
// or before Start. Clients use "http://" + HTTPAddr() as their endpoint.
func (b *Broker) HTTPAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.http == nil {
		return ""
	}
	return b.http.addr
}

// httpCall is one request being served.
type httpCall struct {
	s        *httpServer
	w        http.ResponseWriter
	r        *http.Request
	id       string
	remote   netip.AddrPort
	query    url.Values
	ns       string
	topic    string // broker-side name (validated)
	group    string // broker-side name of "consumer"; "" when the request has none
	trans    string
	answered bool
}

// Query parameters each method accepts (what the SDK sends).
var httpQueryKeys = map[string][]string{
	http.MethodPost:   {"ns"},
	http.MethodGet:    {"consumer", "tag", "numOfMessages", "waitseconds", "ns", "trans"},
	http.MethodDelete: {"consumer", "ns", "trans"},
}

// ServeHTTP serves one request.
func (s *httpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &httpCall{s: s, w: w, r: r, id: s.requestID()}
	defer func() {
		if p := recover(); p != nil {
			s.b.log.Logf(LogLevelError, "HTTP %s %s panicked: %v\n%s", r.Method, r.URL.Path, p, debug.Stack())
			if !c.answered {
				c.fail(errHTTPInternal, msgHTTPInternal)
			}
		}
	}()
	if !c.prologue() {
		return
	}
	switch r.Method {
	case http.MethodPost:
		s.publish(c)
	case http.MethodGet:
		s.consume(c)
	case http.MethodDelete:
		s.ack(c)
	}
}

// prologue checks everything but the body; false: answered already.
func (c *httpCall) prologue() bool {
	r := c.r
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	topic, ok := httpTopicOfPath(r.URL.Path)
	keys, known := httpQueryKeys[r.Method]
	if !ok || !known {
		c.fail(errHTTPInvalidRequestURL, msgHTTPInvalidRequestURL)
		return false
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		c.fail(errHTTPInvalidQueryString, "Http request URL contains invalid querystring.")
		return false
	}
	for k, v := range q {
		if !slices.Contains(keys, k) || len(v) != 1 {
			c.fail(errHTTPInvalidQueryString, fmt.Sprintf("Http request URL contains invalid querystring item %s.", quoteShort(k)))
			return false
		}
	}
	c.query, c.ns, c.trans = q, q.Get("ns"), q.Get("trans")
	if !c.checkDate() {
		return false
	}
	groupName := q.Get("consumer")
	if !c.checkACL(topic, groupName) {
		return false
	}
	if c.topic, ok = c.name(topic, "topic", false); !ok {
		return false
	}
	producer := c.trans == httpTransCommit || c.trans == httpTransRollback
	if r.Method != http.MethodPost && !(producer && groupName == "") {
		if strings.TrimSpace(groupName) == "" {
			c.fail(errHTTPInvalidArgument, "The consumer you provided is empty.")
			return false
		}
		if c.group, ok = c.name(groupName, "consumer", true); !ok {
			return false
		}
	}
	return true
}

// httpTopicOfPath returns the topic of "/topics/<topic>/messages".
func httpTopicOfPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/topics/")
	if !ok {
		return "", false
	}
	topic, ok := strings.CutSuffix(rest, "/messages")
	if !ok || topic == "" || strings.Contains(topic, "/") {
		return "", false
	}
	return topic, true
}

// checkDate checks the Date header against the real clock (clients sign
// with theirs, whatever the broker's Clock says).
func (c *httpCall) checkDate() bool {
	d := c.r.Header.Get("Date")
	if d == "" {
		c.fail(errHTTPMissingDateHeader, msgHTTPMissingDate)
		return false
	}
	t, err := http.ParseTime(d)
	if err != nil {
		c.fail(errHTTPInvalidDateHeader, msgHTTPInvalidDate)
		return false
	}
	if skew := time.Since(t); skew > DefaultHTTPMaxClockSkew || skew < -DefaultHTTPMaxClockSkew {
		c.fail(errHTTPTimeExpired, msgHTTPTimeExpired)
		return false
	}
	return true
}

// checkACL checks the signature and the permissions the request needs
// (names as the broker stores them): a publish PUB on the topic; a consume
// or ack SUB on the group and the topic; a transactional producer's
// half-message consume, commit and rollback PUB on the topic.
func (c *httpCall) checkACL(topic, group string) bool {
	v := c.s.b.cfg.security.acl
	if v == nil {
		return true
	}
	t := wrapNamespace(c.ns, topic)
	var res []acl.GRPCResource
	switch {
	case c.r.Method == http.MethodPost, c.trans == httpTransHalf, c.trans == httpTransCommit, c.trans == httpTransRollback:
		res = []acl.GRPCResource{{Name: t, Access: acl.AccessPub}}
	default:
		res = []acl.GRPCResource{
			{Name: wrapNamespace(c.ns, group), Group: true, Access: acl.AccessSub},
			{Name: t, Access: acl.AccessSub},
		}
	}
	cred := acl.HTTPCredentials{Authorization: c.r.Header.Get("Authorization"), StringToSign: httpStringToSign(c.r)}
	err := v.CheckHTTP(cred, c.remote.Addr(), res)
	if err == nil {
		return true
	}
	var d *acl.HTTPDenied
	if !errors.As(err, &d) {
		c.fail(errHTTPInternal, msgHTTPInternal)
		return false
	}
	c.s.b.log.Logf(LogLevelWarn, "ACL: HTTP %s %s from %s refused: %s", c.r.Method, c.r.URL.Path, c.remote, d.Remark)
	switch d.Reason {
	case acl.HTTPMissingAuthorization:
		c.fail(errHTTPMissingAuthHeader, msgHTTPMissingAuth)
	case acl.HTTPInvalidAuthorization:
		c.fail(errHTTPInvalidAuthHeader, msgHTTPInvalidAuth)
	case acl.HTTPUnknownAccessKey:
		c.fail(errHTTPInvalidAccessKeyID, msgHTTPInvalidAccessKey)
	case acl.HTTPBadSignature:
		c.fail(errHTTPSignature, msgHTTPSignature)
	default:
		c.fail(errHTTPAccessDenied, d.Remark)
	}
	return false
}

// httpStringToSign rebuilds what a client signed (the SDK's
// MQCredential.Signature): the resource is the request URI as sent.
func httpStringToSign(r *http.Request) string {
	var mq []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-mq-") && len(vs) > 0 {
			mq = append(mq, lk+":"+strings.TrimSpace(vs[0]))
		}
	}
	sort.Strings(mq)
	uri := r.RequestURI
	if !strings.HasPrefix(uri, "/") {
		uri = r.URL.RequestURI()
	}
	return r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" +
		r.Header.Get("Date") + "\n" + strings.Join(mq, "\n") + "\n" + uri
}

// name validates a topic or group of the request and returns its
// broker-side name (with the instance id's namespace).
func (c *httpCall) name(n, what string, group bool) (string, bool) {
	bad := func(why string) (string, bool) {
		c.fail(errHTTPInvalidArgument, fmt.Sprintf("The %s you provided is invalid: %s.", what, why))
		return "", false
	}
	switch {
	case strings.TrimSpace(n) == "":
		return bad("it is empty")
	case len(n) > maxTopicLength:
		return bad(fmt.Sprintf("longer than %d", maxTopicLength))
	case illegalChars(n):
		return bad("allowing only " + topicCharsRegex)
	case !group && isSystemTopic(n):
		return bad("a system topic")
	case group && strings.HasPrefix(n, sysGroupPrefix):
		return bad("a system group")
	case illegalChars(c.ns):
		return bad("the instance id allows only " + topicCharsRegex)
	}
	full := wrapNamespace(c.ns, n)
	if len(full) > maxTopicLength+len(c.ns)+1 {
		return bad("too long with the instance id")
	}
	return full, true
}

// readBody reads a body of at most limit bytes and checks Content-MD5.
func (c *httpCall) readBody(limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			c.fail(errHTTPInvalidArgument, fmt.Sprintf("The request body is larger than %d bytes.", limit))
		} else {
			c.fail(errHTTPInvalidArgument, "The request body could not be read.")
		}
		return nil, false
	}
	if !c.digestOK(body) {
		c.fail(errHTTPInvalidDigest, msgHTTPInvalidDigest)
		return nil, false
	}
	return body, true
}

// digestOK checks Content-MD5 when present: the SDK sends base64 of the
// hex digest; base64 of the raw digest (RFC 1864) is accepted too.
func (c *httpCall) digestOK(body []byte) bool {
	h := c.r.Header.Get("Content-MD5")
	if h == "" {
		return true
	}
	sum := md5.Sum(body)
	hexSum := hex.EncodeToString(sum[:])
	return h == base64.StdEncoding.EncodeToString([]byte(hexSum)) ||
		h == base64.StdEncoding.EncodeToString([]byte(strings.ToUpper(hexSum))) ||
		h == base64.StdEncoding.EncodeToString(sum[:])
}

// decodeXML reads body into v; false: answered (MalformedXML).
func (c *httpCall) decodeXML(body []byte, v any) bool {
	if err := xml.Unmarshal(body, v); err != nil {
		c.fail(errHTTPMalformedXML, msgHTTPMalformedXML)
		return false
	}
	return true
}

// fail answers an error.
func (c *httpCall) fail(e httpErrorCode, msg string) {
	if e.status >= 500 {
		c.s.b.log.Logf(LogLevelError, "HTTP %s %s: %s %s", c.r.Method, c.r.URL.Path, e.code, msg)
	} else {
		c.s.b.log.Logf(LogLevelDebug, "HTTP %s %s: %s %s", c.r.Method, c.r.URL.Path, e.code, msg)
	}
	c.reply(e.status, &httpErrorBody{XMLNS: httpNamespace, Code: e.code, Message: msg, RequestID: c.id, HostID: c.r.Host})
}

// reply answers status with v as XML (nil: no body).
func (c *httpCall) reply(status int, v any) {
	c.answered = true
	h := c.w.Header()
	h.Set("x-mq-request-id", c.id)
	h.Set("x-mq-version", httpAPIVersion)
	if v == nil {
		c.w.WriteHeader(status)
		return
	}
	out, err := xml.Marshal(v)
	if err != nil {
		c.s.b.log.Logf(LogLevelError, "HTTP %s %s: encode answer: %v", c.r.Method, c.r.URL.Path, err)
		status = http.StatusInternalServerError
		out, _ = xml.Marshal(&httpErrorBody{XMLNS: httpNamespace, Code: errHTTPInternal.code, Message: msgHTTPInternal, RequestID: c.id, HostID: c.r.Host})
	}
	h.Set("Content-Type", "text/xml;charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(out)))
	c.w.WriteHeader(status)
	_, _ = io.WriteString(c.w, xml.Header)
	_, _ = c.w.Write(out)
}

// requestID returns a new x-mq-request-id.
func (s *httpServer) requestID() string {
	return fmt.Sprintf("%X%016X", s.salt, s.reqSeq.Add(1))
}
