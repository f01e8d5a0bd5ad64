package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"

	"github.com/go-kratos/kratos/v2/encoding"

	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
)

// FieldError is a setting that cannot work, named as a configuration file names it: the
// snake_case key below the client's section ("name_servers[1]", "tls", "topic").
type FieldError struct {
	Field, Problem string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Problem }

// namePattern is the topic and group name rule of RocketMQ 4.x (TopicValidator).
var namePattern = regexp.MustCompile(`^[%|a-zA-Z0-9_-]{1,127}$`)

// ValidName reports whether s is a name RocketMQ accepts for a topic or a group.
func ValidName(s string) bool { return namePattern.MatchString(s) }

// Validate reports every setting of s that cannot work (Open refuses them): a name
// server that is not host:port, name servers and a name server domain together, a
// domain that is not an http(s) URL, a namespace RocketMQ does not allow, a negative
// retry count or send timeout, an unknown codec or client log level, credentials or a
// client certificate given by halves, the TLS keys the driver cannot honour (see
// TLS.validate), an unknown driver, an endpoint that is not an HTTP URL (driver
// "aliyun") or host:port (driver "v5") or that driver "v2" has no use for, and what
// drivers "aliyun" and "v5" cannot do (aliyun: a name server domain, an instance name;
// both: RocketMQ's message trace).
func (s Settings) Validate() []FieldError {
	var errs []FieldError
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	if !IsEmbedded(s.NameServers) {
		for i, ns := range s.NameServers {
			if _, port, err := net.SplitHostPort(ns); err != nil || port == "" {
				fail(fmt.Sprintf("name_servers[%d]", i), "%q is not host:port or \"embedded\"", ns)
			}
		}
	}
	if d := s.NameServerDomain; d != "" {
		if u, err := url.Parse(d); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail("name_server_domain", "%q is not an http:// or https:// URL", d)
		}
		if !IsEmbedded(s.NameServers) {
			fail("name_server_domain", "name_servers and name_server_domain exclude each other: give the name servers or the URL that lists them")
		}
	}
	if s.Namespace != "" && !ValidName(s.Namespace) {
		fail("namespace", "%q has characters RocketMQ does not allow", s.Namespace)
	}
	if s.RetryCount < 0 {
		fail("retry_count", "must not be negative")
	}
	if s.SendTimeout < 0 {
		fail("send_timeout", "must not be negative")
	}
	if s.Codec != "" && encoding.GetCodec(s.Codec) == nil {
		fail("codec", "unknown codec %q (valid: json, proto, or a registered Kratos encoding)", s.Codec)
	}
	if _, err := parseClientLogLevel(s.ClientLogLevel); err != nil {
		fail("client_log_level", "%v", err)
	}
	if c := s.Credentials; c != nil && (c.AccessKey == "") != (c.SecretKey == "") {
		fail("credentials", "access_key and secret_key go together")
	}
	errs = append(errs, s.TLS.validate(s.Driver == "" || s.Driver == DriverV2)...)
	switch s.Driver {
	case "", DriverV2:
		if s.Endpoint != "" {
			fail("endpoint", "is the endpoint of driver %q or %q; driver %q dials name_servers", DriverAliyun, DriverV5, DriverV2)
		}
	case DriverV5:
		for i, ep := range s.ProxyEndpoints() {
			host, port, err := net.SplitHostPort(ep)
			if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n <= 0 || n > 65535 {
				fail("endpoint", "%q (endpoint %d) is not host:port", ep, i+1)
			}
		}
		if s.Trace != nil && s.Trace.MessageTrace {
			fail("trace.message_trace", "RocketMQ's message trace is not part of the gRPC API of driver %q", DriverV5)
		}
	case DriverAliyun:
		if u, err := url.Parse(s.Endpoint); s.Endpoint != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			fail("endpoint", "%q is not http://host[:port] or https://host[:port]", s.Endpoint)
		}
		if s.NameServerDomain != "" {
			fail("name_server_domain", "driver %q reaches its endpoint, not name servers", DriverAliyun)
		}
		if s.InstanceName != "" {
			fail("instance_name", "driver %q has no client instance", DriverAliyun)
		}
		if s.Trace != nil && s.Trace.MessageTrace {
			fail("trace.message_trace", "RocketMQ's message trace is not part of the HTTP API of driver %q", DriverAliyun)
		}
	default:
		fail("driver", "unknown driver %q (valid: %s, %s, %s)", s.Driver, DriverV2, DriverV5, DriverAliyun)
	}
	return errs
}

