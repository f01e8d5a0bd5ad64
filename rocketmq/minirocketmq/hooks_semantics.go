package minirocketmq

import (
	"errors"
	"fmt"
)

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

// SubscriptionGroup returns a copy of a consumer group's broker-side
// settings (created on the group's first heartbeat).
func (b *Broker) SubscriptionGroup(group string) (SubscriptionGroupConfig, bool) {
	if gc := b.groups.get(group); gc != nil {
		return *gc, true
	}
	return SubscriptionGroupConfig{}, false
}

// UpdateSubscriptionGroup creates or replaces a consumer group's settings,
// as UPDATE_AND_CREATE_SUBSCRIPTIONGROUP would: RetryMaxTimes limits the
// redeliveries of clients that send no maxReconsumeTimes of their own,
// RetryQueueNums sizes the retry topic.
func (b *Broker) UpdateSubscriptionGroup(cfg SubscriptionGroupConfig) error {
	if cfg.GroupName == "" {
		return errors.New("minirocketmq: update subscription group: no group name")
	}
	if cfg.RetryQueueNums < 0 || cfg.RetryQueueNums > MaxQueueNums {
		return fmt.Errorf("minirocketmq: update subscription group %s: retryQueueNums %d, want 0 to %d", cfg.GroupName, cfg.RetryQueueNums, MaxQueueNums)
	}
	b.groups.put(&cfg)
	if err := b.persistConfigs(); err != nil {
		return fmt.Errorf("minirocketmq: update subscription group %s: %w", cfg.GroupName, err)
	}
	return nil
}
