package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
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
// server that is not host:port, a namespace RocketMQ does not allow, a negative retry
// count or send timeout, credentials or a client certificate given by halves, an
// unknown driver, an endpoint that is not an HTTP URL (driver "aliyun") or host:port
// (driver "v5") or that driver "v2" has no use for, and what drivers "aliyun" and "v5"
// cannot do (aliyun: a name server domain, an instance name; both: RocketMQ's message
// trace).
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
	if s.Namespace != "" && !ValidName(s.Namespace) {
		fail("namespace", "%q has characters RocketMQ does not allow", s.Namespace)
	}
	if s.RetryCount < 0 {
		fail("retry_count", "must not be negative")
	}
	if s.SendTimeout < 0 {
		fail("send_timeout", "must not be negative")
	}
	if c := s.Credentials; c != nil && (c.AccessKey == "") != (c.SecretKey == "") {
		fail("credentials", "access_key and secret_key go together")
	}
	if t := s.TLS; t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		fail("tls", "cert_file and key_file go together")
	}
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
