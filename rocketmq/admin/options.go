package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // RocketMQ's ACL signs with HMAC-SHA1
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"sort"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Option says how the admin calls reach the cluster: over TLS, with ACL credentials.
// Give every call the options the service's clients use, so that a cluster that
// requires TLS or checks signatures answers them too.
type Option func(*options)

type options struct {
	tls         *tls.Config
	credentials *credentials
	messageType string // EnsureTopics: WithMessageType
}

type credentials struct {
	accessKey, secretKey, securityToken string
}

func newOptions(opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithTLS dials every name server and broker with TLS, configured by cfg (nil: plain
// TCP). The broker reachability check of Probe completes a TLS handshake.
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg } }

// WithCredentials signs every request with the access key pair of RocketMQ's ACL
// (plain_acl.yml), as the Java client's AclClientRPCHook does; securityToken may be
// empty. An empty accessKey signs nothing. Creating and deleting topics needs an admin
// account on an ACL cluster; reading offsets needs only a valid signature.
func WithCredentials(accessKey, secretKey, securityToken string) Option {
	return func(o *options) {
		o.credentials = nil
		if accessKey != "" {
			o.credentials = &credentials{accessKey, secretKey, securityToken}
		}
	}
}

// dialNet opens the transport to addr: TCP, and the TLS handshake with WithTLS (the
// server name, unless configured, is addr's host).
func (o *options) dialNet(ctx context.Context, addr string) (net.Conn, error) {
	if o.tls == nil {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	d := tls.Dialer{Config: o.tls}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return nc, nil
}

// dial opens a remoting connection to addr and serves it in the background.
func (o *options) dial(ctx context.Context, addr string) (*remoting.Conn, error) {
	nc, err := o.dialNet(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := remoting.NewConn(nc, remoting.Config{})
	go func() { _ = c.Serve() }()
	return c, nil
}

// invoke signs req (WithCredentials) and sends it on conn.
func (o *options) invoke(ctx context.Context, conn *remoting.Conn, req *remoting.Command) (*remoting.Command, error) {
	if c := o.credentials; c != nil {
		sign(req, c)
	}
	return conn.Invoke(ctx, req)
}

// Header fields of RocketMQ's ACL (SessionCredentials).
const (
	fieldAccessKey     = "AccessKey"
	fieldSecurityToken = "SecurityToken"
	fieldSignature     = "Signature"
)

// sign adds the access key (and security token) to req and the signature over them and
// every other header field: HMAC-SHA1 with the secret key of the fields' values in the
// order of their names, then the body, base64 (AclUtils.calSignature of the Java
// client; the Go client leaves the token out of the signed text, which brokers accept
// too).
func sign(req *remoting.Command, c *credentials) {
	req.Set(fieldAccessKey, c.accessKey)
	if c.securityToken != "" {
		req.Set(fieldSecurityToken, c.securityToken)
	}
	fields := make([]remoting.Field, 0, len(req.Ext))
	for _, f := range req.Ext {
		if f.Key != fieldSignature {
			fields = append(fields, f)
		}
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Key < fields[j].Key })
	mac := hmac.New(sha1.New, []byte(c.secretKey))
	for _, f := range fields {
		mac.Write([]byte(f.Value))
	}
	mac.Write(req.Body)
	req.Set(fieldSignature, base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}
