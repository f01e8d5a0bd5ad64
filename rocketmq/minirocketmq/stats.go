package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/store"

// Stats is a snapshot of the broker's counters: what its limits refused
// and what it holds. Read it with Broker.Stats (for metrics, a console, or
// a test that checks a bound).
type Stats struct {
	// Connections is the number of open connections of both listeners.
	Connections int
	// RefusedConnections counts connections closed at accept because
	// WithMaxConnections were open.
	RefusedConnections int64
	// HandlerPanics counts requests whose handling panicked (each was
	// answered SYSTEM_ERROR and its connection closed), and panics the
	// broker's own goroutines (the timer of timed messages, the pop
	// engine's expiry and dead letters) recovered from.
	HandlerPanics int64
	// HeldPulls is the number of long-polling pulls waiting for messages.
	HeldPulls int64
	// QueueLocks is the number of orderly queue locks in the table,
	// expired ones not yet pruned included.
	QueueLocks int
	// Store is the store's size and what retention removed (zero when the
	// store of WithStore does not implement store.Retainer).
	Store store.RetentionStats
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	conns := len(b.conns)
	b.mu.Unlock()
	st := Stats{
		Connections:        conns,
		RefusedConnections: b.refusedConns.Load(),
		HandlerPanics:      b.panics.Load(),
		HeldPulls:          b.holds.count.Load(),
		QueueLocks:         b.sem.locks.size(),
	}
	if r, ok := b.store.(store.Retainer); ok {
		st.Store = r.RetentionStats()
	}
	return st
}
