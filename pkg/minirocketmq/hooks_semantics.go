package minirocketmq

// Test hooks and read-only views for retries, delays, transactions and
// orderly locks, in the spirit of hooks.go.

// ProducerIDs returns the client ids of a producer group's live members
// (the connections a transaction check-back may go to).
func (b *Broker) ProducerIDs(group string) []string { return b.clients.producerIDs(group) }

// PendingTransactions returns how many half messages are neither committed
// nor rolled back nor discarded yet.
func (b *Broker) PendingTransactions() int { return b.sem.tx.count() }

// QueueLockOwner returns the client id holding an orderly consumer group's
// lock on a queue of this broker, "" when the queue is not locked.
func (b *Broker) QueueLockOwner(group, topic string, queueID int) string {
	return b.sem.locks.owner(lockKey{group: group, topic: topic, brokerName: b.cfg.brokerName, queueID: queueID}, b.nowReal())
}
