package minirocketmq

import (
	"sync"
	"time"
)

// lockTable holds the queue locks of orderly consumers
// (RebalanceLockManager): per consumer group and message queue, the client
// id that holds it and when it last locked it. A lock not renewed within
// the expiry (WithLockExpiry, 60 s) is free again; the Go client renews
// its locks every 20 s and unlocks on shutdown. As on the real broker a
// lock outlives its owner's connection until it expires, so a consumer that
// reconnects keeps its queues and no queue has two owners.
//
// Locks run on real time, like the clients' renewal; they are not
// persisted (a restarted broker starts unlocked, as the real one).
//
// Owner: the mutex, never held during I/O.
type lockTable struct {
	expiry time.Duration
	mu     sync.Mutex
	m      map[lockKey]*queueLock
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

func newLockTable(expiry time.Duration) *lockTable {
	return &lockTable{expiry: expiry, m: make(map[lockKey]*queueLock)}
}

// lockBatch locks every queue of keys that is free, expired or already held
// by clientID (renewing it) and returns which were locked (tryLockBatch).
func (t *lockTable) lockBatch(keys []lockKey, clientID string, now time.Time) []bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	ok := make([]bool, len(keys))
	for i, k := range keys {
		l := t.m[k]
		if l == nil || l.clientID == clientID || now.Sub(l.lastUpdate) > t.expiry {
			t.m[k] = &queueLock{clientID: clientID, lastUpdate: now}
			ok[i] = true
		}
	}
	return ok
}

// unlockBatch releases the queues of keys that clientID holds.
func (t *lockTable) unlockBatch(keys []lockKey, clientID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if l := t.m[k]; l != nil && l.clientID == clientID {
			delete(t.m, k)
		}
	}
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
