package conf

import (
	"errors"
	"fmt"
	"time"

	"github.com/kratos-rocketmq/rocketmq/applog"
	"github.com/kratos-rocketmq/rocketmq/cluster"
)

// Validate checks the values that the schema alone cannot: allowed words, addresses,
// pairs of keys that go together. Every error names its key.
func (bc *Bootstrap) Validate() error {
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config key %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if err := new(applog.Level).Set(bc.GetApp().GetLog().GetLevel()); err != nil {
		fail("app.log.level", "%v", err)
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
	validateRocketMQ(bc.GetData().GetRocketmq(), fail)
	validateSubscriptions(bc.GetServer().GetRocketmq(), fail)
	return errors.Join(errs...)
}

// validateRocketMQ checks the connection by the library's rules (cluster.Settings.
// Validate) and the publisher's names.
func validateRocketMQ(r *RocketMQ, fail func(key, format string, args ...any)) {
	for _, e := range r.ProducerSettings().Validate() {
		field := e.Field
		if field == "retry_count" || field == "send_timeout" {
			field = "producer." + field
		}
		fail("data.rocketmq."+field, "%s", e.Problem)
	}
	if t := r.GetProducer().GetTopic(); !cluster.ValidName(t) {
		fail("data.rocketmq.producer.topic", "%q is not a valid RocketMQ topic name", t)
	}
	if g := r.GetProducer().GetGroup(); !cluster.ValidName(g) {
		fail("data.rocketmq.producer.group", "%q is not a valid RocketMQ group name", g)
	}
}

// validateSubscriptions checks the subscriptions by the library's rules
// (cluster.Subscription.Validate) and what only this service's schema has.
func validateSubscriptions(r *RocketMQServer, fail func(key, format string, args ...any)) {
	if p := r.GetGroupPrefix(); !cluster.ValidName(p) {
		fail("server.rocketmq.group_prefix", "%q is not a valid start of a RocketMQ group name", p)
	}
	for i, s := range r.GetSubscriptions() {
		sk := fmt.Sprintf("server.rocketmq.subscriptions[%d]", i)
		if s.GetHandler() == "" {
			fail(sk+".handler", "required (the handler in internal/service/events.go that gets the messages)")
		}
		for _, e := range s.Cluster().Validate() {
			fail(sk+"."+e.Field, "%s", e.Problem)
		}
		if s.GetConsumeFrom() == ConsumeFrom_TIMESTAMP {
			if _, err := time.Parse(time.RFC3339, s.GetConsumeTimestamp()); err != nil {
				fail(sk+".consume_timestamp", "consume_from TIMESTAMP needs an RFC 3339 time, got %q", s.GetConsumeTimestamp())
			}
		} else if s.GetConsumeTimestamp() != "" {
			fail(sk+".consume_timestamp", "has no effect unless consume_from is TIMESTAMP")
		}
	}
}
