package conf

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kratos-rocketmq/rocketmq/cluster"
)

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

// validateRocketMQ checks one rocketmq section: its connection settings and
// subscriptions by the library's rules (cluster.Settings.Validate,
// cluster.Subscription.Validate), and what only this service's schema has.
func validateRocketMQ(key string, r *RocketMQ, fail func(key, format string, args ...any)) {
	if r == nil {
		return
	}
	for _, e := range r.Cluster().Validate() {
		fail(key+"."+e.Field, "%s", e.Problem)
	}
	if g := r.GetGroup(); g != "" && !cluster.ValidName(g) {
		fail(key+".group", "%q is not a valid RocketMQ group name", g)
	}
	if t := r.GetTopic(); t != "" && !cluster.ValidName(t) {
		fail(key+".topic", "%q is not a valid RocketMQ topic name", t)
	}
	switch r.GetCodec() {
	case "", "json", "proto":
	default:
		fail(key+".codec", "unknown codec %q (valid: json, proto)", r.GetCodec())
	}
	for i, s := range r.GetSubscriptions() {
		sk := fmt.Sprintf("%s.subscriptions[%d]", key, i)
		if s.GetHandler() == "" {
			fail(sk+".handler", "required (the handler in internal/service/events.go that gets the messages)")
		}
		for _, e := range s.Subscription("").Validate() {
			fail(sk+"."+e.Field, "%s", e.Problem)
		}
		if s.GetConsumeFrom() == ConsumeFrom_TIMESTAMP {
			if _, err := time.Parse(time.RFC3339, s.GetConsumeTimestamp()); err != nil {
				fail(sk+".consume_timestamp", "consume_from TIMESTAMP needs an RFC 3339 time, got %q", s.GetConsumeTimestamp())
			}
		}
	}
}
