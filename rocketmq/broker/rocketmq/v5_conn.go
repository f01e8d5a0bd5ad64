package rocketmq

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// DefaultProxyEndpoint is dialled by the v5 driver when no endpoint is configured: the
// RocketMQ 5 proxy's gRPC port on loopback.
const DefaultProxyEndpoint = "127.0.0.1:8081"

// Metadata of every RocketMQ 5 call (the proxy's GrpcConstants; the values the official
// Go SDK sends).
const (
	mdLanguage      = "x-mq-language"
	mdProtocol      = "x-mq-protocol"
	mdClientVersion = "x-mq-client-version"
	mdRequestID     = "x-mq-request-id"
	mdClientID      = "x-mq-client-id"
	mdNamespace     = "x-mq-namespace"
	mdDateTime      = "x-mq-date-time"
	mdAuthorization = "authorization"
	mdSessionToken  = "x-mq-session-token"

	// v5ClientVersion is the SDK version whose requests the driver mirrors; the proxy
	// picks some status codes by it (ILLEGAL_POLLING_TIME from 5.0.3 on).
	v5ClientVersion = "5.1.4"
	// v5DateTimeLayout is the signed x-mq-date-time (UTC).
	v5DateTimeLayout = "20060102T150405Z"
)

// v5DefaultRequestTimeout bounds a unary call (the SDKs' default request timeout).
const v5DefaultRequestTimeout = 3 * time.Second

// v5MaxRecvMsgSize bounds one response frame: a message of the proxy's 4 MiB body limit
// and its properties fit several times.
const v5MaxRecvMsgSize = 16 << 20

// v5Conn is the driver's gRPC connection to the proxies (one ClientConn, balanced
// round-robin over the configured endpoints) and what every call carries.
type v5Conn struct {
	cc        *grpc.ClientConn
	api       v2.MessagingServiceClient
	endpoints *v2.Endpoints // the access point: every configured address
	namespace string
	signer    v5Signer
	timeout   time.Duration // unary request timeout
	reqSeq    atomic.Uint64
	reqPrefix string
}

