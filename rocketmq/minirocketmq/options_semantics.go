package minirocketmq

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults of the delivery semantics: delay levels, transactions, orderly
// locks. Each is the real RocketMQ 4.9 default.
const (
	// DefaultMessageDelayLevel is messageDelayLevel: the delays of levels
	// 1..18, as ParseDelayLevels reads them.
	DefaultMessageDelayLevel = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
	// DefaultTransactionCheckInterval is transactionCheckInterval: how
	// often an unresolved transaction is checked back with its producer.
	DefaultTransactionCheckInterval = 60 * time.Second
	// DefaultTransactionTimeout is transactionTimeOut: how old a half
	// message must be before its first check.
	DefaultTransactionTimeout = 6 * time.Second
	// DefaultTransactionCheckMax is transactionCheckMax: how many checks a
	// half message gets before it is discarded.
	DefaultTransactionCheckMax = 15
	// DefaultLockExpiry is how long an orderly consumer's queue lock lasts
	// without being renewed (rocketmq.broker.rebalance.lockMaxLiveTime).
	// The Go client renews its locks every 20 s.
	DefaultLockExpiry = 60 * time.Second
	// DefaultTimerMaxDelay is the 5.x timerMaxDelaySec (3 days): the
	// furthest ahead a timed message (TIMER_DELIVER_MS, TIMER_DELAY_SEC,
	// TIMER_DELAY_MS) may be due.
	DefaultTimerMaxDelay = 72 * time.Hour
)

// semanticsConfig holds the options of retry, delay, transactions and
// orderly locks (options_semantics.go), kept apart from the core options.
type semanticsConfig struct {
	delayLevels     []time.Duration
	txCheckInterval time.Duration
	txTimeout       time.Duration // 0: min(DefaultTransactionTimeout, txCheckInterval)
	txCheckMax      int
	lockExpiry      time.Duration
	timerMaxDelay   time.Duration
	err             error // first invalid option, reported by New
}

func defaultSemanticsConfig() semanticsConfig {
	levels, err := ParseDelayLevels(DefaultMessageDelayLevel)
	if err != nil {
		panic(err) // a constant: cannot happen
	}
	return semanticsConfig{
		delayLevels:     levels,
		txCheckInterval: DefaultTransactionCheckInterval,
		txCheckMax:      DefaultTransactionCheckMax,
		lockExpiry:      DefaultLockExpiry,
		timerMaxDelay:   DefaultTimerMaxDelay,
	}
}

func (s *semanticsConfig) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// transactionTimeout is the age of a half message at its first check.
func (s *semanticsConfig) transactionTimeout() time.Duration {
	if s.txTimeout > 0 {
		return s.txTimeout
	}
	return min(DefaultTransactionTimeout, s.txCheckInterval)
}

// WithDelayLevels sets the delay of each level, level 1 first, like the
// real broker's messageDelayLevel (default DefaultMessageDelayLevel, 18
// levels). A message's DELAY property picks a level; levels above the last
// one mean the last one. Retries use level 3 + reconsume times unless the
// consumer asks for another, so tests that exercise retries want short
// levels, e.g. WithDelayLevels(100*time.Millisecond, time.Second). New fails
// when the list is empty or holds a delay <= 0.
func WithDelayLevels(levels ...time.Duration) Option {
	return func(c *config) {
		if len(levels) == 0 {
			c.sem.fail(errors.New("minirocketmq: WithDelayLevels: no levels"))
			return
		}
		for i, d := range levels {
			if d <= 0 {
				c.sem.fail(fmt.Errorf("minirocketmq: WithDelayLevels: level %d is %v", i+1, d))
				return
			}
		}
		c.sem.delayLevels = append([]time.Duration(nil), levels...)
	}
}

// ParseDelayLevels reads a messageDelayLevel string: delays separated by
// spaces, each a whole number followed by s, m, h or d as in the real
// broker's configuration ("1s 5s 10s 30s 1m ..."), or any Go duration
// ("250ms").
func ParseDelayLevels(spec string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Fields(spec) {
		d, err := parseDelayLevel(f)
		if err != nil {
			return nil, fmt.Errorf("delay level %d %q: %w", len(out)+1, f, err)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errors.New("no delay levels")
	}
	return out, nil
}

func parseDelayLevel(f string) (time.Duration, error) {
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}
	if u, ok := units[f[len(f)-1]]; ok {
		if n, err := strconv.ParseInt(f[:len(f)-1], 10, 64); err == nil {
			if n <= 0 {
				return 0, errors.New("must be positive")
			}
			return time.Duration(n) * u, nil
		}
	}
	d, err := time.ParseDuration(f)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}

// WithTransactionCheckInterval sets how often the broker asks a producer
// about a transaction it has neither committed nor rolled back (the check
// back, CHECK_TRANSACTION_STATE). Default 60 s. Unless
// WithTransactionTimeout says otherwise, the first check comes
// min(6 s, interval) after the half message was stored, so a short interval
// also gives a short first check.
func WithTransactionCheckInterval(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.sem.fail(fmt.Errorf("minirocketmq: WithTransactionCheckInterval(%v): must be positive", d))
			return
		}
		c.sem.txCheckInterval = d
	}
}

// WithTimerMaxDelay sets how far ahead a timed message may be due
// (timerMaxDelaySec; default 3 days). A remoting send due later is refused
// with MESSAGE_ILLEGAL and the real broker's "timer message illegal"
// remark; a gRPC delivery timestamp keeps its own limit of a day
// (ILLEGAL_DELIVERY_TIME) and an HTTP __STARTDELIVERTIME its 40 days
// (InvalidArgument), each capped by this one. The timer keeps every parked
// message from the oldest undelivered one on, so this bounds what a far
// timed message can hold back.
func WithTimerMaxDelay(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.sem.fail(fmt.Errorf("minirocketmq: WithTimerMaxDelay(%v): must be positive", d))
			return
		}
		c.sem.timerMaxDelay = d
	}
}

// WithTransactionTimeout sets how old an unresolved half message must be
// before its first check (transactionTimeOut; default min(6 s, check
// interval)). A message's CHECK_IMMUNITY_TIME_IN_SECONDS property can only
// lengthen it.
func WithTransactionTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.sem.fail(fmt.Errorf("minirocketmq: WithTransactionTimeout(%v): must be positive", d))
			return
		}
		c.sem.txTimeout = d
	}
}

// WithTransactionCheckMax sets how many checks an unresolved transaction
// gets (default 15); one check interval after the last one it is discarded
// with a log line and kept in TRANS_CHECK_MAX_TIME_TOPIC, as 4.9.4 does.
func WithTransactionCheckMax(n int) Option {
	return func(c *config) {
		if n <= 0 {
			c.sem.fail(fmt.Errorf("minirocketmq: WithTransactionCheckMax(%d): must be positive", n))
			return
		}
		c.sem.txCheckMax = n
	}
}

// WithLockExpiry sets how long an orderly consumer's lock on a queue
// (LOCK_BATCH_MQ) lasts without renewal before another member may take
// the queue. Default 60 s; it runs on real time, like the clients' renewal.
func WithLockExpiry(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.sem.fail(fmt.Errorf("minirocketmq: WithLockExpiry(%v): must be positive", d))
			return
		}
		c.sem.lockExpiry = d
	}
}
