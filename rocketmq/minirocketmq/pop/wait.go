package pop

// waiter is a receive waiting for messages of a topic.
type waiter struct {
	ch chan struct{} // capacity 1
}

// addWaiter registers a waiting receive on topic; it must be registered
// before the receive looks for messages, so a message stored in between
// wakes it.
func (e *Engine) addWaiter(topic string) *waiter {
	w := &waiter{ch: make(chan struct{}, 1)}
	e.waitMu.Lock()
	m := e.waiters[topic]
	if m == nil {
		m = make(map[*waiter]struct{})
		e.waiters[topic] = m
	}
	m[w] = struct{}{}
	e.waitMu.Unlock()
	e.nWaiters.Add(1)
	return w
}

func (e *Engine) removeWaiter(topic string, w *waiter) {
	e.waitMu.Lock()
	if m := e.waiters[topic]; m != nil {
		delete(m, w)
		if len(m) == 0 {
			delete(e.waiters, topic)
		}
	}
	e.waitMu.Unlock()
	e.nWaiters.Add(-1)
}

// Notify wakes the receives waiting on topic: call it after storing a
// message there. It never blocks and costs an atomic load when nobody
// waits.
func (e *Engine) Notify(topic string) {
	if e.nWaiters.Load() == 0 {
		return
	}
	e.waitMu.Lock()
	defer e.waitMu.Unlock()
	for w := range e.waiters[topic] {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}

// Waiting reports whether a receive is waiting for messages of topic (for
// tests that must know a long poll has started).
func (e *Engine) Waiting(topic string) bool {
	e.waitMu.Lock()
	defer e.waitMu.Unlock()
	return len(e.waiters[topic]) > 0
}

// Watch returns a channel that receives a value whenever Notify(topic) is
// called, and the function that stops watching. Watch before looking at
// the store, so a message stored in between is not missed: it is how a
// long-polling reader other than Receive (a pull) waits.
func (e *Engine) Watch(topic string) (<-chan struct{}, func()) {
	w := e.addWaiter(topic)
	return w.ch, func() { e.removeWaiter(topic, w) }
}
