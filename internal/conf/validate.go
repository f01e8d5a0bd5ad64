package conf

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/kratos-rocketmq/rocketmq/cluster"
)

// topicPattern is the topic and group name rule of RocketMQ 4.x (TopicValidator).
var topicPattern = regexp.MustCompile(`^[%|a-zA-Z0-9_-]+$`)

// Validate checks the values that the schema alone cannot: allowed words, addresses,
// pairs of keys that go together. Every error names its key.
func (bc *Bootstrap) Validate() error {
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config key %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if l := bc.GetApp().GetLog().GetLevel(); l != "" {
		switch strings.ToLower(l) {
		case "debug", "info", "warn", "error":
		default:
			fail("app.log.level", "unknown level %q (valid: debug, info, warn, error)", l)
		}
	}
	if d := bc.GetData().GetDatabase(); d != nil {
		switch d.GetDriver() {
		case "", "sqlite", "mysql", "postgres":
		default:
			fail("data.database.driver", "unknown driver %q (valid: sqlite, mysql, postgres)", d.GetDriver())
		}
		if d.GetMaxOpenConns() < 0 {
			fail("data.database.max_open_conns", "must not be negative")
		}
		if d.GetMaxIdleConns() < 0 {
			fail("data.database.max_idle_conns", "must not be negative")
		}
	}
	validateRocketMQ("server.rocketmq", bc.GetServer().GetRocketmq(), fail)
	validateRocketMQ("data.rocketmq", bc.GetData().GetRocketmq(), fail)
	return errors.Join(errs...)
}

func validateRocketMQ(key string, r *RocketMQ, fail func(key, format string, args ...any)) {
	if r == nil {
		return
	}
	for i, ns := range r.GetNameServers() {
		if cluster.IsEmbedded([]string{ns}) {
			continue
		}
		if _, port, err := net.SplitHostPort(ns); err != nil || port == "" {
			fail(fmt.Sprintf("%s.name_servers[%d]", key, i), "%q is not host:port or \"embedded\"", ns)
		}
	}
	if ns := r.GetNamespace(); ns != "" && !topicPattern.MatchString(ns) {
		fail(key+".namespace", "%q has characters RocketMQ does not allow", ns)
	}
	if g := r.GetGroup(); g != "" && !validName(g) {
		fail(key+".group", "%q is not a valid RocketMQ group name", g)
	}
	if t := r.GetTopic(); t != "" && !validName(t) {
		fail(key+".topic", "%q is not a valid RocketMQ topic name", t)
	}
	if r.GetRetryCount() < 0 {
		fail(key+".retry_count", "must not be negative")
	}
	switch r.GetCodec() {
	case "", "json", "proto":
	default:
		fail(key+".codec", "unknown codec %q (valid: json, proto)", r.GetCodec())
	}
	if c := r.GetCredentials(); c != nil && (c.GetAccessKey() == "") != (c.GetSecretKey() == "") {
		fail(key+".credentials", "access_key and secret_key go together")
	}
	if t := r.GetTls(); t != nil && (t.GetCertFile() == "") != (t.GetKeyFile() == "") {
		fail(key+".tls", "cert_file and key_file go together")
	}
	for i, s := range r.GetSubscriptions() {
		sk := fmt.Sprintf("%s.subscriptions[%d]", key, i)
		switch {
		case s.GetTopic() == "":
			fail(sk+".topic", "required")
		case !validName(s.GetTopic()):
			fail(sk+".topic", "%q is not a valid RocketMQ topic name", s.GetTopic())
		}
		if s.GetHandler() == "" {
			fail(sk+".handler", "required (the handler in internal/service/events.go that gets the messages)")
		}
		if g := s.GetGroup(); g != "" && !validName(g) {
			fail(sk+".group", "%q is not a valid RocketMQ group name", g)
		}
		if s.GetTagExpression() != "" && s.GetSqlExpression() != "" {
			fail(sk, "tag_expression and sql_expression exclude each other")
		}
		if s.GetMaxReconsumeTimes() < 0 {
			fail(sk+".max_reconsume_times", "must not be negative")
		}
		if c := s.GetConcurrency(); c < 0 || c > 1000 {
			fail(sk+".concurrency", "%d is outside 0..1000", c)
		}
		if s.GetConsumeFrom() == ConsumeFrom_TIMESTAMP {
			if _, err := time.Parse(time.RFC3339, s.GetConsumeTimestamp()); err != nil {
				fail(sk+".consume_timestamp", "consume_from TIMESTAMP needs an RFC 3339 time, got %q", s.GetConsumeTimestamp())
			}
		}
	}
}

func validName(s string) bool {
	return len(s) <= 127 && topicPattern.MatchString(s)
}
