package cluster

import (
	"errors"
	"fmt"
	"net"
	"regexp"
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

// Validate reports every setting of s that cannot work (Open refuses them): an unknown
// driver, a name server or proxy endpoint that is not host:port, a namespace RocketMQ
// does not allow, a negative retry count or send timeout, credentials or a client
// certificate given by halves, RocketMQ's message trace with driver v5.
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
	switch s.Driver {
	case "", DriverV2:
	case DriverV5:
		if s.Trace != nil && s.Trace.MessageTrace {
			fail("trace.message_trace", "RocketMQ's message trace is not part of the RocketMQ 5 gRPC API (driver v5)")
		}
	default:
		fail("driver", "%q: want %q (rocketmq-client-go, remoting) or %q (RocketMQ 5 gRPC proxy)", s.Driver, DriverV2, DriverV5)
	}
	for i, ep := range s.ProxyEndpoints {
		if _, port, err := net.SplitHostPort(ep); err != nil || port == "" {
			fail(fmt.Sprintf("proxy_endpoints[%d]", i), "%q is not host:port", ep)
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
