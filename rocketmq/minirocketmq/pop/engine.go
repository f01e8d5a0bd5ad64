package pop

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/clock"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Host is what the engine needs from the broker around it. The engine calls
// ConsumerOffset and CommitOffset while holding its lock (they must not call
// back into the engine); DeadLetter without it.
type Host interface {
	// ConsumerOffset returns the group's committed offset of a queue, and
	// false when it has none.
	ConsumerOffset(group, topic string, queueID int32) (int64, bool)
	// CommitOffset records the group's offset of a queue: every message
	// below it has been consumed.
	CommitOffset(group, topic string, queueID int32, offset int64)
	// DeadLetter stores m, a message of topic consumed by group that will
	// not be delivered again, in the group's dead-letter queue. m is the
	// stored message as read back, with ReconsumeTimes set to the number of
	// deliveries it had. The call happens without the engine's lock: it may
	// store a message and so call Notify.
	DeadLetter(group string, m *message.Message) error
}

// Defaults.
const (
	// DefaultMaxPending bounds the pending entries (in flight, waiting,
	// ready) of one group in one queue, like the real broker's
	// popInflightMessageThreshold.
	DefaultMaxPending = 10000
	// DefaultRenewMax is how long an auto-renewed delivery is kept
	// invisible at most (the proxy's renewMaxTimeMillis, 3 h).
	DefaultRenewMax = 3 * time.Hour
	// MaxReceiveBatch is the most messages one Receive returns (the broker
	// refuses pops of more than 32).
	MaxReceiveBatch = 32
	// idleAfter is how long a queue state with nothing pending is kept.
	idleAfter = time.Minute
	// deadLetterRetry is when a failed dead-letter write is tried again.
	deadLetterRetry = time.Second
)

// Option configures an Engine.
type Option func(*config)

type config struct {
	clock      clock.Clock
	brokerName string
	maxPending int
	renewMax   time.Duration
	logf       func(format string, args ...any)
	panicked   func(p any, stack []byte)
}

// WithClock sets the clock of visible times (default: the system clock);
// tests pass a clock.Manual and Advance it.
func WithClock(c clock.Clock) Option {
	return func(cfg *config) {
		if c != nil {
			cfg.clock = c
		}
	}
}

// WithBrokerName sets the broker name receipt handles carry (default
// "broker-a"). It must not contain a space.
func WithBrokerName(name string) Option {
	return func(cfg *config) {
		if name != "" {
			cfg.brokerName = name
		}
	}
}

// WithMaxPending sets the most pending entries per group and queue
// (default DefaultMaxPending). A queue at the limit delivers only what is
// already pending until entries are acknowledged or dead-lettered.
func WithMaxPending(n int) Option {
	return func(cfg *config) {
		if n > 0 {
			cfg.maxPending = n
		}
	}
}

// WithRenewMax sets how long an auto-renewed delivery stays invisible at
// most while its owner is alive (default DefaultRenewMax); after that it
// expires like any other.
func WithRenewMax(d time.Duration) Option {
	return func(cfg *config) {
		if d > 0 {
			cfg.renewMax = d
		}
	}
}

// WithPanicHandler sets what the background goroutine does with a panic it
// recovered (of the store or the Host, or its own), with the panic's
// stack; it then carries on: a dead letter that panicked is tried again
// like one that failed. Default: log it with WithLogf.
func WithPanicHandler(f func(p any, stack []byte)) Option {
	return func(cfg *config) {
		if f != nil {
			cfg.panicked = f
		}
	}
}

// WithLogf sets where the engine logs what goes wrong in the background (a
// dead letter that cannot be written, a message that vanished from the
// store). Default: nowhere.
func WithLogf(f func(format string, args ...any)) Option {
	return func(cfg *config) {
		if f != nil {
			cfg.logf = f
		}
	}
}

// Engine is pop consumption over a store. Create it with New, Start it,
// Close it. All methods are safe for concurrent use.
type Engine struct {
	st   store.Store
	host Host
	cfg  config

	mu     sync.Mutex
	queues map[queueKey]*queueState
	owners map[string]map[*entry]struct{} // auto-renewed entries by owner
	timers entryHeap                      // in-flight entries by visible time
	seq    uint64                         // last delivery sequence number
	rot    uint32                         // rotates the first queue a receive reads
	closed bool

	waitMu   sync.Mutex
	waiters  map[string]map[*waiter]struct{} // by topic
	nWaiters atomic.Int32

	alarm *alarm
	done  chan struct{}
	wg    sync.WaitGroup
	start sync.Once
	stop  sync.Once
}

