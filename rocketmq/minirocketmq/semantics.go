package minirocketmq

import "time"

// semantics holds what the broker keeps for retries and dead letters,
// delay levels, transactions and orderly consumption, beyond the core's
// tables. Retries and dead letters need no state of their own: they are
// messages in %RETRY% / %DLQ% topics, parked in SCHEDULE_TOPIC_XXXX while
// they wait for their back-off.
type semantics struct {
	sched *scheduler    // delay.go: delayed messages
	tx    *transactions // transactions.go: half messages and their check-back
	locks *lockTable    // locks.go: orderly consumers' queue locks
}

func (b *Broker) initSemantics() {
	b.sem = semantics{
		sched: newScheduler(b),
		tx:    newTransactions(b),
		locks: newLockTable(b.cfg.sem.lockExpiry, b.notifyConsumerIDsChanged),
	}
}

// recoverSemantics rebuilds what lives in the store (pending transactions)
// before the broker serves anyone; with the in-memory store there is
// nothing to find.
func (b *Broker) recoverSemantics() error { return b.sem.tx.recover() }

// startSemantics starts the two time-driven goroutines; they end with
// b.done and are counted in b.wg.
func (b *Broker) startSemantics() {
	b.wg.Add(2)
	go b.sem.sched.run()
	go b.sem.tx.run()
}

// stopSemantics disarms what is not a goroutine of the broker's wait
// group: the orderly locks' expiry timers (Close).
func (b *Broker) stopSemantics() { b.sem.locks.stop() }

// clockTimer is the alarm of a goroutine that sleeps until its next due
// time on the broker's Clock: it keeps one AfterFunc armed and signals wake
// when it fires. It is used by one goroutine only (the one that sleeps).
type clockTimer struct {
	clock Clock
	wake  chan struct{} // capacity 1; also signalled by whoever has new work
	t     Timer
	at    time.Time
}

func newClockTimer(clock Clock) *clockTimer {
	return &clockTimer{clock: clock, wake: make(chan struct{}, 1)}
}

// signal wakes the goroutine; it never blocks.
func (ct *clockTimer) signal() {
	select {
	case ct.wake <- struct{}{}:
	default:
	}
}

// arm makes the timer fire at at, replacing what was armed; a zero at
// disarms it. A time already past signals at once (a ManualClock would only
// fire it at its next Advance).
func (ct *clockTimer) arm(at time.Time) {
	if ct.t != nil && at.Equal(ct.at) {
		return
	}
	ct.stop()
	if at.IsZero() {
		return
	}
	d := at.Sub(ct.clock.Now())
	if d <= 0 {
		ct.signal()
		return
	}
	ct.at = at
	ct.t = ct.clock.AfterFunc(d, ct.signal)
}

func (ct *clockTimer) stop() {
	if ct.t != nil {
		ct.t.Stop()
		ct.t = nil
	}
	ct.at = time.Time{}
}