// validate refuses TLS keys that would have no effect: any set while TLS is off, a
// client certificate without its key (or the other way round), and with v2 (the
// rocketmq-client-go driver) the keys it cannot honour. Its TLS is one process-wide
// switch: it dials every name server and broker with its own
// tls.Config{InsecureSkipVerify: true}, so it neither verifies the broker's certificate
// (no CA, no server name) nor presents a client certificate. TLS with it is an
// encrypted connection to a broker it does not authenticate, which the configuration
// must say (insecure_skip_verify); keys that would promise more are refused rather
// than dropped. Drivers "aliyun" (Go's HTTP client) and "v5" (gRPC on Go's TLS)
// honour them all.
func (t *TLS) validate(v2 bool) []FieldError {
	if t == nil {
		return nil
	}
	var errs []FieldError
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{"tls." + field, fmt.Sprintf(format, args...)})
	}
	const client = "rocketmq-client-go/v2 (the driver) "
	if !t.Enabled {
		for _, k := range []struct {
			name string
			set  bool
		}{{"insecure_skip_verify", t.InsecureSkipVerify}, {"ca_file", t.CAFile != ""}, {"cert_file", t.CertFile != ""},
			{"key_file", t.KeyFile != ""}, {"server_name", t.ServerName != ""}} {
			if k.set {
				fail(k.name, "has no effect while tls.enabled is false")
			}
		}
		return errs
	}
	if !v2 {
		if (t.CertFile == "") != (t.KeyFile == "") {
			fail("cert_file", "cert_file and key_file go together")
		}
		return errs
	}
	if !t.InsecureSkipVerify {
		fail("insecure_skip_verify", client+"cannot verify the broker's certificate: it dials with InsecureSkipVerify. "+
			"Set insecure_skip_verify: true to accept an encrypted connection to a broker it does not authenticate, "+
			"or terminate TLS in front of the brokers")
	}
	if t.CAFile != "" {
		fail("ca_file", client+"cannot verify the broker's certificate, so it cannot use a CA file")
	}
	if t.ServerName != "" {
		fail("server_name", client+"cannot verify the broker's certificate, so it cannot check its name")
	}
	if t.CertFile != "" || t.KeyFile != "" {
		fail("cert_file", client+"cannot present a client certificate (mutual TLS)")
	}
	return errs
}

// checkResolved refuses what only shows once both sides are resolved: TLS towards the
// embedded broker, which serves plain TCP, driver "v5" on a cluster without an endpoint
// (the embedded broker gives its own), and a producer and a consumer that disagree on
// TLS (the driver's TLS switch is one for the whole process).
func checkResolved(p, c Settings) error {
	var errs []error
	for _, side := range []struct {
		name string
		s    Settings
	}{{"producer", p}, {"consumer", c}} {
		if side.s.TLS.enabled() && side.s.UsesEmbedded() {
			errs = append(errs, fmt.Errorf("%s tls.enabled: the embedded broker serves plain TCP; TLS needs name_servers of a cluster that serves it", side.name))
		}
		if side.s.Driver == DriverV5 && side.s.Endpoint == "" && !side.s.UsesEmbedded() {
			errs = append(errs, fmt.Errorf("%s %w", side.name, FieldError{"endpoint",
				"driver v5 needs the RocketMQ 5 proxies' gRPC endpoints (host:8081) when name_servers names a cluster"}))
		}
	}
	if p.TLS.enabled() != c.TLS.enabled() && p.DriverType() == rmq.DriverTypeV2 && c.DriverType() == rmq.DriverTypeV2 {
		errs = append(errs, errors.New("tls.enabled: the producer and the consumer must both use TLS or neither (rocketmq-client-go/v2's TLS switch is process-wide)"))
	}
	return errors.Join(errs...)
}

func (t *TLS) enabled() bool { return t != nil && t.Enabled }

// Validate reports every setting of s that cannot work: a missing or invalid topic, an
// invalid group, both a tag and an SQL filter, a negative redelivery count, a
// concurrency outside 0..1000.
func (s Subscription) Validate() []FieldError {
	var errs []FieldError
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	switch {
	case s.Topic == "":
		fail("topic", "required")
	case !ValidName(s.Topic):
		fail("topic", "%q is not a valid RocketMQ topic name", s.Topic)
	}
	if s.Group != "" && !ValidName(s.Group) {
		fail("group", "%q is not a valid RocketMQ group name", s.Group)
	}
	if s.TagExpression != "" && s.SQLExpression != "" {
		fail("tag_expression", "tag_expression and sql_expression exclude each other")
	}
	if s.MaxReconsumeTimes < 0 {
		fail("max_reconsume_times", "must not be negative")
	}
	if s.Concurrency < 0 || s.Concurrency > 1000 {
		fail("concurrency", "%d is outside 0..1000", s.Concurrency)
	}
	return errs
}

// joinFields returns the errors as one, each prefixed with side.
func joinFields(side string, errs []FieldError) error {
	var all []error
	for _, e := range errs {
		all = append(all, fmt.Errorf("%s %w", side, e))
	}
	return errors.Join(all...)
}
