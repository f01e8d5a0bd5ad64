package minirocketmq

import (
	"sync"
	"time"
)

// lockTable holds the queue locks of orderly consumers
// (RebalanceLockManager): per consumer group and message queue, the client
// id that holds it and when it last locked it. A lock not renewed within
// the expiry (WithLockExpiry, 60 s) is free again; the clients renew their
// locks every 20 s. As on the real broker a lock outlives its owner's
// connection until it expires, so a consumer that reconnects keeps its
// queues and no queue has two owners.
//
// A member that rebalancing gives a queue another member holds is refused
// until that member unlocks it or stops renewing. The Go client never
// unlocks on a rebalance (only on shutdown), so a queue changes hands when
// its lock expires. Better than the real broker: when a queue that was
// refused to someone is unlocked, or its lock expires, the group's members
// get NOTIFY_CONSUMER_IDS_CHANGED and rebalance at once, so the waiting
// member takes the queue then rather than at its next 20 s rebalance.
//
// Locks run on real time, like the clients' renewal; they are not
// persisted (a restarted broker starts unlocked, as the real one). Expired
// locks are pruned once per expiry period (the real broker keeps them).
//
// Owner: the mutex, never held during I/O; wake (the notification) is
// called after it is released. Expiry timers are time.AfterFuncs, stopped
// by stop.
type lockTable struct {
	expiry time.Duration
	wake   func(groups []string) // tells a group's members to rebalance

	mu        sync.Mutex
	m         map[lockKey]*queueLock
	waiting   map[lockKey]*time.Timer // refused to someone: fires when the lock expires
	stopped   bool
	lastPrune time.Time
}

// lockKey names a message queue of a group as the clients do (the broker
// name is part of it, as in the Java MessageQueue).
type lockKey struct {
	group, topic, brokerName string
	queueID                  int
}

type queueLock struct {
	clientID   string
	lastUpdate time.Time
}

func newLockTable(expiry time.Duration, wake func([]string)) *lockTable {
	return &lockTable{expiry: expiry, wake: wake, m: make(map[lockKey]*queueLock), waiting: make(map[lockKey]*time.Timer)}
}

// lockBatch locks every queue of keys that is free, expired or already held
// by clientID (renewing it) and returns which were locked (tryLockBatch).
func (t *lockTable) lockBatch(keys []lockKey, clientID string, now time.Time) []bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now)
	ok := make([]bool, len(keys))
	for i, k := range keys {
		l := t.m[k]
		if l == nil || l.clientID == clientID || now.Sub(l.lastUpdate) > t.expiry {
			if l == nil || l.clientID != clientID {
				t.stopWaitingLocked(k)
			}
			t.m[k] = &queueLock{clientID: clientID, lastUpdate: now}
			ok[i] = true
			continue
		}
		if t.waiting[k] == nil && !t.stopped {
			t.waiting[k] = time.AfterFunc(l.lastUpdate.Add(t.expiry).Sub(now)+time.Millisecond, func() { t.expired(k) })
		}
	}
	return ok
}

// pruneLocked forgets expired locks nobody waits for, at most once per
// expiry period, so the table holds the live locks and those that expired
// within the last two periods, not every queue ever locked.
func (t *lockTable) pruneLocked(now time.Time) {
	if now.Sub(t.lastPrune) < t.expiry {
		return
	}
	t.lastPrune = now
	for k, l := range t.m {
		if now.Sub(l.lastUpdate) > t.expiry && t.waiting[k] == nil {
			delete(t.m, k)
		}
	}
}

// size returns how many locks the table holds, expired ones not yet pruned
// included.
func (t *lockTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// expired runs when a lock someone waits for may have expired: if it has,
// the group rebalances; if its owner renewed it, it waits again.
func (t *lockTable) expired(k lockKey) {
	now := time.Now()
	t.mu.Lock()
	if t.stopped || t.waiting[k] == nil {
		t.mu.Unlock()
		return
	}
	if l := t.m[k]; l != nil && now.Sub(l.lastUpdate) <= t.expiry {
		t.waiting[k] = time.AfterFunc(l.lastUpdate.Add(t.expiry).Sub(now)+time.Millisecond, func() { t.expired(k) })
		t.mu.Unlock()
		return
	}
	delete(t.waiting, k)
	t.mu.Unlock()
	t.wake([]string{k.group})
}

func (t *lockTable) stopWaitingLocked(k lockKey) bool {
	tm := t.waiting[k]
	if tm == nil {
		return false
	}
	tm.Stop()
	delete(t.waiting, k)
	return true
}

// unlockBatch releases the queues of keys that clientID holds; when one of
// them was refused to another member, the group rebalances.
func (t *lockTable) unlockBatch(keys []lockKey, clientID string) {
	var wake []string
	t.mu.Lock()
	for _, k := range keys {
		if l := t.m[k]; l != nil && l.clientID == clientID {
			delete(t.m, k)
			if t.stopWaitingLocked(k) && (len(wake) == 0 || wake[len(wake)-1] != k.group) {
				wake = append(wake, k.group)
			}
		}
	}
	t.mu.Unlock()
	t.wake(wake)
}

// owner returns the client holding a queue, "" when it is free or expired.
func (t *lockTable) owner(k lockKey, now time.Time) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l := t.m[k]; l != nil && now.Sub(l.lastUpdate) <= t.expiry {
		return l.clientID
	}
	return ""
}

// stop disarms the expiry timers (Close).
func (t *lockTable) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	for k := range t.waiting {
		t.stopWaitingLocked(k)
	}
}
