package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// LOCK_BATCH_MQ (41): an orderly consumer locks the queues rebalancing gave
// it before it pulls them, and renews the locks every 20 s, so that one
// queue is consumed by one client at a time and per-queue order holds
// across a rebalance (locks.go).
//
// Honoured: body LockBatchRequestBody {consumerGroup, clientId,
// mqSet[{topic, brokerName, queueId}]}. Each queue is locked for clientId
// when it is free, its lock expired, or clientId already holds it. Answer:
// SUCCESS with body {"lockOKMQSet":[...]}, the queues locked (as sent). An
// undecodable body → SYSTEM_ERROR. Ignored: onlyThisBroker (there is one).
//
// Stricter than the real broker, so that requests cannot fill the lock
// table with made-up names: only a client that heartbeated as a member of
// the group locks anything (clients lock after their first heartbeat), and
// only queues of this broker that exist (topic known, queue id below its
// queue count); the others are left out of lockOKMQSet.

// messageQueue is MessageQueue as clients encode it.
type messageQueue struct {
	Topic      string `json:"topic"`
	BrokerName string `json:"brokerName"`
	QueueID    int    `json:"queueId"`
}

// lockBatchBody is LockBatchRequestBody and UnlockBatchRequestBody.
type lockBatchBody struct {
	ConsumerGroup string         `json:"consumerGroup"`
	ClientID      string         `json:"clientId"`
	MQSet         []messageQueue `json:"mqSet"`
}

// existingQueues returns the queues of mqs that are queues of this broker.
func (b *Broker) existingQueues(mqs []messageQueue) []messageQueue {
	out := mqs[:0:0]
	for _, mq := range mqs {
		if mq.BrokerName != b.cfg.brokerName || mq.QueueID < 0 {
			continue
		}
		if tc := b.topics.get(mq.Topic); tc != nil && mq.QueueID < tc.queueCount() {
			out = append(out, mq)
		}
	}
	return out
}

func (l *lockBatchBody) keys() []lockKey {
	keys := make([]lockKey, len(l.MQSet))
	for i, mq := range l.MQSet {
		keys[i] = lockKey{group: l.ConsumerGroup, topic: mq.Topic, brokerName: mq.BrokerName, queueID: mq.QueueID}
	}
	return keys
}

// handleLockBatchMQ serves code 41.
func (b *Broker) handleLockBatchMQ(c *conn, req *remoting.Command) (*remoting.Command, error) {
	var body lockBatchBody
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, "decode lock batch body: "+err.Error()), nil
	}
	out := struct {
		LockOKMQSet []messageQueue `json:"lockOKMQSet"`
	}{LockOKMQSet: make([]messageQueue, 0, len(body.MQSet))}
	if member, _ := b.clients.consumerConn(body.ConsumerGroup, body.ClientID); member != nil {
		body.MQSet = b.existingQueues(body.MQSet)
		locked := b.sem.locks.lockBatch(body.keys(), body.ClientID, b.nowReal())
		for i, ok := range locked {
			if ok {
				out.LockOKMQSet = append(out.LockOKMQSet, body.MQSet[i])
			}
		}
	}
	if len(out.LockOKMQSet) < len(body.MQSet) {
		b.log.Logf(LogLevelDebug, "lock for %s in group %s: %d of %d queues locked by others", body.ClientID, body.ConsumerGroup, len(body.MQSet)-len(out.LockOKMQSet), len(body.MQSet))
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	var err error
	if resp.Body, err = json.Marshal(out); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	return resp, nil
}