// dialV5 opens the connection to addrs ("host:port" each). It does not wait for the
// connection: the first call does.
func dialV5(addrs []string, tlsCfg *tls.Config, useTLS bool, namespace string, signer v5Signer, timeout time.Duration) (*v5Conn, error) {
	ep, err := v5Endpoints(addrs)
	if err != nil {
		return nil, err
	}
	// The resolver serves this connection only (grpc.WithResolvers registers nothing
	// process-wide); it hands every endpoint to the round-robin balancer.
	r := manual.NewBuilderWithScheme("rmq5")
	state := resolver.State{}
	for _, a := range addrs {
		a = strings.TrimSpace(a)
		host, _, _ := net.SplitHostPort(a) // checked by v5Endpoints
		// ServerName: each proxy's certificate is checked against its own host.
		state.Addresses = append(state.Addresses, resolver.Address{Addr: a, ServerName: host})
	}
	r.InitialState(state)
	var creds credentials.TransportCredentials = insecure.NewCredentials()
	if useTLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if tlsCfg != nil {
			cfg = tlsCfg.Clone()
		}
		creds = credentials.NewTLS(cfg)
	}
	cc, err := grpc.NewClient(r.Scheme()+":///rocketmq-proxy",
		grpc.WithResolvers(r),
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(v5MaxRecvMsgSize)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}),
	)
	if err != nil {
		return nil, fmt.Errorf("rocketmq v5: dial %v: %w", addrs, err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	return &v5Conn{
		cc: cc, api: v2.NewMessagingServiceClient(cc), endpoints: ep, namespace: namespace,
		signer: signer, timeout: timeout, reqPrefix: hex.EncodeToString(rnd[:]) + "-",
	}, nil
}

// v5Endpoints describes addrs as the protocol's Endpoints (sent as the access point in
// settings and route queries).
func v5Endpoints(addrs []string) (*v2.Endpoints, error) {
	ep := &v2.Endpoints{Scheme: v2.AddressScheme_IPv4}
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(strings.TrimSpace(a))
		if err != nil {
			return nil, fmt.Errorf("rocketmq v5: proxy endpoint %q: want host:port: %w", a, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("rocketmq v5: proxy endpoint %q: bad port", a)
		}
		switch ip, err := netip.ParseAddr(host); {
		case err != nil:
			ep.Scheme = v2.AddressScheme_DOMAIN_NAME
		case ip.Is6() && !ip.Is4In6() && ep.Scheme == v2.AddressScheme_IPv4 && len(ep.Addresses) == 0:
			ep.Scheme = v2.AddressScheme_IPv6
		}
		ep.Addresses = append(ep.Addresses, &v2.Address{Host: host, Port: int32(p)})
	}
	if len(ep.Addresses) == 0 {
		return nil, errors.New("rocketmq v5: no proxy endpoint")
	}
	return ep, nil
}

func (c *v5Conn) close() error { return c.cc.Close() }

// outgoing returns ctx with the metadata of a call made by client clientID.
func (c *v5Conn) outgoing(ctx context.Context, clientID string) context.Context {
	now := time.Now().UTC().Format(v5DateTimeLayout)
	kv := make([]string, 0, 18)
	kv = append(kv,
		mdLanguage, "GO", mdProtocol, "v2", mdClientVersion, v5ClientVersion,
		mdRequestID, c.reqPrefix+strconv.FormatUint(c.reqSeq.Add(1), 10),
		mdClientID, clientID, mdDateTime, now)
	if c.namespace != "" {
		kv = append(kv, mdNamespace, c.namespace)
	}
	kv = c.signer.appendTo(kv, now)
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// call returns the context of one unary call: ctx's deadline or the request timeout,
// whichever is first, and the call's metadata.
func (c *v5Conn) call(ctx context.Context, clientID string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	return c.outgoing(ctx, clientID), cancel
}

// resource names a topic or group in the connection's namespace.
func (c *v5Conn) resource(name string) *v2.Resource {
	return &v2.Resource{ResourceNamespace: c.namespace, Name: name}
}

// v5Signer builds the RocketMQ 5 signature metadata of a call: "authorization" is
// "MQv2-HMAC-SHA1 Credential=<accessKey>//Rocketmq, SignedHeaders=x-mq-date-time,
// Signature=<hex HMAC-SHA1 of x-mq-date-time with the secret key>", what the SDKs send
// and the proxy checks. The zero value signs nothing.
type v5Signer struct {
	accessKey, secretKey, securityToken string
}

// authorization returns the header value for dateTime.
func (s v5Signer) authorization(dateTime string) string {
	mac := hmac.New(sha1.New, []byte(s.secretKey))
	mac.Write([]byte(dateTime))
	return "MQv2-HMAC-SHA1 Credential=" + s.accessKey + "//Rocketmq, SignedHeaders=" + mdDateTime +
		", Signature=" + hex.EncodeToString(mac.Sum(nil))
}

func (s v5Signer) appendTo(kv []string, dateTime string) []string {
	if s.accessKey == "" {
		return kv
	}
	kv = append(kv, mdAuthorization, s.authorization(dateTime))
	if s.securityToken != "" {
		kv = append(kv, mdSessionToken, s.securityToken)
	}
	return kv
}

// StatusError is a RocketMQ 5 proxy's refusal: the status code and message of a
// response (the proxy answers errors in the response, not as gRPC errors). Op says what
// the driver was doing.
type StatusError struct {
	Op      string
	Code    v2.Code
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: %s (%d): %s", e.Op, e.Code, int32(e.Code), e.Message)
}

// statusErr returns nil for an OK status, else a *StatusError.
func statusErr(op string, st *v2.Status) error {
	if st.GetCode() == v2.Code_OK {
		return nil
	}
	if st == nil {
		return &StatusError{Op: op, Code: v2.Code_CODE_UNSPECIFIED, Message: "the response has no status"}
	}
	return &StatusError{Op: op, Code: st.GetCode(), Message: st.GetMessage()}
}

// hasCode reports whether err is a *StatusError with code.
func hasCode(err error, code v2.Code) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}