// ErrClosed is returned by calls after Close, and ends waiting receives.
var ErrClosed = errors.New("pop: engine closed")

// New returns an engine reading st and working through host. It does
// nothing in the background until Start.
func New(st store.Store, host Host, opts ...Option) *Engine {
	cfg := config{
		clock:      clock.System(),
		brokerName: "broker-a",
		maxPending: DefaultMaxPending,
		renewMax:   DefaultRenewMax,
		logf:       func(string, ...any) {},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.panicked == nil {
		logf := cfg.logf
		cfg.panicked = func(p any, stack []byte) { logf("pop: background work panicked: %v\n%s", p, stack) }
	}
	e := &Engine{
		st:      st,
		host:    host,
		cfg:     cfg,
		queues:  make(map[queueKey]*queueState),
		owners:  make(map[string]map[*entry]struct{}),
		waiters: make(map[string]map[*waiter]struct{}),
		done:    make(chan struct{}),
	}
	// Handles of an earlier engine (before a restart) must not match
	// deliveries of this one: start the sequence somewhere random.
	var b [8]byte
	_, _ = rand.Read(b[:])
	e.seq = binary.BigEndian.Uint64(b[:]) >> 12
	e.alarm = newAlarm(cfg.clock)
	return e
}

// Start runs the goroutine that expires deliveries when their visible time
// comes (and wakes the receives waiting for them) and drops idle queue
// state. Calling it more than once does nothing.
func (e *Engine) Start() {
	e.start.Do(func() {
		e.wg.Add(1)
		go e.run()
	})
}

// Close ends waiting receives with ErrClosed, stops the background
// goroutine and waits for it. Pending entries are dropped; the committed
// offsets say where consumption resumes.
func (e *Engine) Close() {
	e.stop.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		close(e.done)
		e.wg.Wait()
		e.alarm.stop()
	})
}

// run is the background goroutine: expiry on the Clock, idle state on real
// time.
func (e *Engine) run() {
	defer e.wg.Done()
	sweep := time.NewTicker(idleAfter / 2)
	defer sweep.Stop()
	for {
		e.alarm.arm(e.expire())
		select {
		case <-e.alarm.wake:
		case <-sweep.C:
			e.dropIdle(time.Now())
		case <-e.done:
			return
		}
	}
}

// expire is one round of the background goroutine: expiry and the work it
// found; it returns when the next round is due (zero: none). A panic is
// recovered and handed to WithPanicHandler (the lock is released by its
// deferred unlock); the sweep then brings the next round.
func (e *Engine) expire() (next time.Time) {
	defer func() {
		if p := recover(); p != nil {
			e.cfg.panicked(p, debug.Stack())
		}
	}()
	work, next := func() (work, time.Time) {
		e.mu.Lock()
		defer e.mu.Unlock()
		w := e.expireLocked(e.cfg.clock.Now())
		return w, e.timers.next()
	}()
	e.finish(work)
	return next
}

// dropIdle forgets queue states with nothing pending, unused since
// idleAfter; their offsets are committed, so a later receive rebuilds them.
func (e *Engine) dropIdle(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, q := range e.queues {
		if len(q.pending) == 0 && now.Sub(q.lastUsed) > idleAfter {
			delete(e.queues, k)
		}
	}
}

// nextSeq returns a new delivery sequence number. Call with e.mu held.
func (e *Engine) nextSeq() uint64 {
	e.seq++
	return e.seq
}

// alarm keeps one AfterFunc armed on a Clock and signals wake when it
// fires; it is used by the background goroutine only.
type alarm struct {
	clock clock.Clock
	wake  chan struct{}
	t     clock.Timer
	at    time.Time
}

func newAlarm(c clock.Clock) *alarm { return &alarm{clock: c, wake: make(chan struct{}, 1)} }

func (a *alarm) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// arm makes the alarm fire at at (zero: never), replacing what was armed.
func (a *alarm) arm(at time.Time) {
	if a.t != nil && at.Equal(a.at) {
		return
	}
	a.stop()
	if at.IsZero() {
		return
	}
	d := at.Sub(a.clock.Now())
	if d <= 0 {
		a.signal()
		return
	}
	a.at = at
	a.t = a.clock.AfterFunc(d, a.signal)
}

func (a *alarm) stop() {
	if a.t != nil {
		a.t.Stop()
		a.t = nil
	}
	a.at = time.Time{}
}
